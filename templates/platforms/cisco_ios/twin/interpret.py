"""Cisco IOS / IOS-XE running configuration -> the tunnels the router would negotiate.

Written from Cisco's command references (Security Command Reference: crypto isakmp policy,
crypto isakmp key, crypto keyring, crypto isakmp profile, crypto ipsec transform-set, crypto map,
crypto ipsec profile, crypto ikev2 proposal/policy/keyring/profile, tunnel protection; IP Routing
Command Reference: ip route; IP Addressing: access-list), not from tunnelsmith's templates, so a
template mistake shows up as a failed negotiation in the twin. IOS semantics that matter here:

* A crypto map negotiates only when applied to an interface (`crypto map NAME` under it) and its
  entry is complete (peer, transform set, match address). An entry with `set ikev2-profile` uses
  IKEv2, any other entry IKEv1.
* A tunnel interface negotiates only with `tunnel mode ipsec ipv4` and `tunnel protection ipsec
  profile P` (GRE mode would protect GRE, which the twin does not emulate), and when not shut.
* IKEv1 offers every `crypto isakmp policy` that authenticates with pre-share, lowest priority
  number first; the key comes from the isakmp profile's keyring, else the global `crypto isakmp
  key`, else a keyring bound to the local address. IKEv1 DPD is `crypto isakmp keepalive`
  (global) or the profile's `keepalive`.
* IKEv2 offers the proposals of the `crypto ikev2 policy` matching the local address (one with no
  `match address local` matches all); the key comes from the profile's `keyring local`.
* Defaults when a value is not configured: ISAKMP policy `encryption des`, `hash sha`, `group 1`,
  `lifetime 86400`; IKEv2 profile lifetime 86400; IPsec SA lifetime 3600 s (or the global
  `crypto ipsec security-association lifetime seconds`).
"""

# No `from __future__ import annotations`: the twin may load this file without registering it in
# sys.modules, and dataclasses then cannot resolve string annotations.
import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tunnelsmith.platforms.emulator import Node, parse_tree
from tunnelsmith.resources import load_yaml
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel

# IOS declares a peer dead after five unanswered DPD retries (retry-seconds apart); the count is
# fixed, not configurable, for both `crypto isakmp keepalive` and IKEv2 `dpd`.
DPD_RETRIES = 5
IKE_LIFETIME_DEFAULT = 86400
ESP_LIFETIME_DEFAULT = 3600

# Interface types as IOS expands abbreviations (first type the typed prefix begins wins).
_IF_TYPES = ("GigabitEthernet", "FastEthernet", "TenGigabitEthernet", "TwentyFiveGigE", "FortyGigabitEthernet",
             "HundredGigE", "Ethernet", "Tunnel", "Loopback", "Port-channel", "Vlan", "Dialer", "Cellular",
             "Virtual-Template", "Serial")
_IF_MIN = {"TenGigabitEthernet": 2, "TwentyFiveGigE": 2, "FortyGigabitEthernet": 2, "HundredGigE": 2, "Tunnel": 2,
           "Port-channel": 2, "Virtual-Template": 2}
_IF_RX = re.compile(r"^([A-Za-z][A-Za-z-]*?)\s*(\d+(?:/\d+)*(?:\.\d+)?(?::\d+)?)$")


@cache
def _tables() -> dict[str, dict[str, Any]]:
    """The twin's own vendor-spelling tables (twin.yaml `algorithms`), spelling -> neutral name."""
    raw = load_yaml(Path(__file__).with_name("twin.yaml")) or {}
    return {k: {str(s): v for s, v in (t or {}).items()} for k, t in (raw.get("algorithms") or {}).items()}


def _neutral(table: str, spelling: str) -> Any:
    return _tables()[table].get(" ".join(spelling.split()))


def canonical_ifname(name: str) -> str:
    """`g0/0`, `Gi0/0`, `gig 0/0` -> `GigabitEthernet0/0`, as IOS stores the name it was typed as."""
    m = _IF_RX.match(name.strip())
    if not m:
        return name
    typed, num = m.group(1).lower(), m.group(2)
    for full in _IF_TYPES:
        if len(typed) >= _IF_MIN.get(full, 1) and full.lower().startswith(typed):
            return full + num
    return name


def _net(addr: str, mask: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{addr}/{mask}", strict=False)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


@dataclass
class _Iface:
    name: str
    addresses: list[str] = field(default_factory=list)  # "a.b.c.d/len", primary first
    shutdown: bool = False
    crypto_map: str | None = None
    tunnel_source: str | None = None
    tunnel_destination: str | None = None
    tunnel_mode: str = "gre ip"  # IOS default tunnel mode
    protection: str | None = None


@dataclass
class _Config:
    hostname: str = "Router"
    domain: str | None = None
    interfaces: dict[str, _Iface] = field(default_factory=dict)
    isakmp_policies: dict[int, dict[str, Any]] = field(default_factory=dict)
    isakmp_keys: list[tuple[ipaddress.IPv4Network, str]] = field(default_factory=list)
    isakmp_keepalive: int | None = None
    isakmp_identity: str = "address"
    ikev2_dpd: int | None = None
    keyrings: dict[str, dict[str, Any]] = field(default_factory=dict)
    isakmp_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    transform_sets: dict[str, tuple[str, str | None] | None] = field(default_factory=dict)
    ipsec_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    crypto_maps: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    acls: dict[str, list[tuple[str, str, ipaddress.IPv4Network, ipaddress.IPv4Network]]] = field(default_factory=dict)
    ikev2_proposals: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    ikev2_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    ikev2_keyrings: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ikev2_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    esp_lifetime: int = ESP_LIFETIME_DEFAULT
    routes: list[tuple[ipaddress.IPv4Network, str | None, str | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _words(node: Node) -> list[str]:
    return node.key.split()


def _children(node: Node) -> list[list[str]]:
    return [_words(c) for c in node.children if c.key and not c.key.startswith("!")]


def _addr_spec(tokens: list[str]) -> tuple[ipaddress.IPv4Network | None, list[str]]:
    """ACL address: `any` | `host A` | `A wildcard` -> network, remaining tokens."""
    if not tokens:
        return None, tokens
    if tokens[0] == "any":
        return ipaddress.IPv4Network("0.0.0.0/0"), tokens[1:]
    if tokens[0] == "host" and len(tokens) > 1:
        return ipaddress.IPv4Network(f"{tokens[1]}/32"), tokens[2:]
    if len(tokens) > 1 and _is_ip(tokens[0]) and _is_ip(tokens[1]):
        try:
            return _net(tokens[0], tokens[1]), tokens[2:]
        except ValueError:
            return None, tokens
    return None, tokens


_PORT_OPS = {"eq", "neq", "gt", "lt"}


def _acl_entry(tokens: list[str]) -> tuple[str, str, ipaddress.IPv4Network, ipaddress.IPv4Network] | None:
    """`permit|deny PROTO SRC [port] DST [port] [log]` -> (action, proto, src, dst)."""
    if tokens and tokens[0].isdigit():  # named ACL sequence number
        tokens = tokens[1:]
    if len(tokens) < 3 or tokens[0] not in ("permit", "deny"):
        return None
    action, proto, rest = tokens[0], tokens[1], tokens[2:]
    src, rest = _addr_spec(rest)
    if rest and rest[0] in _PORT_OPS:
        rest = rest[2:]
    elif rest and rest[0] == "range":
        rest = rest[3:]
    dst, rest = _addr_spec(rest)
    if src is None or dst is None:
        return None
    return action, proto, src, dst


def _parse(lines: list[str]) -> _Config:
    cfg = _Config()
    for node in parse_tree(lines):
        w = _words(node)
        if not w or w[0].startswith("!") or w[0] in ("exit", "end"):
            continue
        if w[0] == "hostname" and len(w) == 2:
            cfg.hostname = w[1]
        elif w[:2] in (["ip", "domain-name"], ["ip", "domain"]) and len(w) >= 3:
            cfg.domain = w[-1]
        elif w[0] == "interface" and len(w) >= 2:
            _parse_interface(cfg, canonical_ifname("".join(w[1:])), node)
        elif w[:3] == ["crypto", "isakmp", "policy"] and len(w) == 4 and w[3].isdigit():
            _parse_isakmp_policy(cfg, int(w[3]), node)
        elif w[:3] == ["crypto", "isakmp", "key"]:
            _parse_isakmp_key(cfg, w[3:])
        elif w[:3] == ["crypto", "isakmp", "keepalive"] and len(w) >= 4 and w[3].isdigit():
            cfg.isakmp_keepalive = int(w[3])
        elif w[:3] == ["crypto", "isakmp", "identity"] and len(w) == 4:
            cfg.isakmp_identity = w[3]
        elif w[:2] == ["crypto", "keyring"] and len(w) >= 3:
            cfg.keyrings[w[2]] = _parse_keyring(node)
        elif w[:3] == ["crypto", "isakmp", "profile"] and len(w) == 4:
            cfg.isakmp_profiles[w[3]] = _parse_isakmp_profile(node)
        elif w[:3] == ["crypto", "ipsec", "transform-set"] and len(w) >= 5:
            cfg.transform_sets[w[3]] = _transform(cfg, w[3], w[4:], node)
        elif w[:3] == ["crypto", "ipsec", "profile"] and len(w) == 4:
            cfg.ipsec_profiles[w[3]] = _parse_sets(node)
        elif w[:4] == ["crypto", "ipsec", "security-association", "lifetime"] and len(w) == 6 and w[4] == "seconds":
            cfg.esp_lifetime = int(w[5])
        elif w[:2] == ["crypto", "map"] and len(w) >= 5 and w[3].isdigit() and w[4] == "ipsec-isakmp":
            entry = _parse_sets(node)
            entry["dynamic"] = len(w) > 5 and w[5] == "dynamic"
            cfg.crypto_maps.setdefault(w[2], {})[int(w[3])] = entry
        elif w[0] == "access-list" and len(w) >= 3 and w[1].isdigit():
            entry = _acl_entry(w[2:])
            if entry:
                cfg.acls.setdefault(w[1], []).append(entry)
        elif w[:3] == ["ip", "access-list", "extended"] and len(w) == 4:
            entries = [e for e in (_acl_entry(c) for c in _children(node)) if e]
            cfg.acls.setdefault(w[3], []).extend(entries)
        elif w[:3] == ["crypto", "ikev2", "proposal"] and len(w) == 4:
            cfg.ikev2_proposals[w[3]] = {c[0]: c[1:] for c in _children(node) if c}
        elif w[:3] == ["crypto", "ikev2", "policy"] and len(w) == 4:
            cfg.ikev2_policies[w[3]] = _parse_ikev2_policy(node)
        elif w[:3] == ["crypto", "ikev2", "keyring"] and len(w) == 4:
            cfg.ikev2_keyrings[w[3]] = _parse_ikev2_keyring(node)
        elif w[:3] == ["crypto", "ikev2", "profile"] and len(w) == 4:
            cfg.ikev2_profiles[w[3]] = _parse_ikev2_profile(node)
        elif w[:3] == ["crypto", "ikev2", "dpd"] and len(w) >= 4 and w[3].isdigit():
            cfg.ikev2_dpd = int(w[3])
        elif w[:2] == ["ip", "route"] and len(w) >= 5:
            _parse_route(cfg, w[2:])
    return cfg


def _parse_interface(cfg: _Config, name: str, node: Node) -> None:
    itf = cfg.interfaces.setdefault(name, _Iface(name))
    for c in _children(node):
        if c[:2] == ["ip", "address"] and len(c) >= 4 and _is_ip(c[2]) and _is_ip(c[3]):
            iface = ipaddress.IPv4Interface(f"{c[2]}/{c[3]}")
            text = f"{iface.ip}/{iface.network.prefixlen}"
            if len(c) > 4 and c[4] == "secondary":
                itf.addresses.append(text)
            else:  # a new primary address replaces the old one
                itf.addresses = [text] + [a for a in itf.addresses[1:]]
        elif c == ["shutdown"]:
            itf.shutdown = True
        elif c == ["no", "shutdown"]:
            itf.shutdown = False
        elif c[:2] == ["crypto", "map"] and len(c) == 3:
            itf.crypto_map = c[2]
        elif c[:2] == ["tunnel", "source"] and len(c) == 3:
            itf.tunnel_source = c[2]
        elif c[:2] == ["tunnel", "destination"] and len(c) == 3:
            itf.tunnel_destination = c[2]
        elif c[:2] == ["tunnel", "mode"] and len(c) >= 3:
            itf.tunnel_mode = " ".join(c[2:])
        elif c[:4] == ["tunnel", "protection", "ipsec", "profile"] and len(c) >= 5:
            itf.protection = c[4]


def _parse_isakmp_policy(cfg: _Config, prio: int, node: Node) -> None:
    pol: dict[str, Any] = {"encryption": "des", "hash": "sha", "authentication": "rsa-sig", "group": "1",
                           "lifetime": IKE_LIFETIME_DEFAULT}
    for c in _children(node):
        if c[0] in ("encr", "encryption") and len(c) >= 2:
            pol["encryption"] = " ".join(c[1:])
        elif c[0] == "hash" and len(c) == 2:
            pol["hash"] = c[1]
        elif c[0] == "authentication" and len(c) == 2:
            pol["authentication"] = c[1]
        elif c[0] == "group" and len(c) == 2:
            pol["group"] = c[1]
        elif c[0] == "lifetime" and len(c) == 2 and c[1].isdigit():
            pol["lifetime"] = int(c[1])
    cfg.isakmp_policies[prio] = pol


def _strip_key_type(tokens: list[str]) -> tuple[str | None, list[str]]:
    """`[0|6] KEY rest...`: type 6 keys are AES-encrypted with the router's master key (unreadable)."""
    if len(tokens) >= 2 and tokens[0] in ("0", "6"):
        return (None if tokens[0] == "6" else tokens[1]), tokens[2:]
    return (tokens[0] if tokens else None), tokens[1:]


def _parse_isakmp_key(cfg: _Config, tokens: list[str]) -> None:
    key, rest = _strip_key_type(tokens)
    if key is None or len(rest) < 2 or rest[0] != "address" or not _is_ip(rest[1]):
        return
    mask = rest[2] if len(rest) > 2 and _is_ip(rest[2]) else "255.255.255.255"
    cfg.isakmp_keys.append((_net(rest[1], mask), key))


def _parse_keyring(node: Node) -> dict[str, Any]:
    ring: dict[str, Any] = {"local_address": None, "keys": []}
    for c in _children(node):
        if c[0] == "local-address" and len(c) == 2:
            ring["local_address"] = c[1]
        elif c[:2] == ["pre-shared-key", "address"] and len(c) >= 5 and "key" in c:
            i = c.index("key")
            mask = c[3] if i == 4 and _is_ip(c[3]) else "255.255.255.255"
            key, _ = _strip_key_type(c[i + 1:])
            if key is not None:
                ring["keys"].append((_net(c[2], mask), key))
    return ring


def _parse_isakmp_profile(node: Node) -> dict[str, Any]:
    prof: dict[str, Any] = {"local_address": None, "match": [], "keyrings": [], "aggressive": False,
                            "keepalive": None, "self_identity": None}
    for c in _children(node):
        if c[0] == "local-address" and len(c) == 2:
            prof["local_address"] = c[1]
        elif c[:2] == ["match", "identity"] and len(c) >= 4:
            prof["match"].append((c[2], c[3], c[4] if len(c) > 4 else None))
        elif c[0] == "keyring" and len(c) == 2:
            prof["keyrings"].append(c[1])
        elif c == ["initiate", "mode", "aggressive"]:
            prof["aggressive"] = True
        elif c[0] == "keepalive" and len(c) >= 2 and c[1].isdigit():
            prof["keepalive"] = int(c[1])
        elif c[0] == "self-identity" and len(c) >= 2:
            prof["self_identity"] = c[1:]
    return prof


def _transform(cfg: _Config, name: str, tokens: list[str], node: Node) -> tuple[str, str | None] | None:
    """`esp-aes 256 esp-sha-hmac` -> (encryption, integrity); None (with a note) when not emulated."""
    enc: str | None = None
    integ: str | None = None
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if i + 1 < len(tokens) and tokens[i + 1] in ("128", "192", "256"):
            t, i = f"{t} {tokens[i + 1]}", i + 1
        if _neutral("ipsec_encryption", t) is not None:
            enc = _neutral("ipsec_encryption", t)
        elif _neutral("ipsec_integrity", t) is not None:
            integ = _neutral("ipsec_integrity", t)
        else:
            cfg.notes.append(f"transform set {name}: transform {t} is not emulated")
            return None
        i += 1
    for c in _children(node):
        if c[:2] == ["mode", "transport"]:
            cfg.notes.append(f"transform set {name} is transport mode; the twin negotiates tunnel mode")
    if enc is None:
        cfg.notes.append(f"transform set {name} has no ESP encryption transform")
        return None
    return enc, integ


def _parse_sets(node: Node) -> dict[str, Any]:
    """The `set ...` / `match address` lines of a crypto map entry or an IPsec profile."""
    d: dict[str, Any] = {"peers": [], "transform_sets": [], "pfs": None, "lifetime": None, "ikev2_profile": None,
                         "isakmp_profile": None, "acl": None}
    for c in _children(node):
        if c[:2] == ["set", "peer"] and len(c) >= 3:
            d["peers"].append(c[2])
        elif c[:2] == ["set", "transform-set"]:
            d["transform_sets"] = c[2:]
        elif c[:2] == ["set", "pfs"]:
            d["pfs"] = c[2] if len(c) > 2 else "group1"  # `set pfs` alone is group 1
        elif c[:4] == ["set", "security-association", "lifetime", "seconds"] and len(c) == 5:
            d["lifetime"] = int(c[4])
        elif c[:2] == ["set", "ikev2-profile"] and len(c) == 3:
            d["ikev2_profile"] = c[2]
        elif c[:2] == ["set", "isakmp-profile"] and len(c) == 3:
            d["isakmp_profile"] = c[2]
        elif c[:2] == ["match", "address"] and len(c) == 3:
            d["acl"] = c[2]
    return d


def _parse_ikev2_policy(node: Node) -> dict[str, Any]:
    pol: dict[str, Any] = {"proposals": [], "local": []}
    for c in _children(node):
        if c[0] == "proposal" and len(c) == 2:
            pol["proposals"].append(c[1])
        elif c[:3] == ["match", "address", "local"] and len(c) == 4:
            pol["local"].append(c[3])
    return pol


def _parse_ikev2_keyring(node: Node) -> dict[str, dict[str, Any]]:
    peers: dict[str, dict[str, Any]] = {}
    for peer in node.children:
        w = _words(peer)
        if len(w) != 2 or w[0] != "peer":
            continue
        p: dict[str, Any] = {"address": None, "local": None, "remote": None}
        for c in _children(peer):
            if c[0] == "address" and len(c) >= 2 and _is_ip(c[1]):
                p["address"] = _net(c[1], c[2] if len(c) > 2 else "255.255.255.255")
            elif c[0] == "pre-shared-key" and len(c) >= 2:
                which = c[1] if c[1] in ("local", "remote") else None
                key, _ = _strip_key_type(c[2:] if which else c[1:])
                for side in ((which,) if which else ("local", "remote")):
                    p[side] = key
        peers[w[1]] = p
    return peers


def _parse_ikev2_profile(node: Node) -> dict[str, Any]:
    prof: dict[str, Any] = {"match_remote": [], "identity_local": None, "auth": set(), "keyring": None,
                            "lifetime": IKE_LIFETIME_DEFAULT, "dpd": None}
    for c in _children(node):
        if c[:3] == ["match", "identity", "remote"] and len(c) >= 5:
            prof["match_remote"].append(c[3:])
        elif c[:2] == ["identity", "local"] and len(c) >= 4:
            prof["identity_local"] = (c[2], c[3])
        elif c[0] == "authentication" and len(c) >= 3 and c[2] == "pre-share":
            prof["auth"].add(c[1])
        elif c[:2] == ["keyring", "local"] and len(c) == 3:
            prof["keyring"] = c[2]
        elif c[0] == "keyring" and len(c) == 2:  # IOS 15.1-15.2 syntax
            prof["keyring"] = c[1]
        elif c[0] == "lifetime" and len(c) == 2 and c[1].isdigit():
            prof["lifetime"] = int(c[1])
        elif c[0] == "dpd" and len(c) >= 3 and c[1].isdigit():
            prof["dpd"] = int(c[1])
    return prof


def _parse_route(cfg: _Config, w: list[str]) -> None:
    if not (_is_ip(w[0]) and _is_ip(w[1])):
        return
    try:
        prefix = _net(w[0], w[1])
    except ValueError:
        return
    rest = w[2:]
    iface = nexthop = None
    if rest and _is_ip(rest[0]):
        nexthop = rest[0]
    elif rest:
        iface = canonical_ifname(rest[0])
        if len(rest) > 1 and _is_ip(rest[1]):
            nexthop = rest[1]
    cfg.routes.append((prefix, iface, nexthop))


# --- building tunnels ------------------------------------------------------------------------
def _address_of(cfg: _Config, ref: str | None) -> str | None:
    """An IP address, or an interface name resolved to its primary address."""
    if ref is None:
        return None
    if _is_ip(ref):
        return ref
    itf = cfg.interfaces.get(canonical_ifname(ref))
    return itf.addresses[0].split("/")[0] if itf and itf.addresses else None


def _esp(cfg: _Config, owner: str, sets: dict[str, Any]) -> list[Proposal] | None:
    names = sets["transform_sets"]
    if not names:
        cfg.notes.append(f"{owner} has no transform set")
        return None
    pfs = None
    if sets["pfs"]:
        pfs = _neutral("pfs", sets["pfs"])
    out = []
    for n in names:
        ts = cfg.transform_sets.get(n)
        if ts is None:
            cfg.notes.append(f"{owner}: transform set {n} is not configured (or not emulated)")
            continue
        out.append(Proposal(encryption=ts[0], integrity=ts[1], dh=int(pfs) if pfs else None))
    if not out:
        return None
    return out


def _ikev1(cfg: _Config, owner: str, tun: TwinTunnel, profile_name: str | None) -> bool:
    """Fill IKEv1 parameters; False (with a note) when the router could not negotiate."""
    policies = [p for _, p in sorted(cfg.isakmp_policies.items()) if p["authentication"] == "pre-share"]
    props: list[Proposal] = []
    for p in policies:
        enc, integ, dh = (_neutral("ike_encryption", p["encryption"]), _neutral("ike_integrity", p["hash"]),
                          _neutral("ike_dh", p["group"]))
        if enc is None or integ is None or dh is None:
            continue
        prop = Proposal(encryption=enc, integrity=integ, dh=int(dh))
        if prop not in props:
            props.append(prop)
    if not props:
        cfg.notes.append(f"{owner}: no crypto isakmp policy with authentication pre-share")
        return False
    tun.ike = props
    tun.ike_lifetime = policies[0]["lifetime"]
    remote_net = ipaddress.IPv4Address(tun.remote_addr)
    key: str | None = None
    keepalive = cfg.isakmp_keepalive
    if profile_name:
        prof = cfg.isakmp_profiles.get(profile_name)
        if prof is None:
            cfg.notes.append(f"{owner}: isakmp profile {profile_name} is not configured")
            return False
        if prof["local_address"]:
            tun.local_addr = _address_of(cfg, prof["local_address"]) or tun.local_addr
        for ring in prof["keyrings"]:
            for net, k in (cfg.keyrings.get(ring) or {}).get("keys", []):
                if remote_net in net and key is None:
                    key = k
        tun.aggressive = prof["aggressive"]
        for kind, value, _mask in prof["match"]:
            if kind == "host":
                tun.remote_id = value
                break
            if kind == "address" and value != tun.remote_addr:
                tun.remote_id = value
                break
        if prof["self_identity"] and prof["self_identity"][0] == "fqdn":  # hostname.domain
            tun.local_id = f"{cfg.hostname}.{cfg.domain}" if cfg.domain else cfg.hostname
        elif prof["self_identity"] and prof["self_identity"][0] == "user-fqdn" and len(prof["self_identity"]) > 1:
            tun.local_id = prof["self_identity"][1]
        if prof["keepalive"]:
            keepalive = prof["keepalive"]
    if key is None:
        best = [(n.prefixlen, k) for n, k in cfg.isakmp_keys if remote_net in n]
        if best:
            key = max(best)[1]
    if key is None and not profile_name:
        for ring in cfg.keyrings.values():
            if ring["local_address"] and _address_of(cfg, ring["local_address"]) != tun.local_addr:
                continue
            for net, k in ring["keys"]:
                if remote_net in net and key is None:
                    key = k
    if key is None:
        cfg.notes.append(f"{owner}: no pre-shared key for peer {tun.remote_addr}")
        return False
    tun.psk = key
    if keepalive:
        tun.dpd_interval, tun.dpd_retries = keepalive, DPD_RETRIES
    return True


def _ikev2_proposals(cfg: _Config, local_addr: str) -> list[Proposal]:
    matching = [p for p in cfg.ikev2_policies.values() if local_addr in p["local"]] or \
        [p for p in cfg.ikev2_policies.values() if not p["local"]]
    if not cfg.ikev2_policies:  # the built-in default policy and proposal
        matching = [{"proposals": ["default"]}]
        proposals = {"default": {"encryption": ["aes-cbc-256", "aes-cbc-192", "aes-cbc-128"],
                                 "integrity": ["sha512", "sha384", "sha256", "sha1", "md5"], "group": ["5", "2"]}}
    else:
        proposals = cfg.ikev2_proposals
    out: list[Proposal] = []
    for pol in matching[:1]:
        for name in pol["proposals"]:
            p = proposals.get(name)
            if not p:
                continue
            encs = [_neutral("ikev2_encryption", e) for e in p.get("encryption", [])]
            integs = [_neutral("ikev2_integrity", i) for i in p.get("integrity", [])] or [None]
            groups = [_neutral("ike_dh", g) for g in p.get("group", [])]
            for enc, integ, dh in itertools.product(encs, integs, groups):
                if enc is None or dh is None:
                    continue
                prop = Proposal(encryption=enc, integrity=None if enc.endswith("-gcm") else integ, dh=int(dh))
                if prop not in out:
                    out.append(prop)
    return out


def _ikev2(cfg: _Config, owner: str, tun: TwinTunnel, profile_name: str) -> bool:
    prof = cfg.ikev2_profiles.get(profile_name)
    if prof is None:
        cfg.notes.append(f"{owner}: ikev2 profile {profile_name} is not configured")
        return False
    if prof["auth"] != {"local", "remote"}:
        cfg.notes.append(f"ikev2 profile {profile_name} lacks authentication local/remote pre-share")
        return False
    ring = cfg.ikev2_keyrings.get(prof["keyring"] or "")
    if ring is None:
        cfg.notes.append(f"ikev2 profile {profile_name} has no (configured) keyring local")
        return False
    remote = ipaddress.IPv4Address(tun.remote_addr)
    peers = [p for p in ring.values() if p["address"] is not None and remote in p["address"]]
    if not peers or not peers[0]["local"]:
        cfg.notes.append(f"ikev2 keyring {prof['keyring']} has no pre-shared key for {tun.remote_addr}")
        return False
    tun.psk = peers[0]["local"]
    if peers[0]["remote"] and peers[0]["remote"] != peers[0]["local"]:
        cfg.notes.append(f"ikev2 keyring {prof['keyring']}: local and remote keys differ; the twin uses the local key")
    tun.ike = _ikev2_proposals(cfg, tun.local_addr)
    if not tun.ike:
        cfg.notes.append(f"{owner}: no crypto ikev2 policy/proposal applies to local address {tun.local_addr}")
        return False
    tun.ike_lifetime = prof["lifetime"]
    dpd = prof["dpd"] or cfg.ikev2_dpd
    if dpd:
        tun.dpd_interval, tun.dpd_retries = dpd, DPD_RETRIES
    if prof["identity_local"]:
        kind, value = prof["identity_local"]
        if not (kind == "address" and value == tun.local_addr):
            tun.local_id = value
    for m in prof["match_remote"]:
        kind, value = m[0], m[1]
        if kind in ("fqdn", "email", "key-id"):
            tun.remote_id = value if value != "domain" else (m[2] if len(m) > 2 else None)
            break
        if kind == "address" and _is_ip(value):
            net = _net(value, m[2] if len(m) > 2 and _is_ip(m[2]) else "255.255.255.255")
            if net.prefixlen == 32 and value != tun.remote_addr:
                tun.remote_id = value
            break
    return True


def _new_tunnel(name: str, version: int, local: str, remote: str) -> TwinTunnel:
    return TwinTunnel(name=name, ike_version=version, local_addr=local, remote_addr=remote, psk="", ike=[], esp=[])


def _policy_tunnels(cfg: _Config, out: list[TwinTunnel]) -> None:
    applied: set[str] = set()
    for itf in cfg.interfaces.values():
        if not itf.crypto_map:
            continue
        applied.add(itf.crypto_map)
        if itf.shutdown or not itf.addresses:
            cfg.notes.append(f"crypto map {itf.crypto_map} is applied to {itf.name}, which is shut down or has no "
                             "address")
            continue
        entries = cfg.crypto_maps.get(itf.crypto_map)
        if not entries:
            cfg.notes.append(f"{itf.name} names crypto map {itf.crypto_map}, which has no entries")
            continue
        local = itf.addresses[0].split("/")[0]
        for seq, entry in sorted(entries.items()):
            owner = f"crypto map {itf.crypto_map} {seq}"
            if entry["dynamic"]:
                cfg.notes.append(f"{owner} is a dynamic map (responder only), not emulated")
                continue
            if not entry["peers"] or not entry["acl"]:
                cfg.notes.append(f"{owner} is incomplete (needs set peer and match address)")
                continue
            acl = cfg.acls.get(entry["acl"])
            if not acl:
                cfg.notes.append(f"{owner}: access list {entry['acl']} is not configured")
                continue
            version = 2 if entry["ikev2_profile"] else 1
            tun = _new_tunnel(f"{itf.crypto_map}-{seq}", version, local, entry["peers"][0])
            esp = _esp(cfg, owner, entry)
            if esp is None:
                continue
            tun.esp = esp
            tun.esp_lifetime = entry["lifetime"] or cfg.esp_lifetime
            for action, proto, src, dst in acl:
                if action != "permit":
                    continue
                if proto != "ip":
                    cfg.notes.append(f"access list {entry['acl']}: permit {proto} entries are not emulated")
                    continue
                tun.selectors.append((str(src), str(dst)))
            if not tun.selectors:
                cfg.notes.append(f"{owner}: access list {entry['acl']} permits no ip traffic")
                continue
            ok = _ikev2(cfg, owner, tun, entry["ikev2_profile"]) if version == 2 else \
                _ikev1(cfg, owner, tun, entry["isakmp_profile"])
            if ok:
                out.append(tun)
    for name in cfg.crypto_maps:
        if name not in applied:
            cfg.notes.append(f"crypto map {name} is not applied to any interface")


def _route_tunnels(cfg: _Config, out: list[TwinTunnel]) -> None:
    for itf in cfg.interfaces.values():
        if not itf.name.startswith("Tunnel"):
            continue
        if not itf.protection:
            if itf.tunnel_mode.startswith("ipsec"):
                cfg.notes.append(f"{itf.name} has tunnel mode ipsec but no tunnel protection")
            continue
        if itf.shutdown:
            cfg.notes.append(f"{itf.name} is shut down")
            continue
        if itf.tunnel_mode != "ipsec ipv4":
            cfg.notes.append(f"{itf.name} is tunnel mode {itf.tunnel_mode} (GRE over IPsec), not emulated")
            continue
        local = _address_of(cfg, itf.tunnel_source)
        if not local or not itf.tunnel_destination or not _is_ip(itf.tunnel_destination):
            cfg.notes.append(f"{itf.name} lacks a usable tunnel source or destination")
            continue
        prof = cfg.ipsec_profiles.get(itf.protection)
        owner = f"ipsec profile {itf.protection}"
        if prof is None:
            cfg.notes.append(f"{itf.name}: {owner} is not configured")
            continue
        version = 2 if prof["ikev2_profile"] else 1
        tun = _new_tunnel(itf.name, version, local, itf.tunnel_destination)
        tun.route_based, tun.interface = True, itf.name
        tun.inside_local = itf.addresses[0] if itf.addresses else None
        esp = _esp(cfg, owner, prof)
        if esp is None:
            continue
        tun.esp = esp
        tun.esp_lifetime = prof["lifetime"] or cfg.esp_lifetime
        inside = ipaddress.IPv4Interface(tun.inside_local).network if tun.inside_local else None
        for prefix, iface, nexthop in cfg.routes:
            via_nh = nexthop is not None and inside is not None and iface is None and \
                ipaddress.IPv4Address(nexthop) in inside
            if (iface == itf.name or via_nh) and str(prefix) not in tun.routes:
                tun.routes.append(str(prefix))
        ok = _ikev2(cfg, owner, tun, prof["ikev2_profile"]) if version == 2 else \
            _ikev1(cfg, owner, tun, prof["isakmp_profile"])
        if ok:
            out.append(tun)
    used = {i.protection for i in cfg.interfaces.values() if i.protection}
    for name in cfg.ipsec_profiles:
        if name not in used:
            cfg.notes.append(f"ipsec profile {name} is not used by any tunnel interface")


def interpret(lines: list[str]) -> Interpretation:
    """`lines`: the running configuration as the device shows it (indentation kept)."""
    cfg = _parse(lines)
    tunnels: list[TwinTunnel] = []
    _policy_tunnels(cfg, tunnels)
    _route_tunnels(cfg, tunnels)
    interfaces = {name: list(i.addresses) for name, i in cfg.interfaces.items() if i.addresses}
    return Interpretation(hostname=cfg.hostname, interfaces=interfaces, tunnels=tunnels, notes=cfg.notes)
