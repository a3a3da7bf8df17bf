"""The vendor-neutral intent: cloud gateways, on-prem devices and the tunnels between them.

Everything here is plain data. Platform templates read it through `TunnelEnd`, a view of one
tunnel from one side, so the same template can render the device side and (for strongSwan,
in the lab) the cloud side of the very same intent: both ends match by construction.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal

Net = ipaddress.IPv4Network
Addr = ipaddress.IPv4Address
Iface = ipaddress.IPv4Interface

RoutingMode = Literal["policy", "static", "bgp"]
Side = Literal["device", "cloud"]


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives. Never the value itself (see `tunnelsmith.secrets`)."""

    env: str | None = None
    file: str | None = None
    key: str | None = None

    def describe(self) -> str:
        if self.env:
            return f"environment variable {self.env}"
        return f"key {self.key!r} in {self.file}"


@dataclass(frozen=True)
class IkePolicy:
    version: int  # 1 or 2
    mode: str  # main | aggressive (IKEv1 only)
    encryption: str  # vendor-neutral name: aes-128, aes-192, aes-256, 3des, sm4, ...
    integrity: str  # sha1, sha256, sha384, sha512, md5, sm3
    dh_group: int  # 2, 5, 14, 19, 20, ...
    lifetime: int  # seconds


@dataclass(frozen=True)
class Dpd:
    enabled: bool = True
    interval: int = 10  # seconds between probes
    retries: int = 3  # probes lost before the peer is declared dead
    action: str = "restart"  # restart | clear | hold

    @property
    def timeout(self) -> int:
        return self.interval * self.retries


@dataclass(frozen=True)
class IpsecPolicy:
    encryption: str
    integrity: str
    pfs_group: int | None  # None: PFS off
    lifetime: int
    protocol: str = "esp"
    dpd: Dpd = field(default_factory=Dpd)


@dataclass(frozen=True)
class Selector:
    """One protected flow, from the device's point of view."""

    local: Net
    remote: Net

    def mirrored(self) -> Selector:
        return Selector(local=self.remote, remote=self.local)


@dataclass(frozen=True)
class Bgp:
    local_asn: int  # the device's ASN
    remote_asn: int  # the cloud's ASN
    hold_time: int = 30
    keepalive: int = 10
    advertise: tuple[Net, ...] = ()  # prefixes the device announces


@dataclass(frozen=True)
class Routing:
    mode: RoutingMode
    selectors: tuple[Selector, ...] = ()  # policy-based: the interest flows
    inside_local: Iface | None = None  # route-based: device's tunnel inside address (with prefix)
    inside_remote: Addr | None = None  # route-based: cloud's tunnel inside address
    static_routes: tuple[Net, ...] = ()  # route-based static: remote prefixes routed into the tunnel
    bgp: Bgp | None = None

    @property
    def route_based(self) -> bool:
        return self.mode in ("static", "bgp")


@dataclass(frozen=True)
class PingCheck:
    source: Addr  # inside the device's protected range
    target: Addr  # inside the cloud's protected range
    count: int = 3


@dataclass(frozen=True)
class CloudGateway:
    name: str
    provider: str  # ctyun | jdcloud | aws | generic
    public_ips: tuple[Addr, ...]
    vpc_subnets: tuple[Net, ...]
    bgp_asn: int | None = None
    gateway_type: str = "standard"  # standard | sm (national crypto, CTyun "国密型")
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Device:
    name: str
    platform: str  # strongswan | cisco_ios | juniper_junos | huawei_vrp | hp_comware | hillstone_stoneos
    hostname: str  # management address for SSH
    port: int
    username: str | None
    wan_interface: str
    public_ip: Addr
    lan_subnets: tuple[Net, ...]
    bgp_asn: int | None = None
    wan_mtu: int = 1500
    path_mtu: int = 1500
    wan_nat: bool = False  # the WAN interface does source NAT (Huawei: needs a no-nat policy)
    password: SecretRef | None = None
    ssh: dict[str, Any] = field(default_factory=dict)  # key_file, known_hosts, trust_on_first_use
    options: dict[str, Any] = field(default_factory=dict)  # platform options, e.g. strongswan.format


@dataclass(frozen=True)
class Tunnel:
    name: str
    cloud: str
    device: str
    cloud_ip: Addr  # which of the cloud gateway's public IPs this tunnel uses
    ike: IkePolicy
    ipsec: IpsecPolicy
    local_id: str  # device's IKE identity
    remote_id: str  # cloud's IKE identity
    psk: SecretRef
    routing: Routing
    ping: PingCheck | None = None
    initiation: str = "start"  # start (negotiate now) | trap (on traffic) | none (respond only)
    mtu: int | None = None  # tunnel MTU; derived from the device and cloud profile when unset
    mss: int | None = None
    index: int = 0  # position among the device's tunnels (0-based), for numbering on platforms
    source_file: str = ""


@dataclass(frozen=True)
class Inventory:
    directory: str
    clouds: dict[str, CloudGateway]
    devices: dict[str, Device]
    tunnels: dict[str, Tunnel]

    def tunnels_of(self, device: str) -> list[Tunnel]:
        return sorted((t for t in self.tunnels.values() if t.device == device), key=lambda t: t.index)

    def tunnels_of_cloud(self, cloud: str) -> list[Tunnel]:
        return sorted((t for t in self.tunnels.values() if t.cloud == cloud), key=lambda t: t.name)


@dataclass(frozen=True)
class TunnelEnd:
    """One tunnel seen from one side. Templates use only these names, never 'device'/'cloud'."""

    tunnel: Tunnel
    side: Side
    local_ip: Addr
    remote_ip: Addr
    local_id: str
    remote_id: str
    selectors: tuple[Selector, ...]  # local/remote from this side's view
    inside_local: Iface | None
    inside_remote: Addr | None
    routes: tuple[Net, ...]  # prefixes this side routes into the tunnel
    local_asn: int | None
    remote_asn: int | None
    mtu: int
    mss: int

    @property
    def name(self) -> str:
        return self.tunnel.name

    @property
    def ike(self) -> IkePolicy:
        return self.tunnel.ike

    @property
    def ipsec(self) -> IpsecPolicy:
        return self.tunnel.ipsec

    @property
    def routing(self) -> Routing:
        return self.tunnel.routing

    @property
    def index(self) -> int:
        return self.tunnel.index

    @property
    def local_subnets(self) -> tuple[Net, ...]:
        return tuple(dict.fromkeys(s.local for s in self.selectors))

    @property
    def remote_subnets(self) -> tuple[Net, ...]:
        return tuple(dict.fromkeys(s.remote for s in self.selectors))
