"""Semantic checks on a loaded inventory: everything the loader cannot see one field at a time.

`inventory.load` already refuses what is structurally wrong (types, addresses, unknown hosts,
several values for one parameter). Here the inventory is checked against the cloud profiles
(`templates/clouds/*.yaml`), the platforms' data (`safety:` and `algorithms.yaml`) and itself:
overlapping subnets, quotas, ASNs, inside addresses, secrets, ping addresses, MTU, and any string
that would reach a configuration line. No check branches on a provider or platform name; each
reads data. Every problem names the file, the host or tunnel, the field and why.

The checks live in `tunnelsmith.validation` (one module per concern); this module runs them in a
fixed order and keeps the public API (`check`, `validate` and the rule constants).
"""

from __future__ import annotations

from pathlib import Path

from tunnelsmith.errors import Problem
from tunnelsmith.inventory import echo, load, load_partial, locate
from tunnelsmith.model import Inventory
from tunnelsmith.validation.addressing import check_cloud_ips, check_inside, check_ping, check_subnets
from tunnelsmith.validation.credentials import check_secret_refs, check_secrets, check_ssh_keys
from tunnelsmith.validation.mtu import MIN_MTU, TCP_IP_HEADERS, check_mtu
from tunnelsmith.validation.platform_rules import ALGORITHM_FIELDS, DEFAULT_NAME_PATTERN, check_platform
from tunnelsmith.validation.provider import (
    PROVIDER_FIELDS,
    RESERVED_ASN_RANGES,
    RESERVED_ASNS,
    check_asns,
    check_provider,
    check_quotas,
)
from tunnelsmith.validation.reporting import Report
from tunnelsmith.validation.strings import CONTROL, check_names, check_strings

# Names importable from here before the checks moved to `tunnelsmith.validation`.
__all__ = ["ALGORITHM_FIELDS", "CONTROL", "DEFAULT_NAME_PATTERN", "MIN_MTU", "PROVIDER_FIELDS",
           "RESERVED_ASNS", "RESERVED_ASN_RANGES", "TCP_IP_HEADERS", "check", "load", "validate"]

# The order problems are found in; `validate` keeps it within each (file, object) group.
CHECKS = (check_strings, check_names, check_subnets, check_provider, check_quotas, check_asns, check_inside,
          check_cloud_ips, check_ping, check_platform, check_mtu, check_secret_refs, check_secrets)
# What needs the operator's machine: secrets that resolve (skipped by `validate --offline`). SSH key
# files are checked by `tunnelsmith validate` (ssh_keys=True) and when connecting, not on render.
ONLINE_ONLY = (check_secrets,)


def check(directory: str | Path, *, offline: bool = False, ssh_keys: bool = False) -> list[Problem]:
    """Load and validate; every problem (the loader's included) is returned, nothing is raised.

    offline: everything except that secrets resolve (for CI); ssh_keys: also that SSH key files exist."""
    inv, problems = load_partial(directory)
    if inv is None:
        return locate(directory, problems)
    semantic = [p for p in validate(inv, offline=offline) if not echo(p, problems)]
    if ssh_keys and not offline:
        r = Report(inv)
        check_ssh_keys(inv, r)
        semantic += r.problems
    return locate(directory, sorted(dict.fromkeys([*problems, *semantic]), key=lambda p: (p.file, p.obj)))


def validate(inv: Inventory, *, offline: bool = False) -> list[Problem]:
    """Every semantic problem of a loaded inventory, in a stable order."""
    r = Report(inv)
    for fn in CHECKS:
        if not (offline and fn in ONLINE_ONLY):
            fn(inv, r)
    unique = list(dict.fromkeys(r.problems))
    return sorted(unique, key=lambda p: (p.file, p.obj))  # grouped per object, check order kept
