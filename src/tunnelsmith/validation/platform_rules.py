"""Checks against each device platform's data: `safety:` rules for names and strings, algorithm tables.

What a platform's CLI can take is declared in `templates/platforms/<name>/`, read via `platforms.spec`:
the characters it cannot take in a word or quoted string (`forbidden_in_strings`), the identity
forms it renders (`identity_forms`), how long a word or identity may be. Every free value that
reaches a rendered line (interface name, identities, platform options) is checked here, once;
control and invisible characters are refused for every value by `validation.strings`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tunnelsmith.model import Inventory
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.render import platform_options
from tunnelsmith.validation.reporting import Report

# The last-resort pattern for a tunnel name when a platform declares none: names become object
# names (connection, proposal, policy names) on every platform.
DEFAULT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DEFAULT_WORD_LENGTH = 63        # a platform option word (zone, group, policy name) when data says nothing
DEFAULT_IDENTITY_LENGTH = 255   # an IKE identity when data says nothing
DEFAULT_IDENTITY_FORMS = ("address", "fqdn")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
FQDN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
USER_FQDN = re.compile(r"^[A-Za-z0-9._%+=-]{1,64}@" + FQDN.pattern[1:])
WILDCARDS = ("%any", "%any4", "%any6")


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
        for key, value in (device.options or {}).items():
            why = option_problem(spec, key, value)
            if why:
                r.host(device.name, f"data.{device.platform}.{key}", why)
    for t in inv.tunnels.values():
        device = inv.devices[t.device]
        spec = pspec.load(device.platform)
        safety = spec.safety()
        name_pat = safety.get("name_pattern") or DEFAULT_NAME_PATTERN
        if not re.search(name_pat, t.name):
            r.tunnel(t, "name", f"{t.name!r} cannot become an object name on {spec.title} "
                     f"(pattern {name_pat})")
        opts = platform_options(spec, device.options)
        for field, value in (("identities.local", t.local_id), ("identities.remote", t.remote_id)):
            if " " in value:
                r.tunnel(t, field, "IKE identities must not contain blanks (use an IP address or FQDN)")
            bad = _forbidden(value, safety)
            if bad:
                r.tunnel(t, field, f"contains {bad}, which {spec.title} cannot take in a configuration line")
            why = identity_problem(spec, value, opts)
            if why and not (" " in value or bad):
                r.tunnel(t, field, why)
        variant = opts.get("os_version") or spec.default_variant
        table = spec.algorithms(variant)
        v = f" ({variant})" if variant else ""
        for tbl, get, field in ALGORITHM_FIELDS:
            value = get(t)
            if value is not None and not table.supports(tbl, value):
                r.tunnel(t, field, f"platform {device.platform}{v} cannot do {tbl.replace('_', ' ')} {value!r}")


def option_problem(spec: pspec.PlatformSpec, key: str, value: Any) -> str | None:
    """Why a platform option value cannot go into a rendered line, or None.

    Options become words of statements (zone names, group names, numbers): one scalar each, the
    type of its default, no blank, none of the platform's special characters, bounded length.
    """
    if isinstance(value, (dict, list, tuple, set)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        return f"must be one value, not {kind} (it would be rendered as Python text)"
    choices = (spec.raw.get("option_choices") or {}).get(key)
    if choices and value not in choices:
        return f"must be one of {', '.join(map(str, choices))}, not {_short(value)}"
    defaults = spec.raw.get("option_defaults") or {}
    default = defaults.get(key)
    if isinstance(default, bool) and not isinstance(value, bool):
        return f"must be true or false, not {_short(value)}"
    if isinstance(default, int) and not isinstance(default, bool) and (isinstance(value, bool)
                                                                      or not isinstance(value, int)):
        return f"must be a whole number, not {_short(value)}"
    if not isinstance(value, str):
        return None
    safety = spec.safety()
    limit = int(safety.get("max_word_length") or DEFAULT_WORD_LENGTH)
    if len(value) > limit:
        return f"is {len(value)} characters long; {spec.title} takes at most {limit} here"
    if value != value.strip() or " " in value:
        return f"must be one word; {spec.title} would read extra words as more of the command"
    if value == "":
        return "must not be empty"
    bad = _forbidden(value, safety)
    if bad:
        return f"contains {bad}, which {spec.title} cannot take in a configuration line"
    return None


def identity_problem(spec: pspec.PlatformSpec, value: str, options: dict[str, Any]) -> str | None:
    """Why `value` is no IKE identity `spec` renders (forms and length from its `safety:` data), or None."""
    safety = spec.safety()
    limit = int(safety.get("identity_max_length") or DEFAULT_IDENTITY_LENGTH)
    if len(value) > limit:
        return f"is {len(value)} characters long; {spec.title} takes identities of at most {limit}"
    wild_opt = safety.get("identity_wildcards_option")
    wild = bool(wild_opt and options.get(wild_opt) is True)
    if value in WILDCARDS or "*" in value:
        if not wild:
            how = (f" unless data.{spec.name}.{wild_opt}: true says so" if wild_opt
                   else f"; {spec.title} takes none")
            return (f"{_short(value)} is a wildcard identity: it would accept any peer that knows the key "
                    f"(the PSK would no longer be bound to this peer); refused{how}")
        if value in WILDCARDS:
            return None
        value = value.replace("*", "x")
    forms = safety.get("identity_forms") or list(DEFAULT_IDENTITY_FORMS)
    if _is_form(value, forms, safety):
        return None
    return (f"{_short(value)} is no identity {spec.title} takes; use one of: "
            + ", ".join(_FORM_NAMES.get(f, f) for f in forms))


_FORM_NAMES = {"address": "an IP address", "fqdn": "an FQDN (host.example.com)",
               "user_fqdn": "a user FQDN (user@example.com)", "key_id": "a key ID"}


def _is_form(value: str, forms: list[str], safety: dict[str, Any]) -> bool:
    for form in forms:
        if form == "address":
            try:
                ipaddress.ip_address(value)
                return True
            except ValueError:
                pass
        elif form == "fqdn":
            prefix = safety.get("identity_fqdn_prefix") or ""
            name = value[len(prefix):] if prefix and value.startswith(prefix) else value
            if FQDN.match(name):
                return True
        elif form in _FORM_RES and _FORM_RES[form](safety, value):
            return True
    return False


_FORM_RES = {
    "user_fqdn": lambda safety, value: bool(USER_FQDN.match(value)),
    "key_id": lambda safety, value: bool(re.search(safety.get("identity_key_id") or "(?!)", value)),
}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


def _forbidden(value: str, safety: dict[str, Any]) -> str | None:
    chars = set(safety.get("forbidden_in_strings") or "")
    if safety.get("quote") == "double":  # the value is written between double quotes
        chars |= {'"', "\\"}
    found = sorted({c for c in value if c in chars})
    return " ".join(repr(c) for c in found) if found else None
