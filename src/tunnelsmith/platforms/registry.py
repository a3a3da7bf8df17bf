"""Drivers by kind (`files`, `cli`); a platform's data names its kind.

Driver modules register themselves with `tunnelsmith.platforms.kinds.register`; this module
imports them lazily on first use (the built-in ones, then any module listed under the
`tunnelsmith.drivers` entry point group), so neither side imports the other at import time.
"""

from __future__ import annotations

import importlib
import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.kinds import DRIVERS, register

if TYPE_CHECKING:
    from tunnelsmith.platforms.base import PlatformDriver

__all__ = ["BUILTIN", "DRIVERS", "driver", "register"]

BUILTIN = ("tunnelsmith.platforms.cli", "tunnelsmith.platforms.files")
ENTRY_POINT_GROUP = "tunnelsmith.drivers"

_loaded = False
_lock = threading.Lock()


def _load_builtin() -> None:
    """Import the driver modules once (importing registers them); Nornir runs tasks in threads, so guard it."""
    global _loaded
    with _lock:
        if not _loaded:
            for module in BUILTIN:
                importlib.import_module(module)
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                ep.load()
            _loaded = True


def driver(platform: str, options: dict[str, Any] | None = None) -> PlatformDriver:
    if not _loaded:
        _load_builtin()
    spec = pspec.load(platform)
    try:
        cls = DRIVERS[spec.driver]
    except KeyError:
        raise KeyError(f"platform {platform}: no driver of kind {spec.driver!r}") from None
    return cls(spec, options)
