"""Judge each tunnel from vendor-neutral status: phase 1, phase 2 per selector pair, ping.

The JSON shape of a tunnel verdict is a published contract (README, "Verdict JSON"): fields may
be added, never renamed or dropped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from tunnelsmith.model import TunnelEnd
from tunnelsmith.platforms.spec import PlatformSpec
from tunnelsmith.status import ChildSa, DeviceStatus, IkeSa, PingResult


@dataclass
class TunnelVerdict:
    name: str
    device: str
    cloud: str
    phase1: dict[str, Any]
    phase2: list[dict[str, Any]]
    ping: dict[str, Any] | None
    diagnosis: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        p1 = self.phase1.get("state") == "up"
        p2 = bool(self.phase2) and all(c.get("state") == "up" for c in self.phase2)
        ping_ok = self.ping is None or (self.ping.get("received", 0) > 0 and self.ping.get("loss_pct", 100) < 100)
        return p1 and p2 and ping_ok

    def as_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "device": self.device, "cloud": self.cloud, "ok": self.ok,
             "phase1": self.phase1, "phase2": self.phase2, "ping": self.ping, "diagnosis": self.diagnosis}
        d.update(self.extra)
        return d


def expected_pairs(end: TunnelEnd, spec: PlatformSpec) -> list[tuple[str, str]]:
    """Selector pairs that must each have an installed CHILD SA on this platform."""
    pairs = [(str(s.local), str(s.remote)) for s in end.selectors]
    if end.routing.route_based:
        mode = spec.section("verify").get("route_based_selectors", "any")
        if mode == "explicit" and end.inside_local is not None:
            pairs.insert(0, (f"{end.inside_local.ip}/32", f"{end.inside_remote}/32"))
        elif mode != "explicit":
            pairs = [("0.0.0.0/0", "0.0.0.0/0")]
    return pairs


def _covers(ts_list: list[str], want: str) -> bool:
    w = ipaddress.IPv4Network(want)
    for ts in ts_list:
        try:
            if w.subnet_of(ipaddress.IPv4Network(ts, strict=False)):
                return True
        except ValueError:
            continue
    return False


def find_ike(end: TunnelEnd, status: DeviceStatus) -> IkeSa | None:
    by_name = [s for s in status.ike if s.name == end.name]
    by_peer = [s for s in status.ike if s.remote_host == str(end.remote_ip)]
    candidates = by_name or by_peer
    up = [s for s in candidates if s.up]
    return (up or candidates or [None])[0]


ANY = "0.0.0.0/0"


def find_child(pair: tuple[str, str], ike: IkeSa | None, status: DeviceStatus, peer: str | None = None,
               selectors_shown: bool = True) -> ChildSa | None:
    """The CHILD SA protecting `pair`: among the IKE SA's children, else those with this peer, else all.

    An SA that shows no selectors at all (a tunnel interface's SA on VRP, say) protects whatever
    is routed into its interface: it carries the any-to-any pair of a route-based tunnel.
    """
    if ike and ike.name and any(c.ike_name for c in status.children):
        pool = status.children_for(ike.name)  # the output ties SAs to IKE SAs: only this one's count
    elif peer and any(c.remote_host for c in status.children):
        # the output names each SA's peer: another peer's SA (say a tunnel interface's any-to-any
        # SA) never stands in for this tunnel's, even when none of this peer's is left
        pool = [c for c in status.children if c.remote_host == peer]
    else:
        pool = status.children

    def carries(c: ChildSa) -> bool:
        if not c.local_ts and not c.remote_ts:
            # no selectors shown: a tunnel interface's SA carries the any-to-any pair; on a platform
            # whose parsed output never shows selectors (verify.selectors_shown: false) the peer's SA
            # is all there is to go by
            return pair == (ANY, ANY) or (not selectors_shown and peer is not None and c.remote_host == peer)
        return _covers(c.local_ts, pair[0]) and _covers(c.remote_ts, pair[1])

    matches = [c for c in pool if carries(c)]
    up = [c for c in matches if c.up]
    return (up or matches or [None])[0]


def phase1(end: TunnelEnd, ike: IkeSa | None) -> dict[str, Any]:
    if ike is None:
        return {"state": "down", "version": end.ike.version, "proposal": None,
                "detail": f"no IKE SA with {end.remote_ip}"}
    state = "up" if ike.up else "down"
    detail = f"IKE SA {ike.vendor_state or ike.state} with {ike.remote_host or end.remote_ip}"
    if ike.up and ike.remote_host and ike.remote_host != str(end.remote_ip):
        state, detail = "down", f"IKE SA is with {ike.remote_host}, expected {end.remote_ip}"
    return {"state": state, "version": ike.version or end.ike.version, "proposal": ike.proposal, "detail": detail,
            "remote_id": ike.remote_id}


def inferred_phase1(end: TunnelEnd, spec: PlatformSpec, status: DeviceStatus) -> IkeSa | None:
    """Phase 1 read off an IPsec SA, where the platform's IKE SA listing has no tested parser.

    `verify.phase1_from_phase2: [versions]` (platform data, with the reason beside it): no real
    output of the IKE SA command was found to test a parser on, so rather than guess its format,
    an installed IPsec SA with the expected peer (which needs a live IKE SA to exist) stands in.
    """
    versions = spec.section("verify").get("phase1_from_phase2") or []
    if end.ike.version not in versions:
        return None
    peer = str(end.remote_ip)
    if any(c.up and c.remote_host == peer for c in status.children):
        return IkeSa(name="", state="up", version=end.ike.version, remote_host=peer,
                     vendor_state="inferred from an IPsec SA")
    return None


def phase2(end: TunnelEnd, spec: PlatformSpec, ike: IkeSa | None, status: DeviceStatus) -> list[dict[str, Any]]:
    out = []
    shown = bool(spec.section("verify").get("selectors_shown", True))
    for local, remote in expected_pairs(end, spec):
        child = find_child((local, remote), ike, status, str(end.remote_ip), shown) if ike else None
        out.append({"local_ts": local, "remote_ts": remote,
                    "state": "up" if child is not None and child.up else "down",
                    "bytes_in": child.bytes_in if child else None,
                    "bytes_out": child.bytes_out if child else None,
                    "proposal": child.proposal if child else None})
    return out


def evaluate(end: TunnelEnd, spec: PlatformSpec, status: DeviceStatus, ping: PingResult | None) -> TunnelVerdict:
    ike = find_ike(end, status) or inferred_phase1(end, spec, status)
    return TunnelVerdict(name=end.name, device=end.tunnel.device, cloud=end.tunnel.cloud,
                         phase1=phase1(end, ike), phase2=phase2(end, spec, ike, status),
                         ping=ping.as_dict() if ping else None)
