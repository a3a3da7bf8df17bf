"""Secret checks: every password and PSK reference resolves, and PSK values suit platform and provider.

Values are resolved only to be checked; messages never contain them.
"""

from __future__ import annotations

import re
from pathlib import Path

from tunnelsmith import clouds
from tunnelsmith import secrets as secretmod
from tunnelsmith.model import CloudGateway, Device, Inventory
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.validation.reporting import Report
from tunnelsmith.validation.strings import MAX_VALUE_LENGTH, control


# --- SSH keys --------------------------------------------------------------------------------
def check_ssh_keys(inv: Inventory, r: Report) -> None:
    """Every SSH key file named exists and is a regular file (not checked by `validate --offline`)."""
    for device in inv.devices.values():
        raw = device.ssh.get("key_file")
        if not raw:
            continue
        try:
            path = secretmod.expand_path(str(raw))
        except (secretmod.SecretError, ValueError) as exc:
            r.host(device.name, "data.ssh.key_file", secretmod.mask(str(exc)))
            continue
        if not path.exists():
            r.host(device.name, "data.ssh.key_file", f"SSH key file {path} does not exist")
        elif not path.is_file():
            r.host(device.name, "data.ssh.key_file", f"SSH key file {path} is not a regular file")


# --- secrets ---------------------------------------------------------------------------------
def check_secret_refs(inv: Inventory, r: Report) -> None:
    """What the references say, without reading anything (so also `validate --offline`): paths
    expand only ${TUNNELSMITH_LAB_DIR}."""
    for device in inv.devices.values():
        for key in ("key_file", "known_hosts"):
            raw = (device.ssh or {}).get(key)
            if isinstance(raw, str):
                why = _path_problem(raw)
                if why:
                    r.host(device.name, f"data.ssh.{key}", why)
        if device.password is not None and device.password.file:
            why = _path_problem(device.password.file)
            if why:
                r.host(device.name, "data.password_ref.file", why)
    for t in inv.tunnels.values():
        if t.psk.file:
            why = _path_problem(t.psk.file)
            if why:
                r.tunnel(t, "psk.file", why)


def check_secrets(inv: Inventory, r: Report) -> None:
    """Resolve every reference; check PSK values against platform and provider rules (never print them)."""
    d = Path(inv.directory)
    for device in inv.devices.values():
        if device.password is None or (device.password.file and _path_problem(device.password.file)):
            continue  # reported by check_secret_refs
        try:
            value = secretmod.resolve(device.password, d)
        except (secretmod.SecretError, OSError, ValueError) as exc:
            r.host(device.name, "data.password_ref", f"password not available: {secretmod.mask(str(exc))}")
            continue
        what = control(value)
        if what:
            r.host(device.name, "data.password_ref", f"the password contains {what}")
    for t in inv.tunnels.values():
        if t.psk.file and _path_problem(t.psk.file):
            continue  # reported by check_secret_refs
        try:
            value = secretmod.resolve(t.psk, d)
        except (secretmod.SecretError, OSError, ValueError) as exc:
            r.tunnel(t, "psk", f"pre-shared key not available: {secretmod.mask(str(exc))}")
            continue
        for why in _psk_problems(value, inv.devices[t.device], inv.clouds[t.cloud]):
            r.tunnel(t, "psk", f"the pre-shared key ({t.psk.describe()}) {why}")


def _path_problem(raw: str) -> str | None:
    """Why an SSH key or known_hosts path cannot be used (never expanding a variable into the message).

    Whether the key file exists is checked when connecting: the lab creates its key at `lab up`.
    """
    try:
        secretmod.expand_path(raw)
    except secretmod.SecretError as exc:
        return str(exc)
    return None


def _psk_problems(value: str, device: Device, cloud: CloudGateway) -> list[str]:
    out: list[str] = []
    if value.lower() in secretmod.vocabulary():
        out.append("is a word of the platforms' configuration language; it is guessable, and masking it in "
                   "device output would show where it stands")
    if len(value) < secretmod.PSK_MIN_LENGTH:
        out.append(f"is {len(value)} characters long; use at least {secretmod.PSK_MIN_LENGTH} (a short key is "
                   "guessable offline from one captured IKE exchange)")
    what = control(value)
    if what:
        out.append(f"contains {what}")
    spec = pspec.load(device.platform)
    safety = spec.safety()
    forbidden = sorted({c for c in value if c in set(safety.get("psk_forbidden") or "")})
    if safety.get("quote") == "double":
        forbidden = sorted(set(forbidden) | {c for c in value if c in '"\\'})
    if forbidden:
        out.append(f"contains {' '.join(repr(c) for c in forbidden)}, which {spec.title} cannot take")
    if safety.get("psk_no_edge_blanks") and value != value.strip():
        out.append(f"starts or ends with a blank, which {spec.title}'s CLI would drop")
    for prefix in safety.get("psk_forbidden_prefixes") or []:
        if value.lower().startswith(str(prefix).lower()):
            out.append(f"starts with {prefix!r}, which {spec.title} would decode as an encoded key, not text")
    max_len = safety.get("psk_max_length") or MAX_VALUE_LENGTH  # no CLI line takes an unbounded key
    if len(value) > max_len:
        out.append(f"is {len(value)} characters long; {spec.title} takes at most {max_len}")
    profile = clouds.profile(cloud.provider)
    rule = profile.rules.get("psk") or {}
    if rule.get("pattern") and not re.search(rule["pattern"], value):
        out.append(f"is not accepted by {profile.title}: {rule.get('why', 'pattern ' + rule['pattern'])}")
    return out
