"""Drivers register by kind (`files`, `cli`); a platform's data names its kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.base import PlatformDriver

DRIVERS: dict[str, type[PlatformDriver]] = {}


def register(kind: str) -> Callable[[type[PlatformDriver]], type[PlatformDriver]]:
    def deco(cls: type[PlatformDriver]) -> type[PlatformDriver]:
        cls.kind = kind
        DRIVERS[kind] = cls
        return cls

    return deco


def _load_builtin() -> None:
    # Importing the modules registers their drivers.
    from tunnelsmith.platforms import cli, files  # noqa: F401


def driver(platform: str, options: dict[str, Any] | None = None) -> PlatformDriver:
    if not DRIVERS:
        _load_builtin()
    spec = pspec.load(platform)
    try:
        cls = DRIVERS[spec.driver]
    except KeyError:
        raise KeyError(f"platform {platform}: no driver of kind {spec.driver!r}") from None
    return cls(spec, options)
