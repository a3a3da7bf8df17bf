"""Drivers register by kind (`files`, `cli`); a platform's data names its kind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.base import PlatformDriver

DRIVERS: dict[str, type[PlatformDriver]] = {}
_loaded = False
_lock = threading.Lock()


def register(kind: str) -> Callable[[type[PlatformDriver]], type[PlatformDriver]]:
    def deco(cls: type[PlatformDriver]) -> type[PlatformDriver]:
        cls.kind = kind
        DRIVERS[kind] = cls
        return cls

    return deco


def _load_builtin() -> None:
    """Import the built-in driver modules once; Nornir runs tasks in threads, so guard it."""
    global _loaded
    with _lock:
        if not _loaded:
            from tunnelsmith.platforms import cli, files  # noqa: F401  (importing registers them)

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
