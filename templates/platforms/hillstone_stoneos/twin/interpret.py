"""Hillstone StoneOS running configuration -> the tunnels the device would negotiate.

Written from the StoneOS CLI manual V5.5R12F2 (chapter 12 VPN, chapter 5 policy, chapter 6 routing),
not from tunnelsmith's templates. StoneOS semantics used here:

* `isakmp proposal` (P1): defaults `authentication pre-share`, `hash sha`, `encryption 3des`,
  `group 2`, `lifetime 86400`; the running config omits defaults, so a missing line is the default.
* `ipsec proposal` (P2): defaults `protocol esp`, `hash sha`, `encryption 3des`, `group nopfs`,
  `lifetime 28800`; several encryption/hash words are alternatives offered together.
* `isakmp peer` (ISAKMP gateway): `interface` is the interface IKE is sent from, `protocol-standard`
  defaults to ikev1, `mode` to main, `type` to static; `peer` is the remote address; up to four P1
  proposals; `dpd` alone means interval 10, retry 3.
* `tunnel ipsec NAME auto` (IKE tunnel): `isakmp-peer`, up to three P2 proposals, phase-2 IDs
  `id local A/M remote B/M service S` (default `id auto`), `disable` turns the tunnel off.
* A tunnel negotiates only when bound: route-based, an `interface tunnelN` carries
  `tunnel ipsec NAME`; policy-based, an enabled policy rule has `action tunnel NAME`.
  With `id auto`, a policy-based tunnel's proxy IDs are the rule's source x destination addresses.
"""

# No `from __future__ import annotations`: the twin may load this file without registering it in
# sys.modules, and dataclasses then cannot resolve string annotations.
import ipaddress
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunnelsmith.platforms.emulator import Node, parse_tree
from tunnelsmith.resources import load_yaml
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel

_TABLES: dict[str, dict[str, Any]] = (load_yaml(Path(__file__).with_name("twin.yaml")) or {})["algorithms"]


def _words(text: str) -> list[str]:
    """A config line's words with StoneOS double quotes removed."""
    try:
        return shlex.split(text.strip())
    except ValueError:
        return text.split()


def _prefix(text: str) -> str | None:
    """'A.B.C.D/M', 'A.B.C.D M.M.M.M' or a bare address -> 'A.B.C.D/M' interface notation."""
    try:
        return str(ipaddress.IPv4Interface(text.replace(" ", "/")))
    except ValueError:
        return None


def _network(text: str) -> str | None:
    p = _prefix(text)
    return str(ipaddress.IPv4Interface(p).network) if p else None


@dataclass
class _P1:
    hash: str = "sha"
    encryption: str = "3des"
    group: str = "2"
    lifetime: int = 86400
    authentication: str = "pre-share"


@dataclass
class _P2:
    protocol: str = "esp"
    hashes: list[str] = field(default_factory=lambda: ["sha"])
    encryptions: list[str] = field(default_factory=lambda: ["3des"])
    group: str = "nopfs"
    lifetime: int = 28800


@dataclass
class _Peer:
    interface: str | None = None
    version: int = 1
    aggressive: bool = False
    type: str = "static"
    peer: str | None = None
    proposals: list[str] = field(default_factory=list)
    psk: str | None = None
    local_id: tuple[str, str] | None = None
    peer_id: tuple[str, str] | None = None
    dpd: tuple[int, int] | None = None


@dataclass
class _Tunnel:
    peer: str | None = None
    proposals: list[str] = field(default_factory=list)
    ids: list[tuple[str, str]] = field(default_factory=list)
    enabled: bool = True


@dataclass
class _Rule:
    rid: str
    action: str = "deny"
    tunnel: str | None = None
    src: list[str] = field(default_factory=list)
    dst: list[str] = field(default_factory=list)
    enabled: bool = True


def _read_p1(node: Node) -> _P1:
    p = _P1()
    for c in node.children:
        w = _words(c.text)
        if len(w) == 2 and w[0] in ("hash", "encryption", "group", "authentication"):
            setattr(p, w[0], w[1])
        elif len(w) == 2 and w[0] == "lifetime":
            p.lifetime = int(w[1])
    return p


def _read_p2(node: Node) -> _P2:
    p = _P2()
    for c in node.children:
        w = _words(c.text)
        if len(w) >= 2 and w[0] == "hash":
            p.hashes = w[1:]
        elif len(w) >= 2 and w[0] == "encryption":
            p.encryptions = w[1:]
        elif len(w) == 2 and w[0] == "group":
            p.group = w[1]
        elif len(w) == 2 and w[0] == "protocol":
            p.protocol = w[1]
        elif len(w) == 2 and w[0] == "lifetime":
            p.lifetime = int(w[1])
    return p


def _read_peer(node: Node) -> _Peer:
    p = _Peer()
    for c in node.children:
        w = _words(c.text)
        if not w:
            continue
        k = w[0]
        if k == "interface" and len(w) == 2:
            p.interface = w[1]
        elif k == "protocol-standard" and len(w) >= 2:
            p.version = 2 if w[1] == "ikev2" else 1
        elif k == "mode" and len(w) == 2:
            p.aggressive = w[1] == "aggressive"
        elif k == "type" and len(w) == 2:
            p.type = w[1]
        elif k == "peer" and len(w) == 2:
            p.peer = w[1]
        elif k == "isakmp-proposal":
            p.proposals = w[1:]
        elif k == "pre-share" and len(w) == 2:
            p.psk = w[1]
        elif k == "local-id" and len(w) >= 2:
            p.local_id = (w[1], w[2] if len(w) > 2 else "")
        elif k == "peer-id" and len(w) == 3:
            p.peer_id = (w[1], w[2])
        elif k == "dpd":
            if len(w) >= 5 and w[1] == "interval" and w[3] == "retry":
                p.dpd = (int(w[2]), int(w[4]))
            else:
                p.dpd = (10, 3)  # manual: interval default 10 s, retry default 3
    return p


def _read_tunnel(node: Node) -> _Tunnel:
    t = _Tunnel()
    for c in node.children:
        w = _words(c.text)
        if not w:
            continue
        if w[0] == "isakmp-peer" and len(w) == 2:
            t.peer = w[1]
        elif w[0] == "ipsec-proposal":
            t.proposals = w[1:]
        elif w[0] == "id" and len(w) >= 5 and w[1] == "local" and w[3] == "remote":
            loc, rem = _network(w[2]), _network(w[4])
            if loc and rem:
                t.ids.append((loc, rem))
        elif w[0] == "disable":
            t.enabled = False
        elif w[0] == "enable":
            t.enabled = True
    return t


def _read_rule(rid: str, node: Node) -> _Rule:
    r = _Rule(rid)
    for c in node.children:
        w = _words(c.text)
        if not w:
            continue
        if w[0] == "action" and len(w) >= 2:
            r.action = w[1]
            r.tunnel = w[2] if len(w) > 2 and w[1] in ("tunnel", "fromtunnel") else None
        elif w[0] in ("src-ip", "dst-ip") and len(w) >= 2:
            net = _network(" ".join(w[1:3]) if len(w) > 2 else w[1])
            if net:
                (r.src if w[0] == "src-ip" else r.dst).append(net)
        elif w[0] in ("src-addr", "dst-addr") and len(w) == 2 and w[1].lower() == "any":
            (r.src if w[0] == "src-addr" else r.dst).append("0.0.0.0/0")
        elif w[0] == "disable":
            r.enabled = False
        elif w[0] == "enable":
            r.enabled = True
    return r


def _neutral(table: str, word: str) -> Any:
    return (_TABLES.get(table) or {}).get(word)


class _Reader:
    """Collects the configuration objects, then resolves each IKE tunnel's references."""

    def __init__(self, lines: list[str]):
        self.hostname = "StoneOS"
        self.interfaces: dict[str, list[str]] = {}
        self.if_tunnel: dict[str, str] = {}  # tunnel interface -> IKE tunnel it carries
        self.p1: dict[str, _P1] = {}
        self.p2: dict[str, _P2] = {}
        self.peers: dict[str, _Peer] = {}
        self.tunnels: dict[str, _Tunnel] = {}
        self.rules: list[_Rule] = []
        self.routes: list[tuple[str, str]] = []  # (prefix, next-hop interface)
        for node in parse_tree(lines):
            self._top(node)

    def _top(self, node: Node) -> None:
        w = _words(node.text)
        if not w:
            return
        if w[0] == "hostname" and len(w) == 2:
            self.hostname = w[1]
        elif w[0] == "interface" and len(w) == 2:
            self._interface(w[1], node)
        elif w[:2] == ["isakmp", "proposal"] and len(w) == 3:
            self.p1[w[2]] = _read_p1(node)
        elif w[:2] == ["ipsec", "proposal"] and len(w) == 3:
            self.p2[w[2]] = _read_p2(node)
        elif w[:2] == ["isakmp", "peer"] and len(w) == 3:
            self.peers[w[2]] = _read_peer(node)
        elif w[:2] == ["tunnel", "ipsec"] and len(w) == 4 and w[3] == "auto":
            self.tunnels[w[2]] = _read_tunnel(node)
        elif w[0] == "policy-global":
            for c in node.children:
                self._top(c)
        elif w[0] == "rule":
            rid = w[w.index("id") + 1] if "id" in w[:-1] else str(len(self.rules) + 1)
            self.rules.append(_read_rule(rid, node))
        elif w[:2] == ["ip", "vrouter"]:
            for c in node.children:
                cw = _words(c.text)
                if cw[:2] == ["ip", "route"] and len(cw) >= 4:
                    dest = " ".join(cw[2:4]) if "/" not in cw[2] else cw[2]
                    hop = cw[4] if "/" not in cw[2] and len(cw) > 4 else cw[3]
                    net = _network(dest)
                    if net:
                        self.routes.append((net, hop))

    def _interface(self, name: str, node: Node) -> None:
        addrs: list[str] = []
        for c in node.children:
            w = _words(c.text)
            if w[:2] == ["ip", "address"] and len(w) >= 3:
                a = _prefix(" ".join(w[2:4]) if len(w) >= 4 and w[3] != "secondary" else w[2])
                if a:
                    addrs.append(a)
            elif w[:2] == ["tunnel", "ipsec"] and len(w) >= 3:
                self.if_tunnel[name] = w[2]
        if addrs:
            self.interfaces[name] = addrs

    # --- resolution ------------------------------------------------------------------------
    def resolve(self) -> Interpretation:
        out = Interpretation(hostname=self.hostname, interfaces=dict(self.interfaces))
        bound_if = {t: i for i, t in self.if_tunnel.items()}
        policy = {r.tunnel: r for r in self.rules if r.enabled and r.action == "tunnel" and r.tunnel}
        for name, t in self.tunnels.items():
            if name not in bound_if and name not in policy:
                out.notes.append(f"IKE tunnel {name} is neither bound to a tunnel interface nor used by a policy "
                                 "rule (action tunnel)")
                continue
            built = self._tunnel(name, t, bound_if.get(name), policy.get(name), out.notes)
            if built:
                out.tunnels.append(built)
        for iface, tname in self.if_tunnel.items():
            if tname not in self.tunnels:
                out.notes.append(f"interface {iface} is bound to IKE tunnel {tname}, which is not configured")
        return out

    def _tunnel(self, name: str, t: _Tunnel, iface: str | None, rule: _Rule | None,
                notes: list[str]) -> TwinTunnel | None:
        if not t.enabled:
            notes.append(f"IKE tunnel {name} is disabled")
            return None
        peer = self.peers.get(t.peer or "")
        if peer is None:
            notes.append(f"IKE tunnel {name}: ISAKMP gateway {t.peer!r} is not configured")
            return None
        if peer.type != "static" or not peer.peer:
            notes.append(f"IKE tunnel {name}: ISAKMP gateway {t.peer} has no static peer address")
            return None
        try:
            ipaddress.IPv4Address(peer.peer)
        except ValueError:
            notes.append(f"IKE tunnel {name}: peer {peer.peer} is a host name; the twin cannot resolve it")
            return None
        addrs = self.interfaces.get(peer.interface or "")
        if not addrs:
            notes.append(f"IKE tunnel {name}: ISAKMP gateway {t.peer} is bound to no interface with an address")
            return None
        if not peer.psk:
            notes.append(f"IKE tunnel {name}: ISAKMP gateway {t.peer} has no pre-shared key")
            return None
        ike = self._ike(name, peer, notes)
        esp, esp_life = self._esp(name, t, notes)
        if not ike or not esp:
            return None
        local = str(ipaddress.IPv4Interface(addrs[0]).ip)
        tunnel = TwinTunnel(
            name=name, ike_version=peer.version, local_addr=local, remote_addr=peer.peer, psk=peer.psk,
            ike=ike, esp=esp, aggressive=peer.aggressive and peer.version == 1,
            local_id=self._identity(peer.local_id, local), remote_id=self._identity(peer.peer_id, peer.peer),
            ike_lifetime=self.p1[peer.proposals[0]].lifetime, esp_lifetime=esp_life,
            dpd_interval=peer.dpd[0] if peer.dpd else None, dpd_retries=peer.dpd[1] if peer.dpd else None)
        if iface:
            tunnel.route_based = True
            tunnel.interface = iface
            inside = self.interfaces.get(iface)
            tunnel.inside_local = inside[0] if inside else None
            tunnel.routes = [p for p, hop in self.routes if hop == iface]
            tunnel.selectors = list(t.ids)
        else:
            assert rule is not None
            tunnel.selectors = list(t.ids) or [(s, d) for s in (rule.src or ["0.0.0.0/0"])
                                               for d in (rule.dst or ["0.0.0.0/0"])]
        return tunnel

    @staticmethod
    def _identity(ident: tuple[str, str] | None, address: str) -> str | None:
        if ident is None or not ident[1] or ident[1] == address:
            return None
        return ident[1]

    def _ike(self, name: str, peer: _Peer, notes: list[str]) -> list[Proposal]:
        if not peer.proposals:
            notes.append(f"IKE tunnel {name}: its ISAKMP gateway names no P1 proposal")
            return []
        props: list[Proposal] = []
        for pname in peer.proposals:
            p1 = self.p1.get(pname)
            if p1 is None:
                notes.append(f"IKE tunnel {name}: P1 proposal {pname} is not configured")
                return []
            if p1.authentication != "pre-share":
                notes.append(f"IKE tunnel {name}: P1 proposal {pname} uses {p1.authentication}, not a pre-shared key")
                return []
            enc, integ = _neutral("ike_encryption", p1.encryption), _neutral("ike_integrity", p1.hash)
            dh = _neutral("dh", p1.group)
            if peer.version == 2 and (p1.encryption == "sm4" or p1.hash == "sm3"):
                notes.append(f"IKE tunnel {name}: P1 proposal {pname}: SM4/SM3 are not IKEv2 algorithms")
                return []
            if enc is None or integ is None or dh is None:
                notes.append(f"IKE tunnel {name}: P1 proposal {pname} uses an algorithm the twin cannot do")
                return []
            props.append(Proposal(encryption=enc, integrity=integ, dh=dh))
        return props

    def _esp(self, name: str, t: _Tunnel, notes: list[str]) -> tuple[list[Proposal], int | None]:
        if not t.proposals:
            notes.append(f"IKE tunnel {name} names no P2 proposal")
            return [], None
        props: list[Proposal] = []
        for pname in t.proposals:
            p2 = self.p2.get(pname)
            if p2 is None:
                notes.append(f"IKE tunnel {name}: P2 proposal {pname} is not configured")
                return [], None
            if p2.protocol != "esp":
                notes.append(f"IKE tunnel {name}: P2 proposal {pname} uses AH; the twin negotiates ESP only")
                return [], None
            pfs = None if p2.group == "nopfs" else _neutral("pfs", p2.group)
            for e in p2.encryptions:
                enc = _neutral("ipsec_encryption", e)
                if enc is None:
                    notes.append(f"IKE tunnel {name}: P2 proposal {pname}: encryption {e} cannot be negotiated")
                    return [], None
                if enc.endswith("-gcm"):
                    props.append(Proposal(encryption=enc, integrity=None, dh=pfs))
                    continue
                for h in p2.hashes:
                    integ = _neutral("ipsec_integrity", h)
                    if integ is None:
                        notes.append(f"IKE tunnel {name}: P2 proposal {pname}: hash {h} cannot be negotiated")
                        return [], None
                    props.append(Proposal(encryption=enc, integrity=integ, dh=pfs))
        return props, self.p2[t.proposals[0]].lifetime


def interpret(lines: list[str]) -> Interpretation:
    """`lines`: the running configuration as the device shows it (indentation kept)."""
    return _Reader(lines).resolve()
