"""Checks against the cloud profiles (`templates/clouds/*.yaml`): offered values, quotas and ASNs.

Every rule is read from profile data; nothing here branches on a provider name.
"""

from __future__ import annotations

from collections import defaultdict

from tunnelsmith import clouds, views
from tunnelsmith.model import Inventory, Tunnel
from tunnelsmith.validation.reporting import Report, fmt

# 0 and 65535 / 4294967295 are reserved (RFC 7607, RFC 7300), 23456 is AS_TRANS (RFC 6793),
# 65552-131071 is reserved by IANA.
RESERVED_ASNS = {0, 23456, 65535, 4294967295}
RESERVED_ASN_RANGES = ((65552, 131071),)


# (phase, profile list, tunnel value, field)
PROVIDER_FIELDS = (
    ("ike", "versions", lambda t: t.ike.version, "ike.version"),
    ("ike", "encryption", lambda t: t.ike.encryption, "ike.encryption"),
    ("ike", "integrity", lambda t: t.ike.integrity, "ike.integrity"),
    ("ike", "dh_groups", lambda t: t.ike.dh_group, "ike.dh_group"),
    ("ipsec", "encryption", lambda t: t.ipsec.encryption, "ipsec.encryption"),
    ("ipsec", "integrity", lambda t: t.ipsec.integrity, "ipsec.integrity"),
    ("ipsec", "pfs_groups", lambda t: t.ipsec.pfs_group, "ipsec.pfs_group"),
    ("ipsec", "protocols", lambda t: t.ipsec.protocol, "ipsec.protocol"),
)


# --- provider profile ------------------------------------------------------------------------
def check_provider(inv: Inventory, r: Report) -> None:
    """Values the cloud's console does not offer cannot be configured on the cloud side."""
    for t in inv.tunnels.values():
        cloud = inv.clouds[t.cloud]
        profile = clouds.profile(cloud.provider)
        gt = cloud.gateway_type
        label = f"{profile.title} ({gt} gateway)"
        for phase, key, get, field in PROVIDER_FIELDS:
            allowed = profile.allowed(gt, phase, key)
            value = get(t)
            if value is None or allowed is None:
                continue
            if value not in allowed:
                r.tunnel(t, field, f"{label} does not accept {value!r}; it accepts {fmt(allowed)}")
        modes = profile.allowed(gt, "ike", "modes")
        if t.ike.version == 1 and modes is not None and t.ike.mode not in modes:
            r.tunnel(t, "ike.mode", f"{label} does not accept IKEv1 {t.ike.mode} mode; it accepts {fmt(modes)}")
        for phase in ("ike", "ipsec"):
            life = getattr(t, phase).lifetime
            rng = ((profile.raw.get("gateway_types") or {}).get(gt) or {}).get(phase, {}).get("lifetime") or {}
            if rng and not (rng.get("min", 0) <= life <= rng.get("max", life)):
                r.tunnel(t, f"{phase}.lifetime", f"{label} accepts a {phase.upper()} lifetime of "
                         f"{rng.get('min')}-{rng.get('max')} s, not {life}")
        auth = ((profile.raw.get("gateway_types") or {}).get(gt) or {}).get("auth")
        if auth is not None and "psk" not in auth:
            r.tunnel(t, "psk", f"{label} does not offer pre-shared key authentication (only {fmt(auth)}); "
                     "tunnelsmith configures pre-shared keys")
        if t.routing.mode not in profile.routing_modes:
            r.tunnel(t, "routing.mode", f"{profile.title} does not offer {t.routing.mode} routing; "
                     f"it offers {fmt(profile.routing_modes)}")
        rules = profile.rules
        if rules.get("default_route_forbidden"):
            cloud_routes = views.end(inv, t, "cloud").routes
            for route in cloud_routes:
                if route.prefixlen == 0:
                    r.tunnel(t, "routing", f"{profile.title} cannot add a route to {route} on the cloud "
                             "gateway (it comes from the device's data.lan_subnets)")
            for route in t.routing.static_routes:
                if route.prefixlen == 0:
                    r.tunnel(t, "routing.routes", f"{profile.title} does not support routes to {route}")
        dpd_min = rules.get("dpd_timeout_min")
        if dpd_min and t.ipsec.dpd.enabled and t.ipsec.dpd.timeout < dpd_min:
            r.tunnel(t, "ipsec.dpd", f"{profile.title} needs a DPD timeout of at least {dpd_min} s; "
                     f"interval x retries is {t.ipsec.dpd.timeout} s")
    by_conn: dict[tuple[str, str], list[Tunnel]] = defaultdict(list)
    for t in inv.tunnels.values():
        by_conn[(t.cloud, t.device)].append(t)
    for (cloud_name, device_name), ts in by_conn.items():
        profile = clouds.profile(inv.clouds[cloud_name].provider)
        modes = sorted({t.routing.mode for t in ts})
        if profile.rules.get("same_routing_per_connection") and len(modes) > 1:
            for t in ts[1:]:
                r.tunnel(t, "routing.mode", f"all tunnels between {cloud_name} and {device_name} form one "
                         f"{profile.title} connection and must use one routing mode; found {fmt(modes)}")


# --- quotas ----------------------------------------------------------------------------------
def check_quotas(inv: Inventory, r: Report) -> None:
    """Profile quotas: subnets per connection, selectors, routes and connections per gateway."""
    for t in inv.tunnels.values():
        cloud = inv.clouds[t.cloud]
        profile = clouds.profile(cloud.provider)
        q = profile.quotas
        if t.routing.mode != "policy":
            continue
        end = views.end(inv, t, "cloud")  # the console's point of view: local = VPC side
        for key, nets, what in (("local_subnets", end.local_subnets, "VPC-side (local) subnets"),
                                ("remote_subnets", end.remote_subnets, "on-prem (remote) subnets")):
            if key in q and len(nets) > q[key]:
                r.tunnel(t, "routing.selectors", f"{profile.title} accepts at most {q[key]} {what} per "
                         f"connection; this tunnel has {len(nets)}: {fmt(nets)}")
        if "selectors" in q and len(t.routing.selectors) > q["selectors"]:
            r.tunnel(t, "routing.selectors", f"{profile.title} negotiates at most {q['selectors']} selector "
                     f"pair(s) per tunnel; this tunnel has {len(t.routing.selectors)}")
    for cloud in inv.clouds.values():
        profile = clouds.profile(cloud.provider)
        q = profile.quotas
        ts = inv.tunnels_of_cloud(cloud.name)
        routes = [(t.name, n) for t in ts if t.routing.mode == "static" for n in views.end(inv, t, "cloud").routes]
        if "routes" in q and len(routes) > q["routes"]:
            r.host(cloud.name, "data.vpc_subnets", f"{profile.title} holds at most {q['routes']} routes per "
                   f"gateway; the static tunnels {fmt(sorted({n for n, _ in routes}))} need {len(routes)}")
        if "connections" in q and len(ts) > q["connections"]:
            r.host(cloud.name, "data.provider", f"{profile.title} allows {q['connections']} connections; "
                   f"{len(ts)} tunnels use this gateway")
        per_gw = profile.public_ips_per_gateway
        if per_gw is not None and len(cloud.public_ips) > per_gw:
            r.host(cloud.name, "data.public_ips", f"a {profile.title} gateway has {per_gw} public IP(s); "
                   f"{len(cloud.public_ips)} are listed")
        if profile.raw.get("cloud_asn_fixed") and cloud.bgp_asn not in (None, profile.cloud_asn):
            r.host(cloud.name, "data.bgp_asn", f"{profile.title}'s BGP ASN is fixed at {profile.cloud_asn}, "
                   f"not {cloud.bgp_asn}")


# --- ASNs ------------------------------------------------------------------------------------
def _asn_problem(asn: int) -> str | None:
    if asn in RESERVED_ASNS:
        return f"ASN {asn} is reserved and cannot be used for BGP"
    for lo, hi in RESERVED_ASN_RANGES:
        if lo <= asn <= hi:
            return f"ASN {asn} is in the IANA-reserved range {lo}-{hi}"
    return None


def check_asns(inv: Inventory, r: Report) -> None:
    for host in [*inv.clouds.values(), *inv.devices.values()]:
        why = _asn_problem(host.bgp_asn) if host.bgp_asn is not None else None
        if why:
            r.host(host.name, "data.bgp_asn", why)
    for t in inv.tunnels.values():
        bgp = t.routing.bgp
        if bgp is None:
            continue
        profile = clouds.profile(inv.clouds[t.cloud].provider)
        for field, asn in (("routing.bgp.local_asn", bgp.local_asn), ("routing.bgp.remote_asn", bgp.remote_asn)):
            why = _asn_problem(asn)
            if why:
                r.tunnel(t, field, why)
        if bgp.local_asn == bgp.remote_asn:
            r.tunnel(t, "routing.bgp.local_asn", f"the device's ASN {bgp.local_asn} equals the cloud's; the "
                     "cloud peers over EBGP and needs a different ASN")
        elif profile.cloud_asn is not None and bgp.local_asn == profile.cloud_asn:
            r.tunnel(t, "routing.bgp.local_asn", f"ASN {bgp.local_asn} is {profile.title}'s own ASN; use another")
        reserved = profile.rules.get("reserved_customer_asns") or []
        if bgp.local_asn in reserved:
            r.tunnel(t, "routing.bgp.local_asn", f"{profile.title} reserves ASN {bgp.local_asn}; "
                     "a customer gateway cannot use it")
        if profile.raw.get("cloud_asn_fixed") and bgp.remote_asn != profile.cloud_asn:
            r.tunnel(t, "routing.bgp.remote_asn", f"{profile.title}'s ASN is fixed at {profile.cloud_asn}, "
                     f"not {bgp.remote_asn}")
