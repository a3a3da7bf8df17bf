"""Read a Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml) plus tunnels.yaml.

Hosts carry `data.role`: `cloud` for a cloud VPN gateway, `device` for an on-prem device.
Group and default `data` is inherited the way Nornir does it (host, then its groups in order,
then defaults). Tunnel parameters not given fall back to the cloud provider's defaults.

Loading collects every problem it can find (file, host or tunnel, field, why) and raises one
`InventoryError` with all of them; `validate.py` then checks the semantics.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tunnelsmith import clouds
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.model import (
    Bgp,
    CloudGateway,
    Device,
    Dpd,
    IkePolicy,
    Inventory,
    IpsecPolicy,
    PingCheck,
    Routing,
    SecretRef,
    Selector,
    Tunnel,
)
from tunnelsmith.yamlio import DuplicateKeyError, load_strict

FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml", "tunnels.yaml")
SECRET_FIELDS = ("password", "secret", "psk", "pre_shared_key", "key")


class _Collector:
    """Accumulates problems while parsing so one run reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, obj: str, field: str, message: str) -> None:
        self.problems.append(Problem(file, obj, field, message))

    def get(self, file: str, obj: str, field: str, fn: Callable[[], Any], default: Any = None) -> Any:
        try:
            return fn()
        except (ValueError, TypeError, KeyError) as exc:
            self.add(file, obj, field, _why(exc))
            return default


def _why(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, KeyError) and len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]  # KeyError's str() is the repr of its argument
    return text or exc.__class__.__name__


def _read(directory: Path, name: str, col: _Collector, required: bool) -> Any:
    path = directory / name
    if not path.exists():
        if required:
            col.add(str(path), "", "", "file not found")
        return None
    try:
        return load_strict(path)
    except DuplicateKeyError as exc:
        col.add(str(path), "", exc.key, f"duplicate name {exc.key!r} (line {exc.line})")
    except yaml.YAMLError as exc:
        col.add(str(path), "", "", f"not valid YAML: {exc}")
    return None


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _resolved_data(host: dict[str, Any], groups: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Nornir's inheritance for `data`: defaults < groups (last listed weakest) < host."""
    data: dict[str, Any] = dict((defaults or {}).get("data") or {})
    for g in reversed(host.get("groups") or []):
        gdef = groups.get(g) or {}
        for parent in reversed(gdef.get("groups") or []):
            data = _merge(data, (groups.get(parent) or {}).get("data") or {})
        data = _merge(data, gdef.get("data") or {})
    return _merge(data, host.get("data") or {})


def _attr(host: dict[str, Any], groups: dict[str, Any], defaults: dict[str, Any], name: str) -> Any:
    if host.get(name) is not None:
        return host[name]
    for g in host.get("groups") or []:
        if (groups.get(g) or {}).get(name) is not None:
            return groups[g][name]
    return (defaults or {}).get(name)


def net(value: Any) -> ipaddress.IPv4Network:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IPv4 prefix such as 10.0.0.0/24")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 network: {exc}") from None


def addr(value: Any) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address") from None


def iface(value: Any) -> ipaddress.IPv4Interface:
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"{value!r} must be an address with prefix length, e.g. 169.254.10.2/30")
    try:
        return ipaddress.IPv4Interface(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 address/prefix") from None


def single(value: Any, what: str) -> Any:
    """One value per parameter (seed 001, 4.1 and 4.5): lists or comma lists are refused."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return value[0]
        raise ValueError(f"{what} has {len(value)} values {list(value)}; the cloud accepts exactly one")
    if isinstance(value, str) and ("," in value or " " in value.strip()):
        raise ValueError(f"{what} {value!r} looks like several values; give exactly one")
    return value


def _int(value: Any, what: str, lo: int | None = None, hi: int | None = None) -> int:
    value = single(value, what)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValueError(f"{what} must be a whole number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{what} {value} is out of range [{lo}, {hi}]")
    return value


def _name(value: Any, what: str) -> str:
    value = single(value, what)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a name, not {value!r}")
    return value.strip().lower()


def _bool(value: Any, what: str) -> bool:
    """YAML booleans only: bool("no") is True, so strings are refused rather than guessed."""
    value = single(value, what)
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false, not {value!r}")
    return value


def _str(value: Any, what: str) -> str:
    """One free string (an IKE identity, an interface name): lists and mappings are refused."""
    value = single(value, what)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise ValueError(f"{what} must be one non-empty string, not {value!r}")
    return str(value)


def _unknown(f: str, obj: str, prefix: str, raw: Any, known: set[str], col: _Collector) -> None:
    """A misspelt key would silently fall back to a default: report it instead."""
    if not isinstance(raw, dict):
        return
    for k in sorted(set(map(str, raw)) - known):
        col.add(f, obj, f"{prefix}.{k}", f"unknown field; known: {', '.join(sorted(known))}")


def _dh(value: Any, what: str) -> int:
    value = single(value, what)
    if isinstance(value, str):
        v = value.lower().replace("dh", "").replace("group", "").replace(" ", "").replace("-", "")
        if v.isdigit():
            value = int(v)
    return _int(value, what, 1, 32)


def secret_ref(value: Any) -> SecretRef:
    if isinstance(value, dict):
        unknown = set(value) - {"env", "file", "key"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; use env: NAME or file: PATH + key: NAME")
        if value.get("env"):
            return SecretRef(env=str(value["env"]))
        if value.get("file") and value.get("key"):
            return SecretRef(file=str(value["file"]), key=str(value["key"]))
    raise ValueError("must be a reference {env: NAME} or {file: PATH, key: NAME}, never the secret itself")


def _tuple(values: Any, conv: Callable[[Any], Any], what: str) -> tuple[Any, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        values = [values]
    return tuple(conv(v) for v in values)


def load(directory: str | Path) -> Inventory:
    """Parse the inventory; raises InventoryError listing every structural problem."""
    d = Path(directory)
    col = _Collector()
    if not d.is_dir():
        raise InventoryError([Problem(str(d), "", "", "inventory directory not found")])
    hosts = _read(d, "hosts.yaml", col, required=True) or {}
    groups = _read(d, "groups.yaml", col, required=False) or {}
    defaults = _read(d, "defaults.yaml", col, required=False) or {}
    tunnels_doc = _read(d, "tunnels.yaml", col, required=True) or {}
    hf, tf = str(d / "hosts.yaml"), str(d / "tunnels.yaml")

    for fname, doc in (("hosts.yaml", hosts), ("groups.yaml", groups), ("defaults.yaml", defaults)):
        if not isinstance(doc, dict):
            col.add(str(d / fname), "", "", "must be a mapping")
    if not isinstance(hosts, dict):
        hosts = {}
    if not isinstance(groups, dict):
        groups = {}
    if not isinstance(defaults, dict):
        defaults = {}
    _check_plain_secrets(d, hosts, groups, defaults, col)

    cloud_gws: dict[str, CloudGateway] = {}
    devices: dict[str, Device] = {}
    for name, host in hosts.items():
        name = str(name)
        obj = f"host {name}"
        if name in groups:
            col.add(hf, obj, "", f"{name!r} is both a host (hosts.yaml) and a group (groups.yaml); "
                    "Nornir filters would be ambiguous")
        if not isinstance(host, dict):
            col.add(hf, obj, "", "must be a mapping")
            continue
        for g in host.get("groups") or []:
            if g not in groups:
                col.add(hf, obj, "groups", f"unknown group {g!r}")
        data = _resolved_data(host, groups, defaults)
        role = data.get("role")
        if role == "cloud":
            gw = _cloud(hf, obj, name, data, col)
            if gw:
                cloud_gws[name] = gw
        elif role == "device":
            dev = _device(hf, obj, name, host, groups, defaults, data, col)
            if dev:
                devices[name] = dev
        else:
            col.add(hf, obj, "data.role", f"must be 'cloud' or 'device', not {role!r}")

    tunnels = _tunnels(tf, tunnels_doc, cloud_gws, devices, col)
    if col.problems:
        raise InventoryError(col.problems)
    return Inventory(directory=str(d), clouds=cloud_gws, devices=devices, tunnels=tunnels)


def _check_plain_secrets(d: Path, hosts: Any, groups: Any, defaults: Any, col: _Collector) -> None:
    """A password or key written into inventory YAML is refused outright."""

    def walk(file: str, obj: str, node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                p = f"{path}.{k}" if path else str(k)
                if str(k).lower() in SECRET_FIELDS and isinstance(v, (str, int)) and v != "":
                    col.add(file, obj, p, "secrets must not be written in inventory YAML; "
                            "use a reference such as password_ref: {env: NAME}")
                else:
                    walk(file, obj, v, p)

    for name, h in (hosts or {}).items() if isinstance(hosts, dict) else []:
        walk(str(d / "hosts.yaml"), f"host {name}", h, "")
    for name, g in (groups or {}).items() if isinstance(groups, dict) else []:
        walk(str(d / "groups.yaml"), f"group {name}", g, "")
    if isinstance(defaults, dict):
        walk(str(d / "defaults.yaml"), "defaults", defaults, "")


def _cloud(f: str, obj: str, name: str, data: dict[str, Any], col: _Collector) -> CloudGateway | None:
    provider = data.get("provider")
    if provider not in clouds.available():
        col.add(f, obj, "data.provider",
                f"unknown provider {provider!r}; known: {', '.join(clouds.available())}")
        return None
    ips = col.get(f, obj, "data.public_ips", lambda: _tuple(data.get("public_ips"), addr, "public_ips"), ())
    if not data.get("public_ips"):
        col.add(f, obj, "data.public_ips", "at least one public IP is required")
    subnets = col.get(f, obj, "data.vpc_subnets",
                      lambda: _tuple(data.get("vpc_subnets"), net, "vpc_subnets"), ())
    if not data.get("vpc_subnets"):
        col.add(f, obj, "data.vpc_subnets", "at least one VPC subnet is required")
    asn = data.get("bgp_asn")
    if asn is not None:
        asn = col.get(f, obj, "data.bgp_asn", lambda: _int(asn, "bgp_asn", 1, 4294967295))
    profile = clouds.profile(provider)
    if asn is None:
        asn = profile.cloud_asn
    gtype = data.get("gateway_type", "standard")
    if gtype not in profile.gateway_types():
        col.add(f, obj, "data.gateway_type",
                f"{provider} has gateway types {profile.gateway_types()}, not {gtype!r}")
    return CloudGateway(name=name, provider=provider, public_ips=ips, vpc_subnets=subnets, bgp_asn=asn,
                        gateway_type=gtype, data=data)


def _device(f: str, obj: str, name: str, host: dict[str, Any], groups: dict[str, Any],
            defaults: dict[str, Any], data: dict[str, Any], col: _Collector) -> Device | None:
    platform = _attr(host, groups, defaults, "platform")
    from tunnelsmith.platforms import spec as pspec

    if platform not in pspec.available():
        col.add(f, obj, "platform", f"unknown platform {platform!r}; known: {', '.join(pspec.available())}")
        return None
    hostname = _attr(host, groups, defaults, "hostname")
    if not hostname:
        col.add(f, obj, "hostname", "management address is required")
    elif not isinstance(hostname, str):
        col.add(f, obj, "hostname", f"must be one address or DNS name, not {hostname!r}")
        hostname = None
    port = col.get(f, obj, "port",
                   lambda: _int(_attr(host, groups, defaults, "port") or 22, "port", 1, 65535), 22)
    public_ip = col.get(f, obj, "data.public_ip", lambda: addr(data.get("public_ip")))
    lans = col.get(f, obj, "data.lan_subnets",
                   lambda: _tuple(data.get("lan_subnets"), net, "lan_subnets"), ())
    wan = data.get("wan_interface")
    if not wan:
        col.add(f, obj, "data.wan_interface", "WAN interface name is required")
    else:
        wan = col.get(f, obj, "data.wan_interface", lambda: _str(wan, "wan_interface"), "")
    wan_nat = col.get(f, obj, "data.wan_nat", lambda: _bool(data.get("wan_nat", False), "wan_nat"), False)
    asn = data.get("bgp_asn")
    if asn is not None:
        asn = col.get(f, obj, "data.bgp_asn", lambda: _int(asn, "bgp_asn", 1, 4294967295))
    wan_mtu = col.get(f, obj, "data.wan_mtu",
                      lambda: _int(data.get("wan_mtu", 1500), "wan_mtu", 576, 9216), 1500)
    path_mtu = col.get(f, obj, "data.path_mtu",
                       lambda: _int(data.get("path_mtu", 1500), "path_mtu", 576, 9216), 1500)
    pw = None
    if data.get("password_ref") is not None:
        pw = col.get(f, obj, "data.password_ref", lambda: secret_ref(data["password_ref"]))
    if public_ip is None or (hostname is None):
        return None
    options = dict(data.get(platform) or {})
    return Device(name=name, platform=platform, hostname=str(hostname), port=port or 22,
                  username=_attr(host, groups, defaults, "username"), wan_interface=str(wan or ""),
                  public_ip=public_ip, lan_subnets=lans, bgp_asn=asn, wan_mtu=wan_mtu or 1500,
                  path_mtu=path_mtu or 1500, wan_nat=wan_nat, password=pw,
                  ssh=dict(data.get("ssh") or {}), options=options)


def _tunnels(f: str, doc: Any, cloud_gws: dict[str, CloudGateway], devices: dict[str, Device],
             col: _Collector) -> dict[str, Tunnel]:
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
        spec = _merge(common, spec)
        t = _tunnel(f, obj, name, spec, cloud_gws, devices, per_device, col)
        if t:
            out[name] = t
    return out


IKE_KEYS = {"version", "mode", "encryption", "integrity", "dh_group", "lifetime"}
IPSEC_KEYS = {"encryption", "integrity", "pfs_group", "lifetime", "protocol", "dpd"}
DPD_KEYS = {"enabled", "interval", "retries", "action"}


def _tunnel(f: str, obj: str, name: str, spec: dict[str, Any], cloud_gws: dict[str, CloudGateway],
            devices: dict[str, Device], per_device: dict[str, int], col: _Collector) -> Tunnel | None:
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
    _unknown(f, obj, "ike", ike_in, IKE_KEYS, col)
    _unknown(f, obj, "ipsec", ipsec_in, IPSEC_KEYS, col)
    ike_raw = _merge(pdef.get("ike") or {}, ike_in)
    ipsec_raw = _merge(pdef.get("ipsec") or {}, ipsec_in)

    # One col.get per parameter, so every problem names its exact field (ike.dh_group, ...).
    def g(field: str, fn: Callable[[], Any]) -> Any:
        return col.get(f, obj, field, fn, _MISSING)

    ike_vals = {
        "version": g("ike.version", lambda: _ike_version(ike_raw.get("version"))),
        "mode": g("ike.mode", lambda: _name(ike_raw.get("mode", "main"), "ike.mode")),
        "encryption": g("ike.encryption", lambda: _name(ike_raw.get("encryption"), "ike.encryption")),
        "integrity": g("ike.integrity", lambda: _name(ike_raw.get("integrity"), "ike.integrity")),
        "dh_group": g("ike.dh_group", lambda: _dh(ike_raw.get("dh_group"), "ike.dh_group")),
        "lifetime": g("ike.lifetime", lambda: _int(ike_raw.get("lifetime"), "ike.lifetime", 60, 604800)),
    }
    dpd_raw = ipsec_raw.get("dpd") if ipsec_raw.get("dpd") is not None else {}
    if isinstance(dpd_raw, bool):
        dpd_raw = {"enabled": dpd_raw}
    if not isinstance(dpd_raw, dict):
        col.add(f, obj, "ipsec.dpd", f"must be true, false or a mapping, not {dpd_raw!r}")
        dpd_raw = {}
    _unknown(f, obj, "ipsec.dpd", dpd_raw, DPD_KEYS, col)
    dpd_vals = {
        "enabled": g("ipsec.dpd.enabled", lambda: _bool(dpd_raw.get("enabled", True), "ipsec.dpd.enabled")),
        "interval": g("ipsec.dpd.interval",
                      lambda: _int(dpd_raw.get("interval", 10), "ipsec.dpd.interval", 1, 3600)),
        "retries": g("ipsec.dpd.retries",
                     lambda: _int(dpd_raw.get("retries", 3), "ipsec.dpd.retries", 1, 100)),
        "action": g("ipsec.dpd.action", lambda: _name(dpd_raw.get("action", "restart"), "ipsec.dpd.action")),
    }
    pfs = ipsec_raw.get("pfs_group")
    ipsec_vals = {
        "encryption": g("ipsec.encryption", lambda: _name(ipsec_raw.get("encryption"), "ipsec.encryption")),
        "integrity": g("ipsec.integrity", lambda: _name(ipsec_raw.get("integrity"), "ipsec.integrity")),
        "pfs_group": g("ipsec.pfs_group", lambda: None if pfs in (None, False, "none", "off")
                       else _dh(pfs, "ipsec.pfs_group")),
        "lifetime": g("ipsec.lifetime",
                      lambda: _int(ipsec_raw.get("lifetime"), "ipsec.lifetime", 60, 604800)),
        "protocol": g("ipsec.protocol", lambda: _name(ipsec_raw.get("protocol", "esp"), "ipsec.protocol")),
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
    _unknown(f, obj, "identities", ids, {"local", "remote"}, col)
    local_id = col.get(f, obj, "identities.local",
                       lambda: _str(ids.get("local", str(device.public_ip)), "identities.local"), "")
    remote_id = col.get(f, obj, "identities.remote",
                        lambda: _str(ids.get("remote", str(cloud_ip)), "identities.remote"), "")
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
            _unknown(f, obj, "ping", p, {"source", "target", "count"}, col)
            src = col.get(f, obj, "ping.source", lambda: addr(single(p.get("source"), "ping.source")))
            dst = col.get(f, obj, "ping.target", lambda: addr(single(p.get("target"), "ping.target")))
            count = col.get(f, obj, "ping.count", lambda: _int(p.get("count", 3), "ping.count", 1, 100))
            if None not in (src, dst, count):
                ping = PingCheck(source=src, target=dst, count=count)
    initiation = col.get(f, obj, "initiation", lambda: single(spec.get("initiation", "start"), "initiation"),
                         "start")
    if initiation not in ("start", "trap", "none"):
        col.add(f, obj, "initiation", f"must be start, trap or none, not {initiation!r}")
    mtu = spec.get("mtu")
    if mtu is not None:
        mtu = col.get(f, obj, "mtu", lambda: _int(mtu, "mtu", 576, 9000))
    mss = spec.get("mss")
    if mss is not None:
        mss = col.get(f, obj, "mss", lambda: _int(mss, "mss", 536, 8960))
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


def _ike_version(value: Any) -> int:
    value = single(value, "ike.version")
    if isinstance(value, str):
        v = value.lower().replace("ikev", "").replace("v", "")
        if v.isdigit():
            value = int(v)
    if value not in (1, 2):
        raise ValueError(f"ike.version must be 1 or 2, not {value!r}")
    return value


def _routing(f: str, obj: str, raw: Any, device: Device, cloud: CloudGateway,
             col: _Collector) -> Routing | None:
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
    _unknown(f, obj, "routing.inside", inside, {"local", "remote"}, col)
    inside_local = col.get(f, obj, "routing.inside.local",
                           lambda: iface(single(inside.get("local"), "routing.inside.local")))
    inside_remote = col.get(f, obj, "routing.inside.remote",
                            lambda: addr(single(inside.get("remote"), "routing.inside.remote")))
    if inside_local is not None and inside_remote is not None and inside_remote not in inside_local.network:
        col.add(f, obj, "routing.inside.remote",
                f"{inside_remote} is not in the inside network {inside_local.network}")
    if inside_local is not None and inside_remote is not None and inside_remote == inside_local.ip:
        col.add(f, obj, "routing.inside.remote", "local and remote inside addresses are the same")
    routes = col.get(f, obj, "routing.routes", lambda: _tuple(raw.get("routes"), net, "routes"), ())
    bgp = None
    if mode == "bgp":
        b = raw.get("bgp") or {}
        if not isinstance(b, dict):
            col.add(f, obj, "routing.bgp", "must be a mapping of BGP settings")
            b = {}
        _unknown(f, obj, "routing.bgp", b,
                 {"local_asn", "remote_asn", "hold_time", "keepalive", "advertise"}, col)
        local_asn = b.get("local_asn", device.bgp_asn)
        remote_asn = b.get("remote_asn", cloud.bgp_asn)
        if local_asn is None:
            col.add(f, obj, "routing.bgp.local_asn", "BGP needs the device's ASN (host data.bgp_asn)")
        if remote_asn is None:
            col.add(f, obj, "routing.bgp.remote_asn", "BGP needs the cloud's ASN (host data.bgp_asn)")
        if local_asn is not None and remote_asn is not None:
            bgp = col.get(f, obj, "routing.bgp", lambda: Bgp(
                local_asn=_int(local_asn, "bgp.local_asn", 1, 4294967295),
                remote_asn=_int(remote_asn, "bgp.remote_asn", 1, 4294967295),
                hold_time=_int(b.get("hold_time", 30), "bgp.hold_time", 3, 65535),
                keepalive=_int(b.get("keepalive", 10), "bgp.keepalive", 1, 21845),
                advertise=_tuple(b.get("advertise", [str(n) for n in device.lan_subnets]), net, "advertise")))
    if inside_local is None or inside_remote is None:
        return None
    sels = tuple(Selector(lan, r) for lan in device.lan_subnets for r in routes)
    return Routing(mode=mode, selectors=sels, inside_local=inside_local, inside_remote=inside_remote,
                   static_routes=routes, bgp=bgp)
