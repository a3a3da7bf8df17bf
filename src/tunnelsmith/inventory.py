"""Read a Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml) plus tunnels.yaml.

Hosts carry `data.role`: `cloud` for a cloud VPN gateway, `device` for an on-prem device.
Group and default `data` is inherited the way Nornir does it (host, then its groups in order,
then defaults). Tunnel parameters not given fall back to the cloud provider's defaults.

Loading collects every problem it can find (file, host or tunnel, field, why) and raises one
`InventoryError` with all of them; `validate.py` then checks the semantics. Value parsers live in
`values`, the shared problem collector in `collector`, tunnel parsing in `tunnel_loader`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tunnelsmith import clouds
from tunnelsmith.collector import Collector, merge
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.model import CloudGateway, Device, Inventory
from tunnelsmith.tunnel_loader import DPD_KEYS, IKE_KEYS, IPSEC_KEYS, parse_tunnels
from tunnelsmith.values import addr, boolean, iface, integer, net, one_string, secret_ref, single, tuple_of
from tunnelsmith.yamlio import DuplicateKeyError, load_strict

# Names other modules import from here (the value parsers moved to `values`, tunnels to `tunnel_loader`).
__all__ = ["DPD_KEYS", "FILES", "IKE_KEYS", "IPSEC_KEYS", "SECRET_FIELDS", "Inventory", "addr", "iface",
           "load", "net", "secret_ref", "single"]

FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml", "tunnels.yaml")
SECRET_FIELDS = ("password", "secret", "psk", "pre_shared_key", "key")


def _read(directory: Path, name: str, col: Collector, required: bool) -> Any:
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


def _resolved_data(host: dict[str, Any], groups: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Nornir's inheritance for `data`: defaults < groups (last listed weakest) < host."""
    data: dict[str, Any] = dict((defaults or {}).get("data") or {})
    for g in reversed(host.get("groups") or []):
        gdef = groups.get(g) or {}
        for parent in reversed(gdef.get("groups") or []):
            data = merge(data, (groups.get(parent) or {}).get("data") or {})
        data = merge(data, gdef.get("data") or {})
    return merge(data, host.get("data") or {})


def _attr(host: dict[str, Any], groups: dict[str, Any], defaults: dict[str, Any], name: str) -> Any:
    if host.get(name) is not None:
        return host[name]
    for g in host.get("groups") or []:
        if (groups.get(g) or {}).get(name) is not None:
            return groups[g][name]
    return (defaults or {}).get(name)


def load(directory: str | Path) -> Inventory:
    """Parse the inventory; raises InventoryError listing every structural problem."""
    d = Path(directory)
    col = Collector()
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

    tunnels = parse_tunnels(tf, tunnels_doc, cloud_gws, devices, col)
    if col.problems:
        raise InventoryError(col.problems)
    return Inventory(directory=str(d), clouds=cloud_gws, devices=devices, tunnels=tunnels)


def _check_plain_secrets(d: Path, hosts: Any, groups: Any, defaults: Any, col: Collector) -> None:
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


def _cloud(f: str, obj: str, name: str, data: dict[str, Any], col: Collector) -> CloudGateway | None:
    provider = data.get("provider")
    if provider not in clouds.available():
        col.add(f, obj, "data.provider",
                f"unknown provider {provider!r}; known: {', '.join(clouds.available())}")
        return None
    ips = col.get(f, obj, "data.public_ips", lambda: tuple_of(data.get("public_ips"), addr, "public_ips"), ())
    if not data.get("public_ips"):
        col.add(f, obj, "data.public_ips", "at least one public IP is required")
    subnets = col.get(f, obj, "data.vpc_subnets",
                      lambda: tuple_of(data.get("vpc_subnets"), net, "vpc_subnets"), ())
    if not data.get("vpc_subnets"):
        col.add(f, obj, "data.vpc_subnets", "at least one VPC subnet is required")
    asn = data.get("bgp_asn")
    if asn is not None:
        asn = col.get(f, obj, "data.bgp_asn", lambda: integer(asn, "bgp_asn", 1, 4294967295))
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
            defaults: dict[str, Any], data: dict[str, Any], col: Collector) -> Device | None:
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
                   lambda: integer(_attr(host, groups, defaults, "port") or 22, "port", 1, 65535), 22)
    public_ip = col.get(f, obj, "data.public_ip", lambda: addr(data.get("public_ip")))
    lans = col.get(f, obj, "data.lan_subnets",
                   lambda: tuple_of(data.get("lan_subnets"), net, "lan_subnets"), ())
    wan = data.get("wan_interface")
    if not wan:
        col.add(f, obj, "data.wan_interface", "WAN interface name is required")
    else:
        wan = col.get(f, obj, "data.wan_interface", lambda: one_string(wan, "wan_interface"), "")
    wan_nat = col.get(f, obj, "data.wan_nat", lambda: boolean(data.get("wan_nat", False), "wan_nat"), False)
    asn = data.get("bgp_asn")
    if asn is not None:
        asn = col.get(f, obj, "data.bgp_asn", lambda: integer(asn, "bgp_asn", 1, 4294967295))
    wan_mtu = col.get(f, obj, "data.wan_mtu",
                      lambda: integer(data.get("wan_mtu", 1500), "wan_mtu", 576, 9216), 1500)
    path_mtu = col.get(f, obj, "data.path_mtu",
                       lambda: integer(data.get("path_mtu", 1500), "path_mtu", 576, 9216), 1500)
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
