"""Driver kinds: the table `platform.yaml` `driver:` names (`cli`, `files`), filled by a decorator.

This module imports nothing of tunnelsmith, so a driver module can register itself without
importing the registry, and the registry can import driver modules lazily without a cycle:

    @register("cli")
    class CliDriver(PlatformDriver): ...

`tunnelsmith.platforms.registry.driver(platform)` imports the built-in driver modules (and any
module an installed package lists under the `tunnelsmith.drivers` entry point group) on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tunnelsmith.platforms.base import PlatformDriver

D = TypeVar("D", bound="type[PlatformDriver]")

DRIVERS: dict[str, type[PlatformDriver]] = {}


def register(kind: str) -> Callable[[D], D]:
    """Class decorator: the driver for platforms whose data says `driver: <kind>`."""

    def deco(cls: D) -> D:
        cls.kind = kind
        DRIVERS[kind] = cls
        return cls

    return deco
