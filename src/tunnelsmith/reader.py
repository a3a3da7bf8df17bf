"""Read IPsec parameters back out of a configuration with the platform's `reader:` data.

The conformance suite renders an intent and reads it back to prove each template says what the
intent says; the same reader can later audit a device's running config. Values come back in
vendor-neutral form: algorithm spellings are reverse-mapped through `algorithms.yaml`, addresses
with a mask are turned into `address/prefixlen`.

Reader entry (platform.yaml `reader: {key: entry}`):
    regex:  a regex with one capture group (two for `as: netmask|wildcard`), matched per line
    table:  an algorithms.yaml table to reverse-map the value through (ike_encryption, pfs, or a
            platform's own table such as ikev2_encryption or ike_version)
    map:    {spelling: neutral value} for values that are not algorithms (IKE version, ...);
            a spelling mapped to null is read as "absent" (e.g. `pfs none`)
    as:     netmask | wildcard: address and mask in two groups; an address key captured as
            "address mask" in one group is converted too (mask or wildcard told apart by value)
    alternatives: [entry, ...]  more regexes whose values belong to the same key (IKEv2 syntax)
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tunnelsmith.platforms.spec import PlatformSpec

KEYS = ("ike_version", "ike_mode", "ike_encryption", "ike_integrity", "ike_dh", "ike_lifetime",
        "ipsec_encryption", "ipsec_integrity", "pfs", "ipsec_lifetime", "peer", "local_subnet",
        "remote_subnet", "static_route", "inside_local", "bgp_neighbor", "bgp_remote_asn", "mss",
        "dpd_interval")


class ReaderError(ValueError):
    """The platform's reader data is unusable (bad regex, unknown key, unknown spelling)."""


class UnknownSpelling(ReaderError):
    """A value no table or map of this entry knows."""


ADDRESS_KEYS = ("peer", "local_subnet", "remote_subnet", "static_route", "inside_local", "bgp_neighbor")


def reverse_table(spec: PlatformSpec, table: str, variant: str | None = None) -> dict[str, list[str]]:
    """Spelling -> the vendor-neutral names spelled that way (several when names share a spelling)."""
    variant = variant or spec.default_variant
    entries = {str(k): v for k, v in (spec.algorithms_raw.get(table) or {}).items()}
    if variant:
        for k, v in (((spec.algorithms_raw.get("variants") or {}).get(variant) or {}).get(table) or {}).items():
            if v is None:
                entries.pop(str(k), None)
            else:
                entries[str(k)] = v
    if not entries:
        raise ReaderError(f"platform {spec.name}: no algorithms table {table!r}")
    out: dict[str, list[str]] = {}
    for neutral, spelling in entries.items():
        out.setdefault(str(spelling).lower(), []).append(neutral)
    return out


def _address(value: str, style: str | None) -> str:
    """'a.b.c.d m.m.m.m' (mask or wildcard), 'host a.b.c.d', 'a.b.c.d/len' -> 'a.b.c.d[/len]'."""
    words = value.split()
    if len(words) == 2 and words[0] == "host":
        return f"{words[1]}/32"
    if len(words) == 2:
        mask = ipaddress.IPv4Address(words[1])
        wildcard = style == "wildcard" or (style != "netmask" and int(mask) >> 31 == 0 and int(mask) != 0)
        return _with_mask(words[0], words[1], wildcard)
    return value


def _with_mask(addr: str, mask: str, wildcard: bool) -> str:
    m = ipaddress.IPv4Address(mask)
    if wildcard:
        m = ipaddress.IPv4Address(int(m) ^ 0xFFFFFFFF)
    prefix = ipaddress.IPv4Network(f"0.0.0.0/{m}").prefixlen
    return str(ipaddress.IPv4Interface(f"{addr}/{prefix}"))


def _value(key: str, entry: dict[str, Any], m: re.Match[str], rev: dict[str, list[str]] | None) -> str | None:
    style = entry.get("as")
    groups = [g for g in m.groups() if g is not None]
    if not groups:
        raise ReaderError(f"reader {key}: regex {entry['regex']!r} matched without a captured value")
    if style in ("netmask", "wildcard"):
        if len(groups) >= 2:
            return _with_mask(groups[0], groups[1], style == "wildcard")
        if len(groups[0].split()) != 2:
            raise ReaderError(f"reader {key}: 'as: {style}' needs address and mask (two groups or two words)")
        return _address(groups[0], style)
    value = groups[0].strip().strip('"')
    if "map" in entry:
        mapping = {str(k).lower(): v for k, v in (entry["map"] or {}).items()}
        if value.lower() not in mapping:
            raise UnknownSpelling(f"reader {key}: {value!r} is not in its map {sorted(mapping)}")
        mapped = mapping[value.lower()]
        return None if mapped is None else str(mapped)
    if rev is not None:
        names = rev.get(value.lower())
        if not names:
            raise UnknownSpelling(f"reader {key}: {value!r} is no spelling in table {entry['table']!r}")
        return "|".join(sorted(names))  # ambiguous spellings read as every name they stand for
    if key in ADDRESS_KEYS:
        try:
            return _address(value, style)
        except ValueError:
            return value
    return value


def read(spec: PlatformSpec, text: str, *, variant: str | None = None,
         reader: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Every reader key -> the values found in `text`, in order (an empty list when none)."""
    entries = reader if reader is not None else spec.section("reader")
    out: dict[str, list[str]] = {}
    for key, entry in entries.items():
        if key not in KEYS:
            raise ReaderError(f"platform {spec.name}: unknown reader key {key!r}; known: {', '.join(KEYS)}")
        entry = {"regex": entry} if isinstance(entry, str) else dict(entry)
        # the same line may match the main regex and an alternative (IOS `encryption` in an IKEv1
        # policy and in an IKEv2 proposal): per line, a value some table knows wins
        found: dict[int, list[str | None]] = {}
        unknown: dict[int, str] = {}
        for one in [entry, *(entry.get("alternatives") or [])]:
            try:
                rx = re.compile(one["regex"], re.M)
            except (re.error, KeyError) as exc:
                raise ReaderError(f"platform {spec.name}: reader {key}: bad regex: {exc}") from None
            rev = reverse_table(spec, one["table"], variant) if one.get("table") else None
            for m in rx.finditer(text):
                try:
                    found.setdefault(m.start(), []).append(_value(key, one, m, rev))
                except UnknownSpelling as exc:
                    unknown.setdefault(m.start(), str(exc))
        for pos, why in unknown.items():
            if pos not in found:
                raise ReaderError(f"platform {spec.name}: {why}")
        values = [found[pos][0] for pos in sorted(found)]
        out[key] = [v for v in values if v is not None]
    return out


def matches(read_value: str, expected: str) -> bool:
    """A read value equals an expected neutral value.

    An ambiguous spelling matches any name it stands for; an address read without a prefix
    length matches the expected address whatever its prefix.
    """
    if expected in read_value.split("|"):
        return True
    return "/" not in read_value and "/" in expected and expected.split("/")[0] == read_value
