"""Platform names Nornir, Netmiko and NAPALM users already write, mapped onto tunnelsmith's platforms.

A name is accepted when it is a platform folder's name, that platform's `netmiko_device_type`,
one of its `nornir_aliases` (platform.yaml; an alias may imply platform options, e.g.
`huawei_vrpv8` implies `os_version: v8`), or a NAPALM, Netmiko or Scrapli name netutils' lib_mapper
translates into one of those (NAPALM `ios`, `junos`, ...). Nothing here names a platform: it is all read from data.
"""

from __future__ import annotations

import functools
from typing import Any

from netutils import lib_mapper

from tunnelsmith.platforms import spec as pspec


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (platform, options the name implies)."""
    direct: dict[str, tuple[str, dict[str, Any]]] = {}
    for p in pspec.available():
        spec = pspec.load(p)
        direct.setdefault(p, (p, {}))
        direct.setdefault(spec.netmiko_device_type, (p, {}))
        for alias, implied in (spec.raw.get("nornir_aliases") or {}).items():
            direct.setdefault(str(alias), (p, dict(implied or {})))
    table = dict(direct)
    for mapper in (lib_mapper.NAPALM_LIB_MAPPER, lib_mapper.NETMIKO_LIB_MAPPER, lib_mapper.SCRAPLI_LIB_MAPPER):
        for name, normalized in mapper.items():  # library name -> netutils' normalised name
            if isinstance(normalized, str) and normalized in direct and name not in table:
                table[name] = direct[normalized]
    return table


def accepted() -> list[str]:
    """Every accepted name: tunnelsmith's own first, then the others sorted."""
    own = pspec.available()
    return own + sorted(set(_table()) - set(own))


def canonical(name: Any) -> tuple[str, dict[str, Any]] | None:
    """(tunnelsmith platform, implied options) for an accepted name, else None."""
    return _table().get(name) if isinstance(name, str) else None
