"""Semantic checks on a loaded inventory: everything the loader cannot see one field at a time.

`inventory.load` already refuses what is structurally wrong (types, addresses, unknown hosts,
several values for one parameter). Here the inventory is checked against the cloud profiles
(`templates/clouds/*.yaml`), the platforms' data (`safety:` and `algorithms.yaml`) and itself:
overlapping subnets, quotas, ASNs, inside addresses, secrets, ping addresses, MTU, and any string
that would reach a configuration line. No check branches on a provider or platform name; each
reads data. Every problem names the file, the host or tunnel, the field and why.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tunnelsmith import clouds, views
from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.inventory import load
from tunnelsmith.model import CloudGateway, Device, Inventory, Net, Tunnel
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.render import platform_options

MIN_MTU = 576
TCP_IP_HEADERS = views.TCP_IP_HEADERS
# 0 and 65535 / 4294967295 are reserved (RFC 7607, RFC 7300), 23456 is AS_TRANS (RFC 6793),
# 65552-131071 is reserved by IANA.
RESERVED_ASNS = {0, 23456, 65535, 4294967295}
RESERVED_ASN_RANGES = ((65552, 131071),)
# The last-resort pattern for a tunnel name when a platform declares none: names become object
# names (connection, proposal, policy names) on every platform.
DEFAULT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# algorithm table -> (vendor-neutral value from the tunnel, field name in tunnels.yaml)
ALGORITHM_FIELDS = (
    ("ike_encryption", lambda t: t.ike.encryption, "ike.encryption"),
    ("ike_integrity", lambda t: t.ike.integrity, "ike.integrity"),
    ("ike_dh", lambda t: t.ike.dh_group, "ike.dh_group"),
    ("ipsec_encryption", lambda t: t.ipsec.encryption, "ipsec.encryption"),
    ("ipsec_integrity", lambda t: t.ipsec.integrity, "ipsec.integrity"),
    ("pfs", lambda t: t.ipsec.pfs_group, "ipsec.pfs_group"),
)
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


class _Report:
    """Where problems go, with the inventory's file names at hand."""

    def __init__(self, inv: Inventory):
        self.inv = inv
        d = Path(inv.directory)
        self.hosts_file = str(d / "hosts.yaml")
        self.tunnels_file = str(d / "tunnels.yaml")
        self.problems: list[Problem] = []

    def host(self, name: str, field: str, message: str) -> None:
        self.problems.append(Problem(self.hosts_file, f"host {name}", field, message))

    def tunnel(self, t: Tunnel, field: str, message: str) -> None:
        self.problems.append(Problem(t.source_file or self.tunnels_file, f"tunnel {t.name}", field, message))


def check(directory: str | Path) -> list[Problem]:
    """Load and validate; every problem (the loader's included) is returned, nothing is raised."""
    try:
        inv = load(directory)
    except InventoryError as exc:
        return list(exc.problems)
    return validate(inv)


def validate(inv: Inventory) -> list[Problem]:
    """Every semantic problem of a loaded inventory, in a stable order."""
    r = _Report(inv)
    for fn in (_strings, _names, _subnets, _provider, _quotas, _asns, _inside, _cloud_ips, _ping,
               _platform, _mtu, _secrets):
        fn(inv, r)
    unique = list(dict.fromkeys(r.problems))
    return sorted(unique, key=lambda p: (p.file, p.obj))  # grouped per object, check order kept


# --- strings ---------------------------------------------------------------------------------
def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, string) for every string inside a model object, dict or sequence."""
    if isinstance(value, str):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                yield p, k
            yield from _walk(v, p)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _control(text: str) -> str | None:
    m = CONTROL.search(text)
    if not m:
        return None
    names = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte", "\t": "a tab"}
    return names.get(m.group(0), f"control character U+{ord(m.group(0)):04X}")


def _strings(inv: Inventory, r: _Report) -> None:
    """A control character in any string would split or corrupt a configuration line."""
    for name, cloud in inv.clouds.items():
        for path, text in _walk({"name": cloud.name, "data": cloud.data}, ""):
            what = _control(text)
            if what:
                r.host(name, path, f"contains {what}; it would break the configuration line")
    for name, device in inv.devices.items():
        for path, text in _walk(device, ""):
            what = _control(text)
            if what:
                r.host(name, _device_field(device, path), f"contains {what}; it would break the configuration line")
    for t in inv.tunnels.values():
        for path, text in _walk(t, ""):
            what = _control(text)
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
def _names(inv: Inventory, r: _Report) -> None:
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


# --- subnets ---------------------------------------------------------------------------------
def _overlap(a: Net, b: Net) -> str:
    if a == b:
        return "is the same network as"
    if a.subnet_of(b):
        return "is inside"
    if b.subnet_of(a):
        return "contains"
    return "overlaps"


def _subnets(inv: Inventory, r: _Report) -> None:
    """Seed 001 (4.1): the two ends' subnets must neither overlap nor contain each other."""
    pairs_done: set[tuple[str, str]] = set()
    for t in inv.tunnels.values():
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        if t.routing.mode == "policy":
            for i, s in enumerate(t.routing.selectors):
                if s.local.overlaps(s.remote):
                    r.tunnel(t, f"routing.selectors[{i}]", f"local {s.local} {_overlap(s.local, s.remote)} "
                             f"remote {s.remote}; the two ends of a tunnel must not overlap or contain "
                             "each other")
        else:
            for route in t.routing.static_routes:
                for lan in device.lan_subnets:
                    if route.overlaps(lan):
                        r.tunnel(t, "routing.routes", f"route {route} {_overlap(route, lan)} the device's "
                                 f"own LAN {lan}; traffic for the LAN would be sent into the tunnel")
        if (device.name, cloud.name) in pairs_done:
            continue
        pairs_done.add((device.name, cloud.name))
        for lan in device.lan_subnets:
            for vpc in cloud.vpc_subnets:
                if lan.overlaps(vpc):
                    r.host(device.name, "data.lan_subnets", f"LAN {lan} {_overlap(lan, vpc)} VPC subnet {vpc} "
                           f"of {cloud.name} (tunnel {t.name}); the networks on both ends must not overlap")


# --- provider profile ------------------------------------------------------------------------
def _provider(inv: Inventory, r: _Report) -> None:
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
                r.tunnel(t, field, f"{label} does not accept {value!r}; it accepts {_fmt(allowed)}")
        modes = profile.allowed(gt, "ike", "modes")
        if t.ike.version == 1 and modes is not None and t.ike.mode not in modes:
            r.tunnel(t, "ike.mode", f"{label} does not accept IKEv1 {t.ike.mode} mode; it accepts {_fmt(modes)}")
        for phase in ("ike", "ipsec"):
            life = getattr(t, phase).lifetime
            rng = ((profile.raw.get("gateway_types") or {}).get(gt) or {}).get(phase, {}).get("lifetime") or {}
            if rng and not (rng.get("min", 0) <= life <= rng.get("max", life)):
                r.tunnel(t, f"{phase}.lifetime", f"{label} accepts a {phase.upper()} lifetime of "
                         f"{rng.get('min')}-{rng.get('max')} s, not {life}")
        auth = ((profile.raw.get("gateway_types") or {}).get(gt) or {}).get("auth")
        if auth is not None and "psk" not in auth:
            r.tunnel(t, "psk", f"{label} does not offer pre-shared key authentication (only {_fmt(auth)}); "
                     "tunnelsmith configures pre-shared keys")
        if t.routing.mode not in profile.routing_modes:
            r.tunnel(t, "routing.mode", f"{profile.title} does not offer {t.routing.mode} routing; "
                     f"it offers {_fmt(profile.routing_modes)}")
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
                         f"{profile.title} connection and must use one routing mode; found {_fmt(modes)}")


def _fmt(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


# --- quotas ----------------------------------------------------------------------------------
def _quotas(inv: Inventory, r: _Report) -> None:
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
                         f"connection; this tunnel has {len(nets)}: {_fmt(nets)}")
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
                   f"gateway; the static tunnels {_fmt(sorted({n for n, _ in routes}))} need {len(routes)}")
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


def _asns(inv: Inventory, r: _Report) -> None:
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


# --- inside addresses ------------------------------------------------------------------------
def _inside(inv: Inventory, r: _Report) -> None:
    """Provider rules for tunnel inside addresses, and no two tunnels sharing an inside network."""
    by_device: dict[str, list[Tunnel]] = defaultdict(list)
    by_cloud: dict[str, list[Tunnel]] = defaultdict(list)
    for t in inv.tunnels.values():
        il = t.routing.inside_local
        if il is None:
            continue
        by_device[t.device].append(t)
        by_cloud[t.cloud].append(t)
        profile = clouds.profile(inv.clouds[t.cloud].provider)
        rule = profile.rules.get("inside") or {}
        if "network" in rule and not il.network.subnet_of(ipaddress.IPv4Network(rule["network"])):
            r.tunnel(t, "routing.inside.local", f"{profile.title} takes tunnel inside addresses from "
                     f"{rule['network']}; {il.network} is outside it")
        if "prefixlen" in rule and il.network.prefixlen != rule["prefixlen"]:
            r.tunnel(t, "routing.inside.local", f"{profile.title} needs a /{rule['prefixlen']} inside network, "
                     f"not /{il.network.prefixlen}")
        for reserved in rule.get("reserved") or []:
            if il.network.overlaps(ipaddress.IPv4Network(reserved)):
                r.tunnel(t, "routing.inside.local", f"{il.network} overlaps {reserved}, which "
                         f"{profile.title} reserves")
    for owner, groups in (("device", by_device), ("cloud gateway", by_cloud)):
        for name, ts in groups.items():
            for i, a in enumerate(ts):
                for b in ts[i + 1:]:
                    na, nb = a.routing.inside_local.network, b.routing.inside_local.network
                    if na.overlaps(nb) and not (owner == "cloud gateway" and a.device == b.device):
                        r.tunnel(b, "routing.inside.local", f"inside network {nb} overlaps {na} of tunnel "
                                 f"{a.name} on the same {owner} {name}")


# --- cloud IPs -------------------------------------------------------------------------------
def _cloud_ips(inv: Inventory, r: _Report) -> None:
    """One IKE peer pair per tunnel; and per-connection cloud IPs stay with one customer gateway."""
    by_pair: dict[tuple[str, Any], list[Tunnel]] = defaultdict(list)
    by_ip: dict[tuple[str, Any], list[Tunnel]] = defaultdict(list)
    for t in sorted(inv.tunnels.values(), key=lambda t: (t.device, t.index)):
        by_pair[(t.device, t.cloud_ip)].append(t)
        by_ip[(t.cloud, t.cloud_ip)].append(t)
    for (device, ip), ts in by_pair.items():
        for t in ts[1:]:
            r.tunnel(t, "cloud_ip", f"tunnel {ts[0].name} of {device} already uses cloud IP {ip}; two tunnels "
                     "between the same two public addresses cannot be told apart by IKE")
    for (cloud_name, ip), ts in by_ip.items():
        devices = {t.device for t in ts}
        if len(devices) < 2:
            continue
        profile = clouds.profile(inv.clouds[cloud_name].provider)
        first = ts[0]
        for t in ts[1:]:
            if t.device == first.device:
                continue
            if profile.rules.get("cloud_ips_per_connection"):
                r.tunnel(t, "cloud_ip", f"{profile.title} gives every connection its own outside IPs; {ip} "
                         f"already serves device {first.device} (tunnel {first.name})")
            elif inv.devices[t.device].public_ip == inv.devices[first.device].public_ip:
                r.tunnel(t, "cloud_ip", f"devices {first.device} and {t.device} share public IP "
                         f"{inv.devices[t.device].public_ip} and both peer with {ip}; the cloud identifies "
                         "its customer gateway by that address")


# --- ping ------------------------------------------------------------------------------------
def _ping(inv: Inventory, r: _Report) -> None:
    """The verification ping must travel through the tunnel: both ends inside protected ranges."""
    for t in inv.tunnels.values():
        if t.ping is None:
            continue
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        ro = t.routing
        local: list[Net] = [s.local for s in ro.selectors]
        remote: list[Net] = [s.remote for s in ro.selectors] + list(ro.static_routes)
        if ro.route_based:
            local += list(device.lan_subnets)
            if ro.inside_local is not None:
                local.append(ipaddress.IPv4Network(f"{ro.inside_local.ip}/32"))
            if ro.inside_remote is not None:
                remote.append(ipaddress.IPv4Network(f"{ro.inside_remote}/32"))
            if ro.bgp is not None:
                local += list(ro.bgp.advertise)
                remote += list(cloud.vpc_subnets)
        for field, ip, nets, side in (("ping.source", t.ping.source, local, "local (device)"),
                                      ("ping.target", t.ping.target, remote, "remote (cloud)")):
            if not any(ip in n for n in nets):
                r.tunnel(t, field, f"{ip} is not inside the tunnel's protected {side} ranges "
                         f"{_fmt(dict.fromkeys(nets)) or '(none)'}; the ping would not cross the tunnel")


# --- platform data ---------------------------------------------------------------------------
def _platform(inv: Inventory, r: _Report) -> None:
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


# --- MTU -------------------------------------------------------------------------------------
def _mtu(inv: Inventory, r: _Report) -> None:
    for t in inv.tunnels.values():
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        mtu, mss = views.mtu_mss(device, cloud, t)
        underlay = min(device.wan_mtu, device.path_mtu)
        if mtu < MIN_MTU:
            r.tunnel(t, "mtu", f"tunnel MTU {mtu} (from WAN MTU {device.wan_mtu}, path MTU {device.path_mtu}) "
                     f"is below the IPv4 minimum of {MIN_MTU}")
        if t.mtu is not None and t.mtu > underlay:
            r.tunnel(t, "mtu", f"tunnel MTU {t.mtu} exceeds the underlay MTU {underlay} "
                     f"(min of WAN {device.wan_mtu} and path {device.path_mtu})")
        if mss > mtu - TCP_IP_HEADERS:
            r.tunnel(t, "mss", f"MSS {mss} exceeds tunnel MTU {mtu} - {TCP_IP_HEADERS} = {mtu - TCP_IP_HEADERS}; "
                     "TCP segments would not fit")


# --- secrets ---------------------------------------------------------------------------------
def _secrets(inv: Inventory, r: _Report) -> None:
    """Resolve every reference; check PSK values against platform and provider rules (never print them)."""
    d = Path(inv.directory)
    for device in inv.devices.values():
        if device.password is None:
            continue
        try:
            value = secretmod.resolve(device.password, d)
        except (secretmod.SecretError, OSError, ValueError) as exc:
            r.host(device.name, "data.password_ref", f"password not available: {secretmod.mask(str(exc))}")
            continue
        what = _control(value)
        if what:
            r.host(device.name, "data.password_ref", f"the password contains {what}")
    for t in inv.tunnels.values():
        try:
            value = secretmod.resolve(t.psk, d)
        except (secretmod.SecretError, OSError, ValueError) as exc:
            r.tunnel(t, "psk", f"pre-shared key not available: {secretmod.mask(str(exc))}")
            continue
        for why in _psk_problems(value, inv.devices[t.device], inv.clouds[t.cloud]):
            r.tunnel(t, "psk", f"the pre-shared key ({t.psk.describe()}) {why}")


def _psk_problems(value: str, device: Device, cloud: CloudGateway) -> list[str]:
    out: list[str] = []
    if len(value) < secretmod.PSK_MIN_LENGTH:
        out.append(f"is {len(value)} characters long; use at least {secretmod.PSK_MIN_LENGTH} (a short key is "
                   "guessable offline from one captured IKE exchange)")
    what = _control(value)
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
    max_len = safety.get("psk_max_length")
    if max_len and len(value) > max_len:
        out.append(f"is {len(value)} characters long; {spec.title} takes at most {max_len}")
    profile = clouds.profile(cloud.provider)
    rule = profile.rules.get("psk") or {}
    if rule.get("pattern") and not re.search(rule["pattern"], value):
        out.append(f"is not accepted by {profile.title}: {rule.get('why', 'pattern ' + rule['pattern'])}")
    return out
