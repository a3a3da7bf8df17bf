"""What the lab builds for an inventory, and whether it is safe to build it.

Pure data and checks, no side effects: the address-plan rule of LAB.md (only the lab ranges,
and no collision with a route the machine already has) is decided here so it can be tested
with injected route text.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tunnelsmith.errors import LabError
from tunnelsmith.model import Device, Inventory
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.render import platform_options
from tunnelsmith.twin.platform import has_twin

PREFIX = "ts-"
INET_NS = "ts-inet"
IFNAMSIZ = 15
UNDERLAY = (ipaddress.IPv4Network("198.51.100.0/24"), ipaddress.IPv4Network("203.0.113.0/24"))
MGMT_LAN = ipaddress.IPv4Network("198.18.0.0/15")
INSIDE = ipaddress.IPv4Network("169.254.0.0/16")
LAB_RANGES = (*UNDERLAY, MGMT_LAN, INSIDE)
# Veth /30s between a router and its tunnel namespaces (lab/tunnelns.py): one /26 per node.
TUNNEL_LINKS = ipaddress.IPv4Network("198.19.240.0/20")
CLOUD_WAN_IF = "eth0"
MGMT_IF = "mgmt0"
SAFE_IFNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$")
# A box configured through the legacy ipsec.conf runs the starter (which launches charon and
# feeds it ipsec.conf over stroke), as Debian's strongswan-starter service does.
LEGACY_CONF = "/etc/ipsec.conf"


def short_name(prefix: str, name: str, limit: int = IFNAMSIZ) -> str:
    """`prefix + name`, made kernel-safe; over `limit` chars it keeps a head and a hash, deterministically."""
    clean = re.sub(r"[^a-z0-9-]", "-", name.lower())
    full = prefix + clean
    if len(full) <= limit and clean == name.lower():
        return full
    digest = hashlib.sha1(name.encode()).hexdigest()[:4]
    head = clean[: max(0, limit - len(prefix) - 5)].rstrip("-")
    return f"{prefix}{head}-{digest}" if head else f"{prefix}{digest}"


@dataclass(frozen=True)
class Mgmt:
    """The management veth between the root namespace and a device."""

    root_if: str
    root_addr: ipaddress.IPv4Interface
    dev_addr: ipaddress.IPv4Interface
    port: int


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "cloud" | "device"
    ns: str
    inet_if: str  # its veth end inside ts-inet
    wan_if: str  # its veth end inside its own namespace
    public_ips: tuple[ipaddress.IPv4Address, ...]
    lo_addrs: tuple[ipaddress.IPv4Interface, ...]  # LAN/VPC first hosts and tunnel inside addresses
    mgmt: Mgmt | None = None
    daemon: str = "charon"  # "charon" (swanctl over vici) | "starter" (legacy ipsec.conf)
    platform: str | None = None
    twin: bool = False  # a vendor twin (tunnelsmith.twin) answers SSH instead of OpenSSH
    tunnel_links: ipaddress.IPv4Network | None = None  # /30s for its tunnel namespaces
    # (tunnel name, index) of the route-based tunnels the lab runs in tunnel namespaces (clouds)
    tunnel_ns: tuple[tuple[str, int], ...] = ()

    @property
    def roles(self) -> tuple[str, ...]:
        """The processes this node runs, in start order."""
        if self.kind == "cloud":
            return ("holder", "charon")
        extra = ("starter",) if self.daemon == "starter" else ()
        return ("holder", *extra, "charon", "twin" if self.twin else "sshd")


@dataclass(frozen=True)
class LabPlan:
    router: ipaddress.IPv4Address  # ts-inet's own address, the default gateway of every node
    nodes: tuple[Node, ...] = field(default_factory=tuple)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise LabError(f"no lab node named {name!r}")


def first_host(net: ipaddress.IPv4Network) -> ipaddress.IPv4Interface:
    host = net.network_address + (1 if net.prefixlen < 31 else 0)
    return ipaddress.IPv4Interface(f"{host}/{net.prefixlen}")


def _in(addr: ipaddress.IPv4Address | ipaddress.IPv4Network, ranges: tuple[ipaddress.IPv4Network, ...]) -> bool:
    if isinstance(addr, ipaddress.IPv4Network):
        return any(addr.subnet_of(r) for r in ranges)
    return any(addr in r for r in ranges)


def _mgmt_pair(hostname: str, port: int, root_if: str) -> Mgmt:
    """Device side = inventory hostname; root side = the other host of its /30."""
    dev = ipaddress.IPv4Address(hostname)
    net = ipaddress.IPv4Network(f"{dev}/30", strict=False)
    hosts = list(net.hosts())
    if dev not in hosts:
        raise ValueError(f"{dev} is the network or broadcast address of {net}")
    root = hosts[1] if dev == hosts[0] else hosts[0]
    return Mgmt(root_if=root_if, root_addr=ipaddress.IPv4Interface(f"{root}/30"),
                dev_addr=ipaddress.IPv4Interface(f"{dev}/30"), port=port)


def address_problems(inv: Inventory) -> list[str]:
    """Every inventory address the lab would use that lies outside LAB.md's ranges for its role."""
    out: list[str] = []

    def need(ok: bool, what: str, value: object, where: str) -> None:
        if not ok:
            out.append(f"{what} {value} is outside {where}")

    under = "the lab underlay ranges 198.51.100.0/24, 203.0.113.0/24"
    for c in inv.clouds.values():
        for ip in c.public_ips:
            need(_in(ip, UNDERLAY), f"cloud {c.name} public IP", ip, under)
        for n in c.vpc_subnets:
            need(_in(n, (MGMT_LAN,)), f"cloud {c.name} VPC subnet", n, "198.18.0.0/15")
    for d in inv.devices.values():
        need(_in(d.public_ip, UNDERLAY), f"device {d.name} public IP", d.public_ip, under)
        try:
            mg = _mgmt_pair(d.hostname, d.port, "x")
            need(_in(mg.dev_addr.network, (MGMT_LAN,)), f"device {d.name} management address", d.hostname,
                 "198.18.0.0/15")
        except ValueError as exc:
            out.append(f"device {d.name} management address {d.hostname!r} is not usable: {exc}")
        for n in d.lan_subnets:
            need(_in(n, (MGMT_LAN,)), f"device {d.name} LAN subnet", n, "198.18.0.0/15")
    for t in inv.tunnels.values():
        r = t.routing
        if r.inside_local is not None:
            need(_in(r.inside_local.network, (INSIDE,)), f"tunnel {t.name} inside address", r.inside_local,
                 "169.254.0.0/16")
        if r.inside_remote is not None:
            need(_in(r.inside_remote, (INSIDE,)), f"tunnel {t.name} inside address", r.inside_remote,
                 "169.254.0.0/16")
        for s in r.selectors:
            for n in (s.local, s.remote):
                need(_in(n, (MGMT_LAN,)), f"tunnel {t.name} selector", n, "198.18.0.0/15")
        for n in r.static_routes:
            need(_in(n, (MGMT_LAN,)), f"tunnel {t.name} route", n, "198.18.0.0/15")
        if t.ping:
            for a in (t.ping.source, t.ping.target):
                need(_in(a, (MGMT_LAN, INSIDE)), f"tunnel {t.name} ping address", a,
                     "198.18.0.0/15 or 169.254.0.0/16")
    return out


_ROUTE_TYPES = {"unicast", "local", "broadcast", "multicast", "unreachable", "blackhole", "prohibit",
                "throw", "nat", "anycast"}


def route_conflicts(route_text: str, prefix: str = PREFIX) -> list[str]:
    """Routes (from `ip -4 route show table all`) overlapping a lab range, except on our own links.

    The default route (0.0.0.0/0) is not a collision; anything more specific that overlaps is,
    including unreachable/blackhole routes, which have no device.
    """
    out: list[str] = []
    for line in route_text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] in _ROUTE_TYPES:
            words = words[1:]
        if not words or words[0] == "default":
            continue
        try:
            dest = ipaddress.IPv4Network(words[0], strict=False)
        except ValueError:
            continue
        if dest.prefixlen == 0:
            continue
        dev = words[words.index("dev") + 1] if "dev" in words[:-1] else ""
        if dev.startswith(prefix):
            continue
        hit = [str(r) for r in LAB_RANGES if dest.overlaps(r)]
        if hit:
            out.append(f"route '{line.strip()}' overlaps lab range {', '.join(hit)}")
    return out


def device_daemon(dev: Device) -> str:
    """"starter" when the device's platform data renders its config into /etc/ipsec.conf."""
    try:
        spec = pspec.load(dev.platform)
    except KeyError:
        return "charon"
    if has_twin(dev.platform):
        return "charon"  # a twin writes swanctl configuration for the node's charon itself
    opts = platform_options(spec, dev.options)
    outputs = (spec.section("sides").get("device") or {}).get("outputs") or []
    paths = {o["path"] for o in outputs if all(opts.get(k) == v for k, v in (o.get("when") or {}).items())}
    return "starter" if LEGACY_CONF in paths else "charon"


def tunnel_interface(inv: Inventory, device: str) -> bool:
    """Whether the device's route-based tunnels are tunnel interfaces in the lab (a vendor twin's).

    A twin emulates its tunnel interfaces with tunnel namespaces that negotiate 0.0.0.0/0, so the
    cloud end of those tunnels runs in a tunnel namespace too. strongSwan devices still negotiate
    explicit pairs (their rendered output), so their cloud ends stay in the gateway's charon.
    """
    return has_twin(inv.devices[device].platform)


def _next_block(blocks: Iterator[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    block = next(blocks, None)
    if block is None:
        raise LabError(f"more nodes with tunnel interfaces than {TUNNEL_LINKS} has /26 blocks for")
    return block


def _router(inv: Inventory) -> ipaddress.IPv4Address:
    used = {ip for c in inv.clouds.values() for ip in c.public_ips} | {d.public_ip for d in inv.devices.values()}
    for net in reversed(UNDERLAY):
        for host in reversed(list(net.hosts())):
            if host not in used:
                return host
    raise LabError("no free underlay address left for the lab router")


def build(inv: Inventory) -> LabPlan:
    """The lab for this inventory; raises LabError when any address breaks the address plan."""
    problems = address_problems(inv)
    if problems:
        raise LabError("the inventory does not follow the lab address plan (LAB.md):\n  " + "\n  ".join(problems))
    nodes: list[Node] = []
    inside_by_cloud: dict[str, list[ipaddress.IPv4Interface]] = {}
    inside_by_device: dict[str, list[ipaddress.IPv4Interface]] = {}
    ns_by_cloud: dict[str, list[str]] = {}
    for t in sorted(inv.tunnels.values(), key=lambda t: t.name):
        r = t.routing
        if r.inside_local is not None and r.inside_remote is not None and tunnel_interface(inv, t.device):
            # a tunnel interface on both ends: each inside address sits on its veth (lab/tunnelns.py)
            ns_by_cloud.setdefault(t.cloud, []).append(t.name)
        elif r.inside_local is not None and r.inside_remote is not None:
            # /32 on lo: a /30 on a loopback makes the whole /30 local, the peer's address included
            inside_by_device.setdefault(t.device, []).append(ipaddress.IPv4Interface(f"{r.inside_local.ip}/32"))
            inside_by_cloud.setdefault(t.cloud, []).append(ipaddress.IPv4Interface(f"{r.inside_remote}/32"))
    blocks = TUNNEL_LINKS.subnets(new_prefix=26)
    for c in sorted(inv.clouds.values(), key=lambda c: c.name):
        ns = short_name("ts-c-", c.name)
        lo = tuple(first_host(n) for n in c.vpc_subnets) + tuple(inside_by_cloud.get(c.name, []))
        mine = tuple((name, i) for i, name in enumerate(ns_by_cloud.get(c.name, []), 1))
        nodes.append(Node(name=c.name, kind="cloud", ns=ns, inet_if=ns, wan_if=CLOUD_WAN_IF,
                          public_ips=tuple(c.public_ips), lo_addrs=lo, tunnel_ns=mine,
                          tunnel_links=_next_block(blocks) if mine else None))
    mgmt_nets: dict[ipaddress.IPv4Network, str] = {}
    for d in sorted(inv.devices.values(), key=lambda d: d.name):
        ns = short_name("ts-d-", d.name)
        mg = _mgmt_pair(d.hostname, d.port, short_name("ts-m-", d.name))
        if mg.dev_addr.network in mgmt_nets:
            raise LabError(f"devices {mgmt_nets[mg.dev_addr.network]} and {d.name} share the management "
                           f"network {mg.dev_addr.network}")
        mgmt_nets[mg.dev_addr.network] = d.name
        wan = d.wan_interface if SAFE_IFNAME.match(d.wan_interface or "") else "wan0"
        lo = tuple(first_host(n) for n in d.lan_subnets) + tuple(inside_by_device.get(d.name, []))
        nodes.append(Node(name=d.name, kind="device", ns=ns, inet_if=ns, wan_if=wan,
                          public_ips=(d.public_ip,), lo_addrs=lo, mgmt=mg, daemon=device_daemon(d),
                          platform=d.platform, twin=has_twin(d.platform),
                          tunnel_links=_next_block(blocks) if tunnel_interface(inv, d.name) else None))
    seen: dict[str, str] = {}
    for n in nodes:
        if n.ns in seen:
            raise LabError(f"{seen[n.ns]} and {n.name} map to the same namespace name {n.ns}")
        seen[n.ns] = n.name
    for n in nodes:
        for net in (a.network for a in n.lo_addrs):
            if net.overlaps(TUNNEL_LINKS):
                raise LabError(f"{n.name}: {net} overlaps {TUNNEL_LINKS}, which the lab keeps for tunnel interfaces")
            for other, name in mgmt_nets.items():
                if net.overlaps(other):
                    raise LabError(f"{n.name}: {net} overlaps the management network of {name} ({other})")
    return LabPlan(router=_router(inv), nodes=tuple(nodes))
