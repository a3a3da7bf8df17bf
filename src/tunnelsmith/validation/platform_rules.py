"""Checks against each device platform's data: `safety:` rules for names and strings, algorithm tables.

What a platform's CLI can take is declared in `templates/platforms/<name>/`, read via `platforms.spec`.
"""

from __future__ import annotations

import re
from typing import Any

from tunnelsmith.model import Inventory
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.render import platform_options
from tunnelsmith.validation.reporting import Report

# The last-resort pattern for a tunnel name when a platform declares none: names become object
# names (connection, proposal, policy names) on every platform.
DEFAULT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


# algorithm table -> (vendor-neutral value from the tunnel, field name in tunnels.yaml)
ALGORITHM_FIELDS = (
    ("ike_encryption", lambda t: t.ike.encryption, "ike.encryption"),
    ("ike_integrity", lambda t: t.ike.integrity, "ike.integrity"),
    ("ike_dh", lambda t: t.ike.dh_group, "ike.dh_group"),
    ("ipsec_encryption", lambda t: t.ipsec.encryption, "ipsec.encryption"),
    ("ipsec_integrity", lambda t: t.ipsec.integrity, "ipsec.integrity"),
    ("pfs", lambda t: t.ipsec.pfs_group, "ipsec.pfs_group"),
)


# --- platform data ---------------------------------------------------------------------------
def check_platform(inv: Inventory, r: Report) -> None:
    """Each device's platform `safety:` rules and algorithm tables."""
    for device in inv.devices.values():
        spec = pspec.load(device.platform)
        safety = spec.safety()
        pat = spec.interface_pattern()
        if pat is not None and not pat.search(device.wan_interface):
            r.host(device.name, "data.wan_interface", f"{device.wan_interface!r} is not an interface name "
                   f"{spec.title} accepts (pattern {pat.pattern})")
        if " " in device.wan_interface:
            r.host(device.name, "data.wan_interface", "interface names must not contain blanks")
        bad = _forbidden(device.wan_interface, safety)
        if bad:
            r.host(device.name, "data.wan_interface", f"contains {bad}, which {spec.title} cannot take here")
    for t in inv.tunnels.values():
        device = inv.devices[t.device]
        spec = pspec.load(device.platform)
        safety = spec.safety()
        name_pat = safety.get("name_pattern") or DEFAULT_NAME_PATTERN
        if not re.search(name_pat, t.name):
            r.tunnel(t, "name", f"{t.name!r} cannot become an object name on {spec.title} "
                     f"(pattern {name_pat})")
        for field, value in (("identities.local", t.local_id), ("identities.remote", t.remote_id)):
            if " " in value:
                r.tunnel(t, field, "IKE identities must not contain blanks (use an IP address or FQDN)")
            bad = _forbidden(value, safety)
            if bad:
                r.tunnel(t, field, f"contains {bad}, which {spec.title} cannot take in a configuration line")
        variant = platform_options(spec, device.options).get("os_version") or spec.default_variant
        table = spec.algorithms(variant)
        v = f" ({variant})" if variant else ""
        for tbl, get, field in ALGORITHM_FIELDS:
            value = get(t)
            if value is not None and not table.supports(tbl, value):
                r.tunnel(t, field, f"platform {device.platform}{v} cannot do {tbl.replace('_', ' ')} {value!r}")


def _forbidden(value: str, safety: dict[str, Any]) -> str | None:
    chars = set(safety.get("forbidden_in_strings") or "")
    if safety.get("quote") == "double":  # the value is written between double quotes
        chars |= {'"', "\\"}
    found = sorted({c for c in value if c in chars})
    return " ".join(repr(c) for c in found) if found else None
