"""Huawei VRP running configuration -> the tunnels it negotiates, read as an AR router would.

Written from the AR V200R008-V200R010 configuration guide / command reference, not from
tunnelsmith's templates or reader:

* Policy-based: `ipsec policy NAME SEQ isakmp` (security acl, ike-peer, proposal, pfs, sa duration)
  negotiates only when `ipsec policy NAME` is applied in an interface view. The IKE source is the
  peer's `local-address`, else the address of that interface.
* Route-based: `ipsec profile NAME` negotiates only when a `interface TunnelX/Y/Z` has
  `tunnel-protocol ipsec` and `ipsec profile NAME`; the tunnel `source` (address or interface) is
  the IKE source, the peer's `remote-address` (else the tunnel `destination`) the peer.
* IKE peer: IKEv1 and IKEv2 are both enabled by default (`undo version N` disables one); with
  both enabled the device initiates with IKEv2. `ike-proposal N` references an IKE proposal;
  without one the default proposal applies. DPD is off until `dpd type` is configured.
* Defaults (V200R008+): IKE proposal aes-256 / sha2-256 / group14 / hmac-sha2-256 / 86400 s;
  IPsec proposal ESP aes-256 / sha2-256; IPsec SA 3600 s; DPD idle-time 30 s, retry-limit 3.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunnelsmith.platforms.emulator import Node, parse_tree
from tunnelsmith.resources import load_yaml
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel

_ALGO: dict[str, dict[str, Any]] = (load_yaml(Path(__file__).with_name("twin.yaml")) or {})["algorithms"]

IKE_DEFAULT = {"encryption": "aes-256", "auth": "sha2-256", "dh": "group14", "integrity": "hmac-sha2-256",
               "lifetime": 86400}
ESP_DEFAULT_ENC = ["aes-256"]
ESP_DEFAULT_AUTH = ["sha2-256"]
ESP_DEFAULT_LIFE = 3600
DPD_DEFAULT_IDLE = 30
DPD_DEFAULT_RETRY = 3


@dataclass
class HuaweiInterpretation(Interpretation):
    """Interpretation plus the VRP object details the show templates print (policy seq, ACL, rules)."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # tunnel name -> details


def _key(node: Node) -> str:
    return node.key


def _ifname(name: str) -> str:
    """VRP accepts "GigabitEthernet 0/0/8" and prints "GigabitEthernet0/0/8"."""
    return re.sub(r"^(\D+?)\s+(\d)", r"\1\2", name.strip())


def _prefix(addr: str, mask_or_len: str) -> ipaddress.IPv4Interface:
    if "." in mask_or_len:
        return ipaddress.IPv4Interface(f"{addr}/{mask_or_len}")
    return ipaddress.IPv4Interface(f"{addr}/{int(mask_or_len)}")


def _wild(addr: str, wildcard: str) -> str:
    if wildcard == "0":
        wildcard = "0.0.0.0"
    return str(ipaddress.IPv4Network(f"{addr}/{wildcard}", strict=False))


def _neutral(table: str, word: str) -> Any:
    return _ALGO[table].get(word)


def _children(node: Node) -> list[str]:
    return [_key(c) for c in node.children]


def _parse_ike_proposal(lines: list[str]) -> dict[str, Any]:
    p = dict(IKE_DEFAULT)
    for ln in lines:
        if m := re.fullmatch(r"encryption-algorithm (\S+)", ln):
            p["encryption"] = m.group(1)
        elif m := re.fullmatch(r"authentication-algorithm (\S+)", ln):
            p["auth"] = m.group(1)
        elif m := re.fullmatch(r"dh (\S+)", ln):
            p["dh"] = m.group(1)
        elif m := re.fullmatch(r"integrity-algorithm (\S+).*", ln):
            p["integrity"] = m.group(1)
        elif m := re.fullmatch(r"sa duration (\d+)", ln):
            p["lifetime"] = int(m.group(1))
    return p


def _parse_peer(lines: list[str], head: str) -> dict[str, Any]:
    versions = {1, 2}
    if m := re.fullmatch(r"ike peer \S+ v([12])", head):  # pre-V200R008 syntax fixes the version
        versions = {int(m.group(1))}
    p: dict[str, Any] = {"versions": versions, "mode": "main", "psk": None, "proposals": [], "local": None,
                         "remote": None, "local_id_type": "ip", "local_id": None, "remote_id_type": "ip",
                         "remote_id": None, "dpd": None, "idle": DPD_DEFAULT_IDLE, "retry": DPD_DEFAULT_RETRY}
    for ln in lines:
        if m := re.fullmatch(r"version ([12])", ln):
            versions.add(int(m.group(1)))
        elif m := re.fullmatch(r"undo version ([12])", ln):
            versions.discard(int(m.group(1)))
        elif m := re.fullmatch(r"exchange-mode (main|aggressive)", ln):
            p["mode"] = m.group(1)
        elif m := re.fullmatch(r"pre-shared-key (?:simple|cipher) (\S+)", ln):
            p["psk"] = m.group(1)
        elif m := re.fullmatch(r"ike-proposal (\d+)", ln):
            p["proposals"].append(m.group(1))
        elif m := re.fullmatch(r"local-address (\S+)", ln):
            p["local"] = m.group(1)
        elif m := re.fullmatch(r"remote-address (\S+)", ln):
            p["remote"] = m.group(1)
        elif m := re.fullmatch(r"local-id-type (\S+)", ln):
            p["local_id_type"] = m.group(1)
        elif m := re.fullmatch(r"local-id (\S+)", ln):
            p["local_id"] = m.group(1)
        elif m := re.fullmatch(r"remote-id-type (\S+)", ln):
            p["remote_id_type"] = m.group(1)
        elif m := re.fullmatch(r"remote-id (\S+)", ln):
            p["remote_id"] = m.group(1)
        elif m := re.fullmatch(r"dpd type (\S+)", ln):
            p["dpd"] = m.group(1)
        elif m := re.fullmatch(r"dpd idle-time (\d+)", ln):
            p["idle"] = int(m.group(1))
        elif m := re.fullmatch(r"dpd retry-limit (\d+)", ln):
            p["retry"] = int(m.group(1))
    return p


def _parse_ipsec_proposal(lines: list[str]) -> dict[str, list[str]]:
    enc, auth = list(ESP_DEFAULT_ENC), list(ESP_DEFAULT_AUTH)
    for ln in lines:
        if m := re.fullmatch(r"esp encryption-algorithm (.+)", ln):
            enc = re.findall(r"aes \d+|\S+", m.group(1))
        elif m := re.fullmatch(r"esp authentication-algorithm (.+)", ln):
            auth = m.group(1).split()
    return {"enc": enc, "auth": auth}


def _parse_sa_block(lines: list[str]) -> dict[str, Any]:
    """The lines ipsec policy and ipsec profile views share."""
    b: dict[str, Any] = {"peer": None, "proposals": [], "pfs": None, "lifetime": ESP_DEFAULT_LIFE, "acl": None}
    for ln in lines:
        if m := re.fullmatch(r"ike-peer (\S+)", ln):
            b["peer"] = m.group(1)
        elif m := re.fullmatch(r"proposal (.+)", ln):
            b["proposals"].extend(m.group(1).split())
        elif m := re.fullmatch(r"pfs (\S+)", ln):
            b["pfs"] = m.group(1)
        elif m := re.fullmatch(r"sa duration time-based (\d+)", ln):
            b["lifetime"] = int(m.group(1))
        elif m := re.fullmatch(r"security acl (\d+).*", ln):
            b["acl"] = m.group(1)
    return b


class _Reader:
    """Collects the VRP objects of one running configuration, then resolves references."""

    def __init__(self, lines: list[str]):
        self.hostname = "HUAWEI"
        self.interfaces: dict[str, list[str]] = {}
        self.if_lines: dict[str, list[str]] = {}
        self.ike_props: dict[str, dict[str, Any]] = {}
        self.peers: dict[str, dict[str, Any]] = {}
        self.ipsec_props: dict[str, dict[str, list[str]]] = {}
        self.policies: dict[tuple[str, int], dict[str, Any]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.acls: dict[str, list[tuple[int, str, str]]] = {}
        self.routes: list[tuple[str, str]] = []  # (prefix, interface name or next hop)
        self.notes: list[str] = []
        self._walk(parse_tree(lines))

    def _walk(self, nodes: list[Node]) -> None:
        for node in nodes:
            head = _key(node)
            if head in ("#", "quit", "return"):
                self._walk(node.children)  # VRP prints " sysname X" etc. indented under "#"
                continue
            body = _children(node)
            if m := re.fullmatch(r"sysname (\S+)", head):
                self.hostname = m.group(1)
            elif m := re.fullmatch(r"interface (.+)", head):
                self._interface(_ifname(m.group(1)), body)
            elif m := re.fullmatch(r"ike proposal (\d+)", head):
                self.ike_props[m.group(1)] = _parse_ike_proposal(body)
            elif m := re.fullmatch(r"ike peer (\S+)(?: v[12])?", head):
                self.peers[m.group(1)] = _parse_peer(body, head)
            elif m := re.fullmatch(r"(?i:ipsec) proposal (\S+)", head):
                self.ipsec_props[m.group(1)] = _parse_ipsec_proposal(body)
            elif m := re.fullmatch(r"(?i:ipsec) policy (\S+) (\d+) isakmp", head):
                self.policies[(m.group(1), int(m.group(2)))] = _parse_sa_block(body)
            elif m := re.fullmatch(r"(?i:ipsec) profile (\S+)", head):
                self.profiles[m.group(1)] = _parse_sa_block(body)
            elif m := re.fullmatch(r"acl (?:number )?(\d+).*", head):
                self.acls[m.group(1)] = self._acl(body)
            elif m := re.fullmatch(r"ip route-static (\S+) (\S+) (.+)", head):
                self.routes.append((str(_prefix(m.group(1), m.group(2)).network), self._via(m.group(3).split())))

    @staticmethod
    def _via(rest: list[str]) -> str:
        """The route's next hop address, else its outgoing interface ("Tunnel 0/0/1" typed with a blank)."""
        if re.fullmatch(r"[\d.]+", rest[0]):
            return rest[0]
        name = rest[0] + (rest[1] if len(rest) > 1 and re.fullmatch(r"\d+(?:/\d+)*", rest[1]) else "")
        return _ifname(name)

    def _interface(self, name: str, body: list[str]) -> None:
        self.if_lines[name] = body
        for ln in body:
            if m := re.fullmatch(r"ip address (\S+) (\S+)(?: sub)?", ln):
                self.interfaces.setdefault(name, []).append(str(_prefix(m.group(1), m.group(2))))

    @staticmethod
    def _acl(body: list[str]) -> list[tuple[int, str, str]]:
        rules = []
        auto = 5
        for ln in body:
            m = re.fullmatch(r"rule(?: (\d+))? permit ip(?: source (\S+) (\S+)| source any)?"
                             r"(?: destination (\S+) (\S+)| destination any)?(?: .*)?", ln)
            if not m:
                continue
            rid = int(m.group(1)) if m.group(1) else auto
            auto = rid + 5
            src = _wild(m.group(2), m.group(3)) if m.group(2) else "0.0.0.0/0"
            dst = _wild(m.group(4), m.group(5)) if m.group(4) else "0.0.0.0/0"
            rules.append((rid, src, dst))
        return rules

    # --- resolution --------------------------------------------------------------------------
    def address_of(self, ref: str) -> str | None:
        """A tunnel source / local address: an address, or an interface name resolved."""
        if re.fullmatch(r"[\d.]+", ref):
            return ref
        addrs = self.interfaces.get(_ifname(ref))
        return str(ipaddress.IPv4Interface(addrs[0]).ip) if addrs else None

    def ike_side(self, peer_name: str, owner: str) -> tuple[dict[str, Any], list[Proposal], int] | None:
        peer = self.peers.get(peer_name)
        if peer is None:
            self.notes.append(f"{owner} references IKE peer {peer_name}, which is not configured")
            return None
        if not peer["versions"]:
            self.notes.append(f"IKE peer {peer_name} has both IKE versions disabled")
            return None
        if not peer["psk"]:
            self.notes.append(f"IKE peer {peer_name} has no pre-shared-key")
            return None
        version = 2 if 2 in peer["versions"] else 1
        props = []
        for num in peer["proposals"] or ["default"]:
            p = self.ike_props.get(num, IKE_DEFAULT if num == "default" else None)
            if p is None:
                self.notes.append(f"IKE peer {peer_name} references IKE proposal {num}, which is not configured")
                return None
            integ = (_neutral("ikev2_integrity", p["integrity"]) if version == 2
                     else _neutral("ike_integrity", p["auth"]))
            props.append(Proposal(encryption=_neutral("ike_encryption", p["encryption"]), integrity=integ,
                                  dh=_neutral("ike_dh", p["dh"])))
        lifetime = int((self.ike_props.get(peer["proposals"][0]) if peer["proposals"] else IKE_DEFAULT)["lifetime"])
        return peer, props, lifetime

    def esp_side(self, block: dict[str, Any], owner: str) -> list[Proposal] | None:
        if not block["proposals"]:
            self.notes.append(f"{owner} references no IPsec proposal")
            return None
        pfs = _neutral("pfs", block["pfs"]) if block["pfs"] else None
        out = []
        for name in block["proposals"]:
            prop = self.ipsec_props.get(name)
            if prop is None:
                self.notes.append(f"{owner} references IPsec proposal {name}, which is not configured")
                return None
            for enc in prop["enc"]:
                e = _neutral("ipsec_encryption", enc)
                if e and e.endswith("-gcm"):
                    out.append(Proposal(encryption=e, integrity=None, dh=pfs))
                    continue
                for auth in prop["auth"]:
                    out.append(Proposal(encryption=e, integrity=_neutral("ipsec_integrity", auth), dh=pfs))
        return out

    @staticmethod
    def ids(peer: dict[str, Any]) -> tuple[str | None, str | None]:
        local = peer["local_id"] if peer["local_id_type"] != "ip" and peer["local_id"] else None
        remote = peer["remote_id"] if peer["remote_id_type"] not in ("ip", "any") and peer["remote_id"] else None
        return local, remote

    def tunnel(self, name: str, peer: dict[str, Any], ike: list[Proposal], ike_life: int, esp: list[Proposal],
               block: dict[str, Any], local: str, remote: str) -> TwinTunnel:
        version = 2 if 2 in peer["versions"] else 1
        local_id, remote_id = self.ids(peer)
        dpd = peer["dpd"] is not None
        return TwinTunnel(name=name, ike_version=version, local_addr=local, remote_addr=remote, psk=peer["psk"],
                          ike=ike, esp=esp, aggressive=version == 1 and peer["mode"] == "aggressive",
                          local_id=local_id, remote_id=remote_id, ike_lifetime=ike_life,
                          esp_lifetime=int(block["lifetime"]), dpd_interval=peer["idle"] if dpd else None,
                          dpd_retries=peer["retry"] if dpd else None)


def interpret(lines: list[str]) -> Interpretation:
    """`lines`: the running configuration as the device shows it (indentation kept)."""
    r = _Reader(lines)
    out = HuaweiInterpretation(hostname=r.hostname, interfaces=dict(r.interfaces))
    used_peers: set[str] = set()
    applied: dict[str, str] = {}  # policy name -> interface
    for ifname, body in r.if_lines.items():
        for ln in body:
            if m := re.fullmatch(r"(?i:ipsec) policy (\S+)", ln):
                applied.setdefault(m.group(1), ifname)

    # policy-based: ipsec policy entries applied to an interface
    for (pname, seq), block in sorted(r.policies.items()):
        owner = f"IPsec policy {pname} {seq}"
        if pname not in applied:
            r.notes.append(f"{owner} is not applied to any interface")
            continue
        if block["peer"]:
            used_peers.add(block["peer"])
        if not block["acl"]:
            r.notes.append(f"{owner} has no security acl")
            continue
        if block["acl"] not in r.acls or not r.acls[block["acl"]]:
            r.notes.append(f"{owner} references ACL {block['acl']}, which has no permit rule")
            continue
        if not block["peer"]:
            r.notes.append(f"{owner} has no ike-peer")
            continue
        ike = r.ike_side(block["peer"], owner)
        esp = r.esp_side(block, owner)
        if ike is None or esp is None:
            continue
        peer, ike_props, ike_life = ike
        ifname = applied[pname]
        local = peer["local"] or r.address_of(ifname)
        if not local or not peer["remote"]:
            r.notes.append(f"{owner}: no local address on {ifname} or no remote-address in IKE peer {block['peer']}")
            continue
        t = r.tunnel(f"{pname}-{seq}", peer, ike_props, ike_life, esp, block, local, peer["remote"])
        t.selectors = [(src, dst) for _, src, dst in r.acls[block["acl"]]]
        out.tunnels.append(t)
        out.objects[t.name] = {"kind": "policy", "policy": pname, "seq": seq, "acl": block["acl"],
                               "rules": [rid for rid, _, _ in r.acls[block["acl"]]], "interface": ifname,
                               "peer": block["peer"]}

    # route-based: ipsec profile on a tunnel interface with tunnel-protocol ipsec
    profiles_used: set[str] = set()
    for ifname, body in r.if_lines.items():
        if not ifname.lower().startswith("tunnel"):
            continue
        profile = next((m.group(1) for ln in body if (m := re.fullmatch(r"(?i:ipsec) profile (\S+)", ln))), None)
        proto = next((m.group(1).lower() for ln in body if (m := re.fullmatch(r"tunnel-protocol (\S+)", ln))), None)
        if profile is None:
            r.notes.append(f"interface {ifname} has no ipsec profile")
            continue
        if proto != "ipsec":
            r.notes.append(f"interface {ifname} references ipsec profile {profile} without tunnel-protocol ipsec")
            continue
        block = r.profiles.get(profile)
        owner = f"IPsec profile {profile}"
        if block is None:
            r.notes.append(f"interface {ifname} references ipsec profile {profile}, which is not configured")
            continue
        profiles_used.add(profile)
        if not block["peer"]:
            r.notes.append(f"{owner} has no ike-peer")
            continue
        used_peers.add(block["peer"])
        ike = r.ike_side(block["peer"], owner)
        esp = r.esp_side(block, owner)
        if ike is None or esp is None:
            continue
        peer, ike_props, ike_life = ike
        src = next((m.group(1) for ln in body if (m := re.fullmatch(r"source (.+)", ln))), None)
        dst = next((m.group(1) for ln in body if (m := re.fullmatch(r"destination (\S+)", ln))), None)
        local = (r.address_of(src) if src else None) or peer["local"]
        remote = peer["remote"] or dst
        inside = r.interfaces.get(ifname, [None])[0]
        if not local or not remote:
            r.notes.append(f"interface {ifname}: no tunnel source address or no destination / remote-address")
            continue
        t = r.tunnel(profile, peer, ike_props, ike_life, esp, block, local, remote)
        t.route_based, t.interface, t.inside_local = True, ifname, inside
        net = ipaddress.IPv4Interface(inside).network if inside else None
        t.routes = [p for p, via in r.routes
                    if via.lower() == ifname.lower()
                    or (net is not None and re.fullmatch(r"[\d.]+", via) and ipaddress.IPv4Address(via) in net)]
        out.tunnels.append(t)
        out.objects[t.name] = {"kind": "profile", "profile": profile, "interface": ifname, "peer": block["peer"]}
    for name in r.profiles:
        if name not in profiles_used:
            r.notes.append(f"IPsec profile {name} is not applied to any tunnel interface")
    for name in r.peers:
        if name not in used_peers:
            r.notes.append(f"IKE peer {name} is not used by any applied IPsec policy or profile")
    out.notes = r.notes
    return out
