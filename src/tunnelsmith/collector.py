"""Problem collection shared by the loader's host and tunnel parsers.

Loading reports every problem of a run at once; this module holds the collector that gathers
them, the unknown-key check and Nornir-style mapping merge both parsers need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunnelsmith.errors import Problem


class Collector:
    """Accumulates problems while parsing so one run reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, obj: str, field: str, message: str) -> None:
        self.problems.append(Problem(file, obj, field, message))

    def get(self, file: str, obj: str, field: str, fn: Callable[[], Any], default: Any = None) -> Any:
        try:
            return fn()
        except (ValueError, TypeError, KeyError) as exc:
            self.add(file, obj, field, _why(exc))
            return default


def _why(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, KeyError) and len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]  # KeyError's str() is the repr of its argument
    return text or exc.__class__.__name__


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def unknown_fields(f: str, obj: str, prefix: str, raw: Any, known: set[str], col: Collector) -> None:
    """A misspelt key would silently fall back to a default: report it instead."""
    if not isinstance(raw, dict):
        return
    for k in sorted(set(map(str, raw)) - known):
        col.add(f, obj, f"{prefix}.{k}", f"unknown field; known: {', '.join(sorted(known))}")
