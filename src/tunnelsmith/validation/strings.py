"""Checks on text that reaches configuration lines: control characters and case-colliding names.

`control` is also used by the secrets checks, which test resolved values the same way.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from tunnelsmith.model import Device, Inventory
from tunnelsmith.validation.reporting import Report

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every string inside a model object, dict or sequence."""
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
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
    m = CONTROL.search(text)
    if not m:
        return None
    names = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte", "\t": "a tab"}
    return names.get(m.group(0), f"control character U+{ord(m.group(0)):04X}")


def check_strings(inv: Inventory, r: Report) -> None:
    """A control character in any string would split or corrupt a configuration line."""
    for name, cloud in inv.clouds.items():
        for path, text in walk({"name": cloud.name, "data": cloud.data}, ""):
            what = control(text)
            if what:
                r.host(name, path, f"contains {what}; it would break the configuration line")
    for name, device in inv.devices.items():
        for path, text in walk(device, ""):
            what = control(text)
            if what:
                r.host(name, _device_field(device, path), f"contains {what}; it would break the configuration line")
    for t in inv.tunnels.values():
        for path, text in walk(t, ""):
            what = control(text)
            if what and path != "source_file":
                r.tunnel(t, _tunnel_field(path), f"contains {what}; it would break the configuration line")


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
