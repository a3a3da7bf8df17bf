"""Parse tunnels.yaml: each tunnel's IKE/IPsec parameters, identities, PSK reference and routing.

Split from the host loader because a tunnel is parsed against already-parsed hosts and the cloud
provider's defaults; parameters not given fall back to those defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunnelsmith import clouds
from tunnelsmith.collector import Collector, merge, unknown_fields
from tunnelsmith.model import (
    Bgp,
    CloudGateway,
    Device,
    Dpd,
    IkePolicy,
    IpsecPolicy,
    PingCheck,
    Routing,
    Selector,
    Tunnel,
)
from tunnelsmith.values import (
    addr,
    boolean,
    dh_group,
    iface,
    ike_version,
    integer,
    keyword,
    net,
    one_string,
    secret_ref,
    single,
    tuple_of,
)


def parse_tunnels(f: str, doc: Any, cloud_gws: dict[str, CloudGateway], devices: dict[str, Device],
                  col: Collector) -> dict[str, Tunnel]:
    if not isinstance(doc, dict) or not isinstance(doc.get("tunnels"), list):
        col.add(f, "", "tunnels", "must hold a list 'tunnels:' of tunnel definitions")
        return {}
    common = doc.get("defaults") or {}
    out: dict[str, Tunnel] = {}
    per_device: dict[str, int] = {}
    for i, spec in enumerate(doc["tunnels"]):
        if not isinstance(spec, dict):
            col.add(f, f"tunnel #{i + 1}", "", "must be a mapping")
            continue
        name = spec.get("name")
        obj = f"tunnel {name}" if name else f"tunnel #{i + 1}"
        if not name or not isinstance(name, str):
            col.add(f, obj, "name", "every tunnel needs a name")
            continue
        if name in out:
            col.add(f, obj, "name", f"duplicate tunnel name {name!r}")
            continue
        spec = merge(common, spec)
        t = _tunnel(f, obj, name, spec, cloud_gws, devices, per_device, col)
        if t:
            out[name] = t
    return out


IKE_KEYS = {"version", "mode", "encryption", "integrity", "dh_group", "lifetime"}
IPSEC_KEYS = {"encryption", "integrity", "pfs_group", "lifetime", "protocol", "dpd"}
DPD_KEYS = {"enabled", "interval", "retries", "action"}


def _tunnel(f: str, obj: str, name: str, spec: dict[str, Any], cloud_gws: dict[str, CloudGateway],
            devices: dict[str, Device], per_device: dict[str, int], col: Collector) -> Tunnel | None:
    known = {"name", "cloud", "device", "cloud_ip", "ike", "ipsec", "identities", "psk", "routing",
             "ping", "initiation", "mtu", "mss", "description"}
    for k in set(spec) - known:
        col.add(f, obj, str(k), f"unknown field; known fields: {', '.join(sorted(known))}")
    cloud = _lookup(cloud_gws, spec.get("cloud"))
    device = _lookup(devices, spec.get("device"))
    if cloud is None:
        col.add(f, obj, "cloud", f"unknown cloud gateway {spec.get('cloud')!r} (not a host with role cloud)")
    if device is None:
        col.add(f, obj, "device", f"unknown device {spec.get('device')!r} (not a host with role device)")
    if cloud is None or device is None:
        return None
    profile = clouds.profile(cloud.provider)
    pdef = profile.defaults
    for key in ("ike", "ipsec"):
        if spec.get(key) is not None and not isinstance(spec.get(key), dict):
            col.add(f, obj, key, f"must be a mapping of parameters, not {spec.get(key)!r}")
    ike_in = spec.get("ike") if isinstance(spec.get("ike"), dict) else {}
    ipsec_in = spec.get("ipsec") if isinstance(spec.get("ipsec"), dict) else {}
    unknown_fields(f, obj, "ike", ike_in, IKE_KEYS, col)
    unknown_fields(f, obj, "ipsec", ipsec_in, IPSEC_KEYS, col)
    ike_raw = merge(pdef.get("ike") or {}, ike_in)
    ipsec_raw = merge(pdef.get("ipsec") or {}, ipsec_in)

    # One col.get per parameter, so every problem names its exact field (ike.dh_group, ...).
    def g(field: str, fn: Callable[[], Any]) -> Any:
        return col.get(f, obj, field, fn, _MISSING)

    ike_vals = {
        "version": g("ike.version", lambda: ike_version(ike_raw.get("version"))),
        "mode": g("ike.mode", lambda: keyword(ike_raw.get("mode", "main"), "ike.mode")),
        "encryption": g("ike.encryption", lambda: keyword(ike_raw.get("encryption"), "ike.encryption")),
        "integrity": g("ike.integrity", lambda: keyword(ike_raw.get("integrity"), "ike.integrity")),
        "dh_group": g("ike.dh_group", lambda: dh_group(ike_raw.get("dh_group"), "ike.dh_group")),
        "lifetime": g("ike.lifetime", lambda: integer(ike_raw.get("lifetime"), "ike.lifetime", 60, 604800)),
    }
    dpd_raw = ipsec_raw.get("dpd") if ipsec_raw.get("dpd") is not None else {}
    if isinstance(dpd_raw, bool):
        dpd_raw = {"enabled": dpd_raw}
    if not isinstance(dpd_raw, dict):
        col.add(f, obj, "ipsec.dpd", f"must be true, false or a mapping, not {dpd_raw!r}")
        dpd_raw = {}
    unknown_fields(f, obj, "ipsec.dpd", dpd_raw, DPD_KEYS, col)
    dpd_vals = {
        "enabled": g("ipsec.dpd.enabled", lambda: boolean(dpd_raw.get("enabled", True), "ipsec.dpd.enabled")),
        "interval": g("ipsec.dpd.interval",
                      lambda: integer(dpd_raw.get("interval", 10), "ipsec.dpd.interval", 1, 3600)),
        "retries": g("ipsec.dpd.retries",
                     lambda: integer(dpd_raw.get("retries", 3), "ipsec.dpd.retries", 1, 100)),
        "action": g("ipsec.dpd.action", lambda: keyword(dpd_raw.get("action", "restart"), "ipsec.dpd.action")),
    }
    pfs = ipsec_raw.get("pfs_group")
    ipsec_vals = {
        "encryption": g("ipsec.encryption", lambda: keyword(ipsec_raw.get("encryption"), "ipsec.encryption")),
        "integrity": g("ipsec.integrity", lambda: keyword(ipsec_raw.get("integrity"), "ipsec.integrity")),
        "pfs_group": g("ipsec.pfs_group", lambda: None if pfs in (None, False, "none", "off")
                       else dh_group(pfs, "ipsec.pfs_group")),
        "lifetime": g("ipsec.lifetime",
                      lambda: integer(ipsec_raw.get("lifetime"), "ipsec.lifetime", 60, 604800)),
        "protocol": g("ipsec.protocol", lambda: keyword(ipsec_raw.get("protocol", "esp"), "ipsec.protocol")),
    }
    ike = ipsec = None
    if _MISSING not in ike_vals.values():
        ike = IkePolicy(**ike_vals)
    if _MISSING not in ipsec_vals.values() and _MISSING not in dpd_vals.values():
        ipsec = IpsecPolicy(**ipsec_vals, dpd=Dpd(**dpd_vals))

    cloud_ip = cloud.public_ips[0] if cloud.public_ips else None
    if spec.get("cloud_ip") is not None:
        cloud_ip = col.get(f, obj, "cloud_ip", lambda: addr(single(spec["cloud_ip"], "cloud_ip")))
        if cloud_ip is not None and cloud_ip not in cloud.public_ips:
            col.add(f, obj, "cloud_ip", f"{cloud_ip} is not one of {cloud.name}'s public IPs "
                    f"{[str(i) for i in cloud.public_ips]}")
    ids = spec.get("identities") if spec.get("identities") is not None else {}
    if not isinstance(ids, dict):
        col.add(f, obj, "identities", "must be a mapping {local: ID, remote: ID}")
        ids = {}
    unknown_fields(f, obj, "identities", ids, {"local", "remote"}, col)
    local_id = col.get(f, obj, "identities.local",
                       lambda: one_string(ids.get("local", str(device.public_ip)), "identities.local"), "")
    remote_id = col.get(f, obj, "identities.remote",
                        lambda: one_string(ids.get("remote", str(cloud_ip)), "identities.remote"), "")
    psk = None
    if "psk" not in spec:
        col.add(f, obj, "psk", "a pre-shared key reference is required, e.g. psk: {env: NAME}")
    else:
        psk = col.get(f, obj, "psk", lambda: secret_ref(spec["psk"]))
    routing = _routing(f, obj, spec.get("routing"), device, cloud, col)
    ping = None
    if spec.get("ping"):
        p = spec["ping"]
        if not isinstance(p, dict):
            col.add(f, obj, "ping", "must be a mapping {source: IP, target: IP, count: N}")
        else:
            unknown_fields(f, obj, "ping", p, {"source", "target", "count"}, col)
            src = col.get(f, obj, "ping.source", lambda: addr(single(p.get("source"), "ping.source")))
            dst = col.get(f, obj, "ping.target", lambda: addr(single(p.get("target"), "ping.target")))
            count = col.get(f, obj, "ping.count", lambda: integer(p.get("count", 3), "ping.count", 1, 100))
            if None not in (src, dst, count):
                ping = PingCheck(source=src, target=dst, count=count)
    initiation = col.get(f, obj, "initiation", lambda: single(spec.get("initiation", "start"), "initiation"),
                         "start")
    if initiation not in ("start", "trap", "none"):
        col.add(f, obj, "initiation", f"must be start, trap or none, not {initiation!r}")
    mtu = spec.get("mtu")
    if mtu is not None:
        mtu = col.get(f, obj, "mtu", lambda: integer(mtu, "mtu", 576, 9000))
    mss = spec.get("mss")
    if mss is not None:
        mss = col.get(f, obj, "mss", lambda: integer(mss, "mss", 536, 8960))
    if None in (ike, ipsec, psk, routing, cloud_ip):
        return None
    index = per_device.get(device.name, 0)
    per_device[device.name] = index + 1
    return Tunnel(name=name, cloud=cloud.name, device=device.name, cloud_ip=cloud_ip, ike=ike, ipsec=ipsec,
                  local_id=local_id, remote_id=remote_id, psk=psk, routing=routing, ping=ping,
                  initiation=initiation, mtu=mtu, mss=mss, index=index, source_file=f)


_MISSING = object()


def _lookup(table: dict[str, Any], key: Any) -> Any:
    """A host by name; a list or mapping (several values) is simply not a name."""
    return table.get(key) if isinstance(key, str) else None


def _selectors(raw: Any) -> tuple[Selector, ...]:
    if not isinstance(raw, list):
        raise ValueError("must be a list of {local: PREFIX, remote: PREFIX} pairs")
    out = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or set(s) != {"local", "remote"}:
            raise ValueError(f"selector #{i + 1} must be exactly {{local: PREFIX, remote: PREFIX}}, "
                             f"not {s!r}")
        out.append(Selector(local=net(single(s["local"], "selector local")),
                            remote=net(single(s["remote"], "selector remote"))))
    return tuple(out)


def _routing(f: str, obj: str, raw: Any, device: Device, cloud: CloudGateway,
             col: Collector) -> Routing | None:
    if not isinstance(raw, dict):
        col.add(f, obj, "routing", "required: {mode: policy|static|bgp, ...}")
        return None
    mode = col.get(f, obj, "routing.mode", lambda: single(raw.get("mode"), "routing.mode"), _MISSING)
    if mode is _MISSING:
        return None
    if mode not in ("policy", "static", "bgp"):
        col.add(f, obj, "routing.mode", f"must be policy, static or bgp, not {mode!r}")
        return None
    known = {"mode", "selectors", "inside", "routes", "bgp"}
    for k in set(raw) - known:
        col.add(f, obj, f"routing.{k}", f"unknown field; known: {', '.join(sorted(known))}")
    if mode == "policy":
        sel_raw = raw.get("selectors")
        if sel_raw is None:  # default: every LAN subnet with every VPC subnet
            selectors = tuple(Selector(lan, r) for lan in device.lan_subnets for r in cloud.vpc_subnets)
        else:
            selectors = col.get(f, obj, "routing.selectors", lambda: _selectors(sel_raw), ())
        if not selectors and not sel_raw:
            col.add(f, obj, "routing.selectors", "a policy-based tunnel needs at least one selector pair")
        return Routing(mode="policy", selectors=selectors)
    inside = raw.get("inside") or {}
    if not isinstance(inside, dict):
        col.add(f, obj, "routing.inside", "must be a mapping {local: IP/PREFIX, remote: IP}")
        inside = {}
    unknown_fields(f, obj, "routing.inside", inside, {"local", "remote"}, col)
    inside_local = col.get(f, obj, "routing.inside.local",
                           lambda: iface(single(inside.get("local"), "routing.inside.local")))
    inside_remote = col.get(f, obj, "routing.inside.remote",
                            lambda: addr(single(inside.get("remote"), "routing.inside.remote")))
    if inside_local is not None and inside_remote is not None and inside_remote not in inside_local.network:
        col.add(f, obj, "routing.inside.remote",
                f"{inside_remote} is not in the inside network {inside_local.network}")
    if inside_local is not None and inside_remote is not None and inside_remote == inside_local.ip:
        col.add(f, obj, "routing.inside.remote", "local and remote inside addresses are the same")
    routes = col.get(f, obj, "routing.routes", lambda: tuple_of(raw.get("routes"), net, "routes"), ())
    bgp = None
    if mode == "bgp":
        b = raw.get("bgp") or {}
        if not isinstance(b, dict):
            col.add(f, obj, "routing.bgp", "must be a mapping of BGP settings")
            b = {}
        unknown_fields(f, obj, "routing.bgp", b,
                       {"local_asn", "remote_asn", "hold_time", "keepalive", "advertise"}, col)
        local_asn = b.get("local_asn", device.bgp_asn)
        remote_asn = b.get("remote_asn", cloud.bgp_asn)
        if local_asn is None:
            col.add(f, obj, "routing.bgp.local_asn", "BGP needs the device's ASN (host data.bgp_asn)")
        if remote_asn is None:
            col.add(f, obj, "routing.bgp.remote_asn", "BGP needs the cloud's ASN (host data.bgp_asn)")
        if local_asn is not None and remote_asn is not None:
            bgp = col.get(f, obj, "routing.bgp", lambda: Bgp(
                local_asn=integer(local_asn, "bgp.local_asn", 1, 4294967295),
                remote_asn=integer(remote_asn, "bgp.remote_asn", 1, 4294967295),
                hold_time=integer(b.get("hold_time", 30), "bgp.hold_time", 3, 65535),
                keepalive=integer(b.get("keepalive", 10), "bgp.keepalive", 1, 21845),
                advertise=tuple_of(b.get("advertise", [str(n) for n in device.lan_subnets]), net, "advertise")))
    if inside_local is None or inside_remote is None:
        return None
    sels = tuple(Selector(lan, r) for lan in device.lan_subnets for r in routes)
    return Routing(mode=mode, selectors=sels, inside_local=inside_local, inside_remote=inside_remote,
                   static_routes=routes, bgp=bgp)
