"""Parsers for single inventory values (prefixes, addresses, numbers, names, DH groups, secret refs).

They exist apart from the loader so that host and tunnel parsing share one definition of what a
valid value is; each raises ValueError with a message that reaches the user unchanged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from tunnelsmith.model import SecretRef


def net(value: Any) -> ipaddress.IPv4Network:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IPv4 prefix such as 10.0.0.0/24")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 network: {exc}") from None


def addr(value: Any) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address") from None


def iface(value: Any) -> ipaddress.IPv4Interface:
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"{value!r} must be an address with prefix length, e.g. 169.254.10.2/30")
    try:
        return ipaddress.IPv4Interface(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address/prefix") from None


def single(value: Any, what: str) -> Any:
    """One value per parameter (seed 001, 4.1 and 4.5): lists or comma lists are refused."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return value[0]
        raise ValueError(f"{what} has {len(value)} values {list(value)}; the cloud accepts exactly one")
    if isinstance(value, str) and ("," in value or " " in value.strip()):
        raise ValueError(f"{what} {value!r} looks like several values; give exactly one")
    return value


def integer(value: Any, what: str, lo: int | None = None, hi: int | None = None) -> int:
    value = single(value, what)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValueError(f"{what} must be a whole number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{what} {value} is out of range [{lo}, {hi}]")
    return value


def keyword(value: Any, what: str) -> str:
    value = single(value, what)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a name, not {value!r}")
    return value.strip().lower()


def boolean(value: Any, what: str) -> bool:
    """YAML booleans only: bool("no") is True, so strings are refused rather than guessed."""
    value = single(value, what)
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, not {value!r}")
    return value


def one_string(value: Any, what: str) -> str:
    """One free string (an IKE identity, an interface name): lists and mappings are refused."""
    value = single(value, what)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise ValueError(f"{what} must be one non-empty string, not {value!r}")
    return str(value)



def dh_group(value: Any, what: str) -> int:
    value = single(value, what)
    if isinstance(value, str):
        v = value.lower().replace("dh", "").replace("group", "").replace(" ", "").replace("-", "")
        if v.isdigit():
            value = int(v)
    return integer(value, what, 1, 32)


def secret_ref(value: Any) -> SecretRef:
    if isinstance(value, dict):
        unknown = set(value) - {"env", "file", "key"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; use env: NAME or file: PATH + key: NAME")
        if value.get("env"):
            return SecretRef(env=str(value["env"]))
        if value.get("file") and value.get("key"):
            return SecretRef(file=str(value["file"]), key=str(value["key"]))
    raise ValueError("must be a reference {env: NAME} or {file: PATH, key: NAME}, never the secret itself")


def tuple_of(values: Any, conv: Callable[[Any], Any], what: str) -> tuple[Any, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        values = [values]
    return tuple(conv(v) for v in values)


def ike_version(value: Any) -> int:
    value = single(value, "ike.version")
    if isinstance(value, str):
        v = value.lower().replace("ikev", "").replace("v", "")
        if v.isdigit():
            value = int(v)
    if value not in (1, 2):
        raise ValueError(f"ike.version must be 1 or 2, not {value!r}")
    return value
