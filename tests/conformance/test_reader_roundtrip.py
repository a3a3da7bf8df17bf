"""Render each intent on each platform, read the parameters back with the platform's `reader:`
data, and compare them with the intent. A combination the platform's validation refuses is
skipped with the validation's own words.
"""

from __future__ import annotations

from typing import Any

import pytest

from tunnelsmith import inventory, reader, render, validate, views
from tunnelsmith.model import Inventory, Tunnel
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.spec import UnsupportedAlgorithm


def expected(inv: Inventory, key: str) -> tuple[set[str], set[str]] | None:
    """(must be read, may be read) for one reader key; None: not comparable for this intent."""
    ts: list[Tunnel] = inv.tunnels_of("dev1")
    policy = [t for t in ts if t.routing.mode == "policy"]
    routed = [t for t in ts if t.routing.route_based]
    bgp = [t for t in ts if t.routing.mode == "bgp"]
    ends = {e.name: e for e in views.device_ends(inv, "dev1")}
    exact: dict[str, set[str]] = {
        "ike_version": {str(t.ike.version) for t in ts},
        "ike_encryption": {t.ike.encryption for t in ts},
        "ike_integrity": {t.ike.integrity for t in ts},
        "ike_dh": {str(t.ike.dh_group) for t in ts},
        "ike_lifetime": {str(t.ike.lifetime) for t in ts},
        "ipsec_encryption": {t.ipsec.encryption for t in ts},
        "ipsec_integrity": {t.ipsec.integrity for t in ts},
        "pfs": {str(t.ipsec.pfs_group) for t in ts if t.ipsec.pfs_group},
        "ipsec_lifetime": {str(t.ipsec.lifetime) for t in ts},
        "peer": {str(t.cloud_ip) for t in ts},
        "inside_local": {str(t.routing.inside_local) for t in routed},
        "bgp_neighbor": {str(t.routing.inside_remote) for t in bgp},
        "bgp_remote_asn": {str(t.routing.bgp.remote_asn) for t in bgp if t.routing.bgp},
        "dpd_interval": {str(t.ipsec.dpd.interval) for t in ts if t.ipsec.dpd.enabled},
        "static_route": {str(r) for t in routed if t.routing.mode == "static" for r in t.routing.static_routes},
    }
    if key == "ike_mode":
        v1 = {t.ike.mode for t in ts if t.ike.version == 1}
        return (v1, v1) if v1 else None
    if key in ("local_subnet", "remote_subnet"):
        side = "local" if key == "local_subnet" else "remote"
        must = {str(getattr(s, side)) for t in policy for s in t.routing.selectors}
        may = must | {str(getattr(s, side)) for t in routed for s in t.routing.selectors}
        return (must, may) if policy else (set(), may)
    if key == "mss":  # a template may clamp MSS in some modes only: whatever is read must be right
        return set(), {str(ends[t.name].mss) for t in ts}
    if key == "static_route":  # a platform may also route policy-based remote subnets toward the peer
        return exact[key], exact[key] | {str(s.remote) for t in policy for s in t.routing.selectors}
    if key in ("inside_local", "bgp_neighbor", "bgp_remote_asn") and not exact[key]:
        return set(), set()
    return exact[key], exact[key]


def render_intent(platform: str, built: Any) -> tuple[Inventory, str]:
    inv = inventory.load(built.directory)
    problems = validate.validate(inv)
    if problems:
        pytest.skip(f"{platform} validation refuses this intent: " + "; ".join(str(p) for p in problems))
    try:
        rendered = render.render_device(inv, "dev1")
    except UnsupportedAlgorithm as exc:
        pytest.skip(f"{platform}: {exc}")
    return inv, rendered.text(masked=False)


def test_intent_renders_and_reads_back(platform: str, intent: str, make_inventory: Any) -> None:
    s = pspec.load(platform)
    if not s.section("reader"):
        pytest.skip(f"{platform} has no reader: section (test_required_sections reports it)")
    built = make_inventory(platform, intent)
    inv, text = render_intent(platform, built)
    got = reader.read(s, text, variant=render.platform_options(s, inv.devices["dev1"].options).get("os_version"))
    wrong = []
    for key, values in got.items():
        exp = expected(inv, key)
        if exp is None:
            continue
        must, may = exp
        missing = sorted(m for m in must if not any(reader.matches(v, m) for v in values))
        extra = sorted({v for v in values if not any(reader.matches(v, m) for m in may)})
        if missing or extra:
            wrong.append(f"{key}: read {sorted(set(values))}, intent {sorted(must) or sorted(may)}"
                         + (f", missing {missing}" if missing else "") + (f", unexpected {extra}" if extra else ""))
    assert not wrong, f"{platform} / {intent}:\n  " + "\n  ".join(wrong) + f"\n--- rendered ---\n{text}"


def test_psk_reaches_the_rendered_config_and_is_masked(platform: str, make_inventory: Any) -> None:
    built = make_inventory(platform, "ikev1-policy-1pair-pfs-dpd")
    inv = inventory.load(built.directory)
    try:
        rendered = render.render_device(inv, "dev1")
    except UnsupportedAlgorithm as exc:
        pytest.skip(f"{platform}: {exc}")
    psk = built.psks["t1"]
    assert psk in rendered.text(masked=False)
    assert psk not in rendered.text(masked=True)


def test_every_intent_is_valid_somewhere(intent: str, make_inventory: Any) -> None:
    """Guards the suite itself: an intent no platform accepts would only ever be skipped."""
    reasons = []
    for platform in pspec.available():
        inv = inventory.load(make_inventory(platform, intent).directory)
        problems = validate.validate(inv)
        if not problems:
            return
        reasons.append(f"{platform}: {problems[0]}")
    pytest.fail(f"intent {intent} is refused everywhere: {reasons}")
