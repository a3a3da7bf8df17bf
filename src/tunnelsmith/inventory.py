"""Read a Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml) plus tunnels.yaml.

Hosts carry `data.role`: `cloud` for a cloud VPN gateway, `device` for an on-prem device.
Files are read with `yamlio`'s limits and validated against the one inventory model (`invmodel`,
which is also the published JSON Schema) before any value is used; inheritance is then resolved
by Nornir's own Host/Group/Defaults objects (host, then its groups in order, recursively, then
defaults). Tunnel parameters not given fall back to the cloud provider's defaults.

Loading collects every problem it can find (file, line, host or tunnel, field, why): values the
model refuses are reported and left out so the rest still loads and reports its own problems.
`validate.py` then checks the semantics. Value parsers live in `values`, the shared problem
collector in `collector`, tunnel parsing in `tunnel_loader`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nornir.core.inventory import Defaults as NDefaults
from nornir.core.inventory import Group as NGroup
from nornir.core.inventory import Host as NHost
from nornir.core.inventory import ParentGroups

from tunnelsmith import clouds, invcheck
from tunnelsmith import platform_names as pnames
from tunnelsmith.collector import Collector
from tunnelsmith.errors import InventoryError, Problem, shown
from tunnelsmith.model import CloudGateway, Device, Inventory
from tunnelsmith.tunnel_loader import DPD_KEYS, IKE_KEYS, IPSEC_KEYS, parse_tunnels
from tunnelsmith.values import addr, boolean, iface, integer, net, one_string, secret_ref, single, tuple_of
from tunnelsmith.yamlio import Loaded, YamlFileError, load_file

# Names other modules import from here (the value parsers moved to `values`, tunnels to `tunnel_loader`).
__all__ = ["DPD_KEYS", "FILES", "IKE_KEYS", "IPSEC_KEYS", "Inventory", "addr", "iface", "load", "load_partial",
           "locate", "net", "secret_ref", "single"]

FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml", "tunnels.yaml")


def locate(directory: str | Path, problems: list[Problem]) -> list[Problem]:
    """The problems with the line of their field filled in where the files tell it."""
    d = Path(directory)
    if all(p.line for p in problems):
        return problems
    loaded: dict[str, Loaded] = {}
    for stem in ("hosts", "groups", "tunnels"):
        try:
            loaded[str(d / f"{stem}.yaml")] = load_file(d / f"{stem}.yaml")
        except YamlFileError:
            continue
    return [p if p.line else _with_line(p, loaded.get(p.file)) for p in problems]


def _with_line(p: Problem, ld: Loaded | None) -> Problem:
    if ld is None or not p.obj:
        return p
    kind, _, name = p.obj.partition(" ")
    head: tuple[Any, ...]
    if kind in ("host", "group"):
        head = (name,)
    elif kind == "tunnel" and isinstance(ld.doc, dict) and isinstance(ld.doc.get("tunnels"), list):
        index = next((i for i, t in enumerate(ld.doc["tunnels"]) if isinstance(t, dict) and t.get("name") == name),
                     None)
        if index is None:
            return p
        head = ("tunnels", index)
    else:
        return p
    field = tuple(part for part in p.field.replace("]", "").replace("[", ".").split(".") if part)
    path = head + tuple(int(x) if x.isdigit() else x for x in field)
    line = ld.line_of(path)
    return Problem(p.file, p.obj, p.field, p.message, line) if line else p


def _read(directory: Path, name: str, col: Collector, required: bool) -> Loaded | None:
    path = directory / name
    if not os.path.lexists(path):
        if required:
            col.add(str(path), "", "", "file not found")
        return None
    try:
        return load_file(path)
    except YamlFileError as exc:
        col.problems.append(Problem(str(path), "", getattr(exc, "key", ""), exc.message, exc.line))
    return None


def nornir_objects(hosts: dict[str, Any], groups: dict[str, Any], defaults: dict[str, Any],
                   ) -> tuple[dict[str, NHost], dict[str, NGroup]]:
    """Nornir's own inventory objects over the validated files, so inheritance is exactly Nornir's:
    host, then its groups in order (each group's parents recursively), then defaults."""

    def attrs(d: dict[str, Any]) -> dict[str, Any]:
        return {k: d.get(k) for k in ("hostname", "port", "username", "platform")} | {"data": dict(d.get("data") or {})}

    nd = NDefaults(**attrs(defaults))
    ngroups = {name: NGroup(name=name, defaults=nd, **attrs(g)) for name, g in groups.items()}
    for name, g in groups.items():
        ngroups[name].groups = ParentGroups([ngroups[p] for p in g.get("groups") or [] if p in ngroups])
    nhosts = {name: NHost(name=name, defaults=nd, groups=ParentGroups(
        [ngroups[p] for p in h.get("groups") or [] if p in ngroups]), **attrs(h)) for name, h in hosts.items()}
    return nhosts, ngroups


def _group_cycles(groups: dict[str, Any]) -> list[list[str]]:
    """Group inheritance loops (Nornir would recurse forever on them)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycles.append([*path[path.index(name):], name])
            return
        state[name] = 1
        for parent in (groups.get(name) or {}).get("groups") or []:
            if parent in groups:
                visit(parent, [*path, name])
        state[name] = 2

    for name in groups:
        visit(name, [])
    return cycles


def load(directory: str | Path) -> Inventory:
    """Parse the inventory; raises InventoryError listing every problem the loader can see."""
    inv, problems = load_partial(directory)
    if problems or inv is None:
        raise InventoryError(problems)
    return inv


def load_partial(directory: str | Path) -> tuple[Inventory | None, list[Problem]]:
    """(inventory, problems): values the model refuses are reported and left out, so the rest of the
    inventory still loads and its own problems are found in the same run; None when nothing loads."""
    d = Path(directory)
    col = Collector()
    if not d.is_dir():
        return None, [Problem(str(d), "", "", "inventory directory not found")]
    loaded = {stem: _read(d, f"{stem}.yaml", col, required=stem in ("hosts", "tunnels"))
              for stem in ("hosts", "groups", "defaults", "tunnels")}
    if col.problems:
        return None, col.problems
    doc: dict[str, Any] = {stem: ld.doc for stem, ld in loaded.items() if ld is not None and ld.doc is not None}
    doc.setdefault("hosts", {})
    doc.setdefault("tunnels", {})
    files = {stem: str(d / f"{stem}.yaml") for stem in loaded}
    structural = invcheck.check(doc, files, {k: v for k, v in loaded.items() if v is not None})
    usable = invcheck.pruned(doc) if structural else doc
    if usable is None:
        return None, structural
    try:
        return _build(d, usable, col), structural
    except InventoryError as exc:  # the rest of the inventory's problems, minus echoes of the refused values
        return None, structural + [p for p in exc.problems if not echo(p, structural)]


def echo(p: Problem, structural: list[Problem]) -> bool:
    """A loader problem caused by removing a refused value (same object, same or enclosing field)."""
    for s in structural:
        if (p.file, p.obj) == (s.file, s.obj) and (not p.field or not s.field or p.field == s.field
                                                   or s.field.startswith(p.field + ".")
                                                   or p.field.startswith(s.field + ".")):
            return True
    return False


def _build(d: Path, doc: dict[str, Any], col: Collector) -> Inventory:
    """The model objects from a structurally valid document; InventoryError lists every problem."""
    hosts: dict[str, Any] = doc["hosts"]
    groups: dict[str, Any] = doc.get("groups") or {}
    defaults: dict[str, Any] = doc.get("defaults") or {}
    hf, tf = str(d / "hosts.yaml"), str(d / "tunnels.yaml")
    gf = str(d / "groups.yaml")
    for kind, f, table in (("host", hf, hosts), ("group", gf, groups)):
        for name, entry in table.items():
            for g in (entry or {}).get("groups") or []:
                if g not in groups:
                    col.add(f, f"{kind} {name}", "groups", f"unknown group {shown(g)}"
                            f"{invcheck.suggest(g, list(groups))}")
    for cycle in _group_cycles(groups):
        col.add(gf, f"group {cycle[0]}", "groups", f"groups inherit in a loop: {' -> '.join(cycle)}")
    if col.problems:
        raise InventoryError(col.problems)
    nhosts, _ = nornir_objects({k: v or {} for k, v in hosts.items()}, {k: v or {} for k, v in groups.items()},
                               defaults)

    cloud_gws: dict[str, CloudGateway] = {}
    devices: dict[str, Device] = {}
    for name, _host in hosts.items():
        name = str(name)
        obj = f"host {name}"
        if name in groups:
            col.add(hf, obj, "", f"{name!r} is both a host (hosts.yaml) and a group (groups.yaml); "
                    "Nornir filters would be ambiguous")
        nhost = nhosts[name]
        data = nhost.extended_data()
        role = data.get("role")
        if role == "cloud":
            gw = _cloud(hf, obj, name, data, col)
            if gw:
                cloud_gws[name] = gw
        elif role == "device":
            dev = _device(hf, obj, name, nhost, data, col)
            if dev:
                devices[name] = dev
        else:
            col.add(hf, obj, "data.role", f"must be 'cloud' or 'device' (on the host, a group or defaults), "
                    f"not {shown(role)}")

    tunnels = parse_tunnels(tf, doc["tunnels"], cloud_gws, devices, col)
    if col.problems:
        raise InventoryError(col.problems)
    return Inventory(directory=str(d), clouds=cloud_gws, devices=devices, tunnels=tunnels)


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


def _device(f: str, obj: str, name: str, nhost: NHost, data: dict[str, Any], col: Collector) -> Device | None:
    raw_platform = nhost.platform
    found = pnames.canonical(raw_platform)
    if found is None:
        hint = invcheck.suggest(raw_platform, pnames.accepted())
        col.add(f, obj, "platform", f"unknown platform {shown(raw_platform)}{hint}; "
                f"known: {', '.join(pnames.accepted())}")
        return None
    platform, implied = found
    hostname = nhost.hostname
    if not hostname:
        col.add(f, obj, "hostname", "management address is required (on the host, a group or defaults)")
    port = nhost.port or 22
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
    if public_ip is None or not hostname:
        return None
    options = {**implied, **{k: v for k, v in (data.get(platform) or {}).items() if v is not None}}
    return Device(name=name, platform=platform, hostname=str(hostname), port=port,
                  username=nhost.username, wan_interface=str(wan or ""),
                  public_ip=public_ip, lan_subnets=lans, bgp_asn=asn, wan_mtu=wan_mtu or 1500,
                  path_mtu=path_mtu or 1500, wan_nat=wan_nat, password=pw,
                  ssh={k: v for k, v in (data.get("ssh") or {}).items() if v is not None}, options=options)
