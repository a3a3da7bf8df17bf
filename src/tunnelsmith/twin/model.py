"""What a vendor twin knows: the device's IPsec intent as read from its running config, and live SA state.

A twin is an SSH server speaking a vendor's CLI (see `templates/platforms/TWIN.md`). Its
platform's `twin/interpret.py` reads the running configuration into an `Interpretation`
(written from the vendor's command reference, never by running tunnelsmith's renderer
backwards); `tunnelsmith.twin.charon` runs the bound tunnels in a real charon; the platform's
show templates print `TunnelState` objects filled from charon's live SAs in the vendor's format.

Algorithm names are vendor-neutral, as in the inventory: encryption `des 3des aes-128 aes-192
aes-256 aes-128-gcm aes-256-gcm sm4`, integrity `md5 sha1 sha256 sha384 sha512 sm3`, DH and PFS
groups by number.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Proposal:
    """One IKE or ESP proposal. For ESP, `dh` is the PFS group (None: no PFS)."""

    encryption: str
    integrity: str | None = None  # None for AEAD (GCM) ciphers
    dh: int | None = None


@dataclass
class TwinTunnel:
    """One tunnel the device's configuration makes negotiate (configured *and* bound)."""

    name: str  # the vendor object that owns it: crypto map entry, ike peer, st0 unit ...
    ike_version: int  # 1 | 2
    local_addr: str  # WAN address IKE is sent from (the interface the map/tunnel is bound to)
    remote_addr: str
    psk: str
    ike: list[Proposal]
    esp: list[Proposal]
    aggressive: bool = False
    local_id: str | None = None  # None: the local address
    remote_id: str | None = None  # None: the remote address
    ike_lifetime: int | None = None  # seconds
    esp_lifetime: int | None = None  # seconds
    dpd_interval: int | None = None  # seconds; None: DPD off
    dpd_retries: int | None = None
    # policy-based: the protected pairs from the ACL / policy (local prefix, remote prefix)
    selectors: list[tuple[str, str]] = field(default_factory=list)
    # route-based: the tunnel interface, its inside address and the prefixes routed into it
    route_based: bool = False
    interface: str | None = None
    inside_local: str | None = None  # "169.254.10.2/30"
    routes: list[str] = field(default_factory=list)

    @property
    def inside_remote(self) -> str | None:
        """The other end of a /30 or /31 point-to-point inside network."""
        if not self.inside_local:
            return None
        iface = ipaddress.IPv4Interface(self.inside_local)
        hosts = [h for h in iface.network.hosts()] if iface.network.prefixlen < 31 else list(iface.network)
        others = [h for h in hosts if h != iface.ip]
        return str(others[0]) if len(others) == 1 else None


@dataclass
class Interpretation:
    """Everything generic twin code needs from one running configuration."""

    hostname: str
    interfaces: dict[str, list[str]] = field(default_factory=dict)  # name -> ["198.51.100.10/24", ...]
    tunnels: list[TwinTunnel] = field(default_factory=list)
    # configured but not negotiating, and why ("crypto map m1 is not applied to any interface")
    notes: list[str] = field(default_factory=list)

    def interface_of(self, address: str) -> str | None:
        for name, addrs in self.interfaces.items():
            if any(str(ipaddress.IPv4Interface(a).ip) == address for a in addrs):
                return name
        return None


@dataclass
class IkeState:
    """A live IKE SA (from charon), in vendor-neutral terms."""

    name: str
    unique_id: int
    version: int
    state: str  # charon's words: ESTABLISHED, CONNECTING, REKEYING, DELETING ...
    local_host: str
    local_port: int
    remote_host: str
    remote_port: int
    local_id: str
    remote_id: str
    initiator: bool
    spi_i: str  # 16 hex digits
    spi_r: str
    encryption: str | None = None  # neutral name
    integrity: str | None = None
    dh: int | None = None
    established_s: int | None = None
    rekey_s: int | None = None  # seconds until rekey (or reauth)
    nat: bool = False


@dataclass
class ChildState:
    """A live CHILD SA (from charon)."""

    name: str
    unique_id: int
    reqid: int
    state: str  # INSTALLED, REKEYING, ...
    mode: str  # TUNNEL
    protocol: str  # ESP
    encap: bool
    spi_in: str  # 8 hex digits
    spi_out: str
    encryption: str | None
    integrity: str | None
    dh: int | None  # PFS group used
    bytes_in: int
    packets_in: int
    bytes_out: int
    packets_out: int
    install_s: int
    rekey_s: int | None
    life_s: int | None
    local_ts: list[str]
    remote_ts: list[str]


@dataclass
class TunnelState:
    """One twin tunnel with its live SAs: what the vendor's show templates print."""

    tunnel: TwinTunnel
    ike: IkeState | None = None
    children: list[ChildState] = field(default_factory=list)

    @property
    def up(self) -> bool:
        return self.ike is not None and self.ike.state == "ESTABLISHED"


@dataclass
class PingReport:
    """A real ping run in the twin's namespace, for the vendor's ping template."""

    target: str
    source: str | None
    count: int
    size: int
    replies: list[dict[str, float | int]]  # {seq, ttl, rtt_ms}
    error: str | None = None  # e.g. "source address not configured"

    @property
    def sent(self) -> int:
        return self.count

    @property
    def received(self) -> int:
        return len(self.replies)

    @property
    def loss_pct(self) -> int:
        return round(100 * (self.sent - self.received) / self.sent) if self.sent else 100

    def _rtts(self) -> list[float]:
        return [float(r["rtt_ms"]) for r in self.replies]

    @property
    def rtt_min(self) -> float | None:
        return min(self._rtts()) if self.replies else None

    @property
    def rtt_avg(self) -> float | None:
        return sum(self._rtts()) / len(self.replies) if self.replies else None

    @property
    def rtt_max(self) -> float | None:
        return max(self._rtts()) if self.replies else None
