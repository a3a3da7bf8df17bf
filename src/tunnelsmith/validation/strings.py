"""Checks on text that reaches configuration lines: invisible or line-breaking characters, names.

`control` is also used by the secrets checks and the render guard, which test values the same way.
A device CLI, a diff an operator approves and `str.splitlines()` all see characters a YAML file
hides: C0/C1 controls, Unicode line and paragraph separators, bidi overrides (U+202E shows text
reversed) and zero-width characters. None of them belongs in a configuration value, so all are
refused everywhere, on every platform.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from tunnelsmith.model import Device, Inventory
from tunnelsmith.validation.reporting import Report

CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # ASCII controls; `control` also refuses the Unicode ones
# Unicode categories never allowed: controls (C0, C1 with U+0085), format characters (bidi
# embeddings, overrides and isolates, U+200B-U+200F, U+2060, U+FEFF), line and paragraph
# separators, surrogates, private use and unassigned code points.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Longest string any value may be (an identity or option becomes part of one CLI line).
MAX_VALUE_LENGTH = 1024
_NAMES = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte", "\t": "a tab"}


def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every string inside a model object, dict or sequence."""
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif hasattr(type(value), "model_fields"):  # a pydantic model
        for name in type(value).model_fields:
            yield from walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                yield p, k
            yield from walk(v, p)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


def control(text: str) -> str | None:
    """What refused character `text` holds first (\"a newline\", \"line separator U+2028\"), or None."""
    m = CONTROL.search(text)
    if m:
        return _NAMES.get(m.group(0), f"control character U+{ord(m.group(0)):04X}")
    if text.isascii():
        return None
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in REFUSED_CATEGORIES or (cat == "Zs" and ch != " "):
            return f"{_KINDS.get(cat, 'invisible character')} U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')})"
    return None


_KINDS = {"Cc": "control character", "Cf": "invisible format character", "Zl": "line separator",
          "Zp": "paragraph separator", "Zs": "non-ASCII blank", "Cs": "surrogate", "Co": "private-use character",
          "Cn": "unassigned character"}


def too_long(text: str, limit: int = MAX_VALUE_LENGTH) -> str | None:
    """Why `text` is too long for one configuration value, or None."""
    return f"is {len(text)} characters long; at most {limit} are allowed" if len(text) > limit else None


def check_strings(inv: Inventory, r: Report) -> None:
    """A control character in any string would split or corrupt a configuration line."""
    for name, cloud in inv.clouds.items():
        for path, text in walk({"name": cloud.name, "data": cloud.data}, ""):
            for why in _string_problems(text):
                r.host(name, path, why)
    for name, device in inv.devices.items():
        for path, text in walk(device, ""):
            for why in _string_problems(text):
                r.host(name, _device_field(device, path), why)
    for t in inv.tunnels.values():
        for path, text in walk(t, ""):
            if path != "source_file":
                for why in _string_problems(text):
                    r.tunnel(t, _tunnel_field(path), why)


def _string_problems(text: str) -> list[str]:
    out = []
    what = control(text)
    if what:
        out.append(f"contains {what}; it would break the configuration line or hide what it says")
    long = too_long(text)
    if long:
        out.append(long)
    return out


def _device_field(device: Device, path: str) -> str:
    """The inventory field a Device attribute came from."""
    if path in ("name", "platform", "hostname", "username"):
        return path
    if path.startswith("options."):
        return f"data.{device.platform}.{path[len('options.'):]}"
    if path.startswith("password."):
        return f"data.password_ref.{path[len('password.'):]}"
    return f"data.{path}"


def _tunnel_field(path: str) -> str:
    return {"local_id": "identities.local", "remote_id": "identities.remote"}.get(path, path)


# --- names -----------------------------------------------------------------------------------
def check_names(inv: Inventory, r: Report) -> None:
    """Names that differ only in case collide on case-insensitive CLIs and in DNS."""
    for kind, names in (("host", [*inv.clouds, *inv.devices]), ("tunnel", list(inv.tunnels))):
        by_fold: dict[str, list[str]] = defaultdict(list)
        for n in names:
            by_fold[n.casefold()].append(n)
        for group in by_fold.values():
            for n in group[1:]:
                msg = f"duplicate {kind} name: {n!r} and {group[0]!r} differ only in letter case"
                if kind == "host":
                    r.host(n, "name", msg)
                else:
                    r.tunnel(inv.tunnels[n], "name", msg)
