"""H3C Comware 7 (MSR) running configuration -> the tunnels the device would negotiate.

Written from the Comware 7 IKE, IKEv2 and IPsec command references, not from tunnelsmith's
templates. What negotiates:

* policy-based: an `ipsec policy NAME SEQ isakmp` entry whose policy is applied to an interface
  (`ipsec apply policy NAME`) and that has a transform set, a `security acl` with permit rules
  and a `remote-address`. Local address: the entry's `local-address`, else the primary address
  of the interface the policy is applied to. Selectors: one pair per ACL permit rule.
* route-based: `interface TunnelN mode ipsec` with `tunnel protection ipsec profile P` where P is
  an isakmp IPsec profile; `source`/`destination` give the addresses, static routes whose
  output interface is the tunnel the routed prefixes.
* IKEv1 (`ike-profile`): keychain pre-shared key for the peer address, the profile's proposals
  (or every `ike proposal` when it names none, else the default proposal), local-identity,
  `match remote` rule, DPD (profile, else global `ike dpd`). IKEv2 (`ikev2-profile`, preferred
  when both are set): ikev2 keychain peer matched by address, proposals of the ikev2 policies
  matching the local address, `identity local`, `match remote`, `lifetime`, DPD.
* ESP: every transform set's algorithms (IKEv1 uses each set's first algorithms only), PFS from
  the transform set, lifetime from `sa duration time-based`, else the global duration, else 3600.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from pathlib import Path
from typing import Any

from tunnelsmith.platforms.emulator import parse_tree
from tunnelsmith.resources import load_yaml
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel

_TABLES: dict[str, dict[str, Any]] = (load_yaml(Path(__file__).with_name("twin.yaml")) or {})["algorithms"]
_STRUCTURAL = re.compile(r"^(#.*|quit|return)$")
_IP = r"\d+\.\d+\.\d+\.\d+"
DEFAULT_IKE_LIFETIME = 86400  # `sa duration` default (IKE proposal) and IKEv2 profile `lifetime` default
DEFAULT_ESP_LIFETIME = 3600  # `ipsec sa global-duration` default


class Block:
    """One view of the running config: its head line and its (stripped) sub-lines.

    A plain class, not a dataclass: the twin may load this file without registering a module.
    """

    def __init__(self, head: str):
        self.head = head
        self.lines: list[str] = []
        self.children: list[Block] = []

    def first(self, pattern: str) -> re.Match[str] | None:
        for ln in self.lines:
            m = re.fullmatch(pattern, ln)
            if m:
                return m
        return None

    def all(self, pattern: str) -> list[re.Match[str]]:
        return [m for ln in self.lines if (m := re.fullmatch(pattern, ln))]


def _blocks(lines: list[str]) -> list[Block]:
    def conv(node: Any) -> Block:
        b = Block(" ".join(node.text.split()))
        for ch in node.children:
            text = " ".join(ch.text.split())
            if _STRUCTURAL.match(text):
                continue
            b.lines.append(text)
            if ch.children:
                b.children.append(conv(ch))
        return b

    return [conv(n) for n in parse_tree(lines) if not _STRUCTURAL.match(" ".join(n.text.split()))]


def ifname(name: str) -> str:
    """Comware prints interface names without a blank ("Tunnel 1" is typed, "Tunnel1" shown)."""
    name = re.sub(r"\s+", "", name)
    abbrev = {"ge": "GigabitEthernet", "tun": "Tunnel", "loop": "LoopBack", "xge": "Ten-GigabitEthernet"}
    m = re.match(r"([A-Za-z-]+)(.*)$", name)
    if not m:
        return name
    word, rest = m.groups()
    word = abbrev.get(word.lower(), word)
    canon = {"gigabitethernet": "GigabitEthernet", "tunnel": "Tunnel", "loopback": "LoopBack",
             "ten-gigabitethernet": "Ten-GigabitEthernet"}
    return canon.get(word.lower(), word) + rest


def _prefix(addr: str, mask: str, wildcard: bool = False) -> str:
    if mask.isdigit():
        return str(ipaddress.IPv4Network(f"{addr}/{mask}", strict=False))
    if wildcard:
        inv = ".".join(str(255 - int(o)) for o in mask.split("."))
        return str(ipaddress.IPv4Network(f"{addr}/{inv}", strict=False))
    return str(ipaddress.IPv4Network(f"{addr}/{mask}", strict=False))


def _covers(addr: str, mask: str | None, target: str) -> bool:
    net = ipaddress.IPv4Network(f"{addr}/{mask or 32}", strict=False)
    return ipaddress.IPv4Address(target) in net


def _neutral(table: str, word: str) -> Any:
    return (_TABLES.get(table) or {}).get(word)


class _Config:
    """Index of the running config's views by what references them."""

    def __init__(self, lines: list[str]):
        self.top = _blocks(lines)
        self.notes: list[str] = []

    def views(self, pattern: str) -> list[tuple[re.Match[str], Block]]:
        return [(m, b) for b in self.top if (m := re.fullmatch(pattern, b.head, re.I))]

    def view(self, pattern: str) -> Block | None:
        found = self.views(pattern)
        return found[0][1] if found else None

    def globals(self, pattern: str) -> list[re.Match[str]]:
        return [m for b in self.top if (m := re.fullmatch(pattern, b.head))]


def interpret(lines: list[str]) -> Interpretation:
    """`lines`: the running configuration as the device shows it (indentation kept)."""
    cfg = _Config(lines)
    host = next((m.group(1) for m in cfg.globals(r"sysname (\S+)")), "H3C")
    out = Interpretation(hostname=host)
    for m, b in cfg.views(r"interface (\S+(?: ?\d\S*)?)(?: mode \S+)?"):
        addrs = [_ip_if(a) for a in b.all(rf"ip address ({_IP}) (\S+)")]
        if addrs:
            out.interfaces[ifname(m.group(1))] = addrs
    out.tunnels.extend(_policy_tunnels(cfg, out))
    out.tunnels.extend(_route_tunnels(cfg, out))
    out.notes.extend(cfg.notes)
    return out


def _ip_if(m: re.Match[str]) -> str:
    addr, mask = m.group(1), m.group(2)
    return str(ipaddress.IPv4Interface(f"{addr}/{mask}"))


# --- policy-based ----------------------------------------------------------------------------------
def _policy_tunnels(cfg: _Config, interp: Interpretation) -> list[TwinTunnel]:
    applied: dict[str, str] = {}
    for m, b in cfg.views(r"interface (\S+(?: ?\d\S*)?)(?: mode \S+)?"):
        pm = b.first(r"ipsec apply policy (\S+)")
        if pm:
            applied.setdefault(pm.group(1).lower(), ifname(m.group(1)))
    tunnels = []
    entries = sorted(cfg.views(r"ipsec policy (\S+) (\d+)(?: isakmp)?"),
                     key=lambda e: (e[0].group(1), int(e[0].group(2))))
    for m, b in entries:
        pname, seq = m.group(1), int(m.group(2))
        label = f"ipsec policy {pname} {seq}"
        iface = applied.get(pname.lower())
        if iface is None:
            cfg.notes.append(f"{label} is not applied to any interface (no `ipsec apply policy {pname}`)")
            continue
        local = (b.first(rf"local-address ({_IP})") or [None, None])[1]
        if local is None:
            addrs = interp.interfaces.get(iface) or []
            if not addrs:
                cfg.notes.append(f"{label}: interface {iface} has no IPv4 address")
                continue
            local = str(ipaddress.IPv4Interface(addrs[0]).ip)
        remote_m = b.first(rf"remote-address ({_IP})")
        if remote_m is None:
            cfg.notes.append(f"{label} has no remote-address: the device cannot initiate")
            continue
        acl_m = b.first(r"security acl (?:name )?(\S+)(?: \S+)?")
        if acl_m is None:
            cfg.notes.append(f"{label} has no security acl")
            continue
        selectors = _acl_selectors(cfg, acl_m.group(1))
        if not selectors:
            cfg.notes.append(f"{label}: ACL {acl_m.group(1)} has no permit ip rule")
            continue
        # name: "<policy>-<seq>", how the show templates print "IPsec policy" / "Sequence number"
        t = _common(cfg, b, label, f"{pname}-{seq}", local, remote_m.group(1))
        if t is None:
            continue
        t.selectors = selectors
        tunnels.append(t)
    return tunnels


def _acl_selectors(cfg: _Config, acl: str) -> list[tuple[str, str]]:
    view = cfg.view(rf"acl (?:advanced|number) {re.escape(acl)}(?: match-order \S+)?") or \
        cfg.view(rf"acl advanced name {re.escape(acl)}(?: match-order \S+)?")
    if view is None:
        return []
    addr = rf"({_IP}) ({_IP})|({_IP})/(\d+)|(any)"

    def net(groups: tuple[str | None, ...]) -> str:
        a, w, p, plen, anyw = groups
        if anyw:
            return "0.0.0.0/0"
        if p:
            return str(ipaddress.IPv4Network(f"{p}/{plen}", strict=False))
        if a is None:
            return "0.0.0.0/0"
        return _prefix(a, w or "0.0.0.0", wildcard=True)

    rules = []
    for ln in view.lines:
        m = re.fullmatch(rf"rule (\d+) permit ip(?: source (?:{addr}))?(?: destination (?:{addr}))?(?: \S+)*", ln)
        if m:
            g = m.groups()
            rules.append((int(g[0]), (net(g[1:6]), net(g[6:11]))))
    return [pair for _, pair in sorted(rules)]


# --- route-based -----------------------------------------------------------------------------------
def _route_tunnels(cfg: _Config, interp: Interpretation) -> list[TwinTunnel]:
    routes: dict[str, list[str]] = {}
    for m in cfg.globals(rf"ip route-static ({_IP}) (\S+) ((?i:Tunnel|Tun) ?\d+)(?: {_IP})?(?: .*)?"):
        routes.setdefault(ifname(m.group(3)), []).append(_prefix(m.group(1), m.group(2)))
    tunnels = []
    for m, b in cfg.views(r"interface ((?i:Tunnel) ?\d+)(?: mode (\S+))?"):
        name = ifname(m.group(1))
        prot = b.first(r"tunnel protection ipsec profile (\S+)")
        if (m.group(2) or "").lower() != "ipsec":
            if prot:
                cfg.notes.append(f"interface {name} is not in mode ipsec")
            continue
        if prot is None:
            cfg.notes.append(f"interface {name} (mode ipsec) has no `tunnel protection ipsec profile`")
            continue
        prof = cfg.view(rf"ipsec profile {re.escape(prot.group(1))}(?: isakmp)?")
        if prof is None or re.search(r" manual$", prof.head):
            cfg.notes.append(f"interface {name}: IPsec profile {prot.group(1)} is not configured as isakmp")
            continue
        dst = b.first(rf"destination ({_IP})")
        src = b.first(r"source (\S+)")
        inside = b.first(rf"ip address ({_IP}) (\S+)")
        if dst is None or src is None:
            cfg.notes.append(f"interface {name} lacks a tunnel source or destination")
            continue
        local = src.group(1)
        if not re.fullmatch(_IP, local):
            addrs = interp.interfaces.get(ifname(local)) or []
            if not addrs:
                cfg.notes.append(f"interface {name}: source interface {local} has no address")
                continue
            local = str(ipaddress.IPv4Interface(addrs[0]).ip)
        t = _common(cfg, prof, f"interface {name} (ipsec profile {prot.group(1)})", prot.group(1), local, dst.group(1))
        if t is None:
            continue
        t.route_based = True
        t.interface = name
        t.inside_local = _ip_if(inside) if inside else None
        t.routes = routes.get(name, [])
        tunnels.append(t)
    return tunnels


# --- IKE / ESP shared by both ----------------------------------------------------------------------
def _common(cfg: _Config, entry: Block, label: str, name: str, local: str, remote: str) -> TwinTunnel | None:
    """IKE and ESP parameters of a policy entry or IPsec profile; None (and a note) if incomplete."""
    esp = _esp(cfg, entry, label)
    if esp is None:
        return None
    esp_props, v1_esp = esp
    life_m = entry.first(r"sa duration time-based (\d+)")
    glob = cfg.globals(r"ipsec sa global-duration time-based (\d+)")
    esp_life = int(life_m.group(1)) if life_m else (int(glob[0].group(1)) if glob else DEFAULT_ESP_LIFETIME)
    v2 = entry.first(r"ikev2-profile (\S+)")
    v1 = entry.first(r"ike-profile (\S+)")
    if v2:
        t = _ikev2(cfg, v2.group(1), label, name, local, remote)
        if t is not None:
            t.esp = esp_props
    else:
        t = _ikev1(cfg, v1.group(1) if v1 else None, label, name, local, remote)
        if t is not None:
            t.esp = v1_esp
    if t is not None:
        t.esp_lifetime = esp_life
    return t


def _esp(cfg: _Config, entry: Block, label: str) -> tuple[list[Proposal], list[Proposal]] | None:
    ts = entry.first(r"transform-set (.+)")
    if ts is None:
        cfg.notes.append(f"{label} has no transform-set")
        return None
    all_props: list[Proposal] = []
    first_props: list[Proposal] = []
    for tname in ts.group(1).split():
        view = cfg.view(rf"ipsec transform-set {re.escape(tname)}")
        if view is None:
            cfg.notes.append(f"{label}: transform-set {tname} does not exist")
            continue
        proto = (view.first(r"protocol (\S+)") or [None, "esp"])[1]
        mode = (view.first(r"encapsulation-mode (\S+)") or [None, "tunnel"])[1]
        if proto != "esp" or mode != "tunnel":
            cfg.notes.append(f"{label}: transform-set {tname} uses {proto}/{mode}; the twin does ESP tunnel mode")
            continue
        encs = (view.first(r"esp encryption-algorithm (.+)") or [None, ""])[1].split()
        auths = (view.first(r"esp authentication-algorithm (.+)") or [None, ""])[1].split()
        pfs_m = view.first(r"pfs (\S+)")
        pfs = _neutral("pfs", pfs_m.group(1)) if pfs_m else None
        if not encs:
            cfg.notes.append(f"{label}: transform-set {tname} has no ESP encryption algorithm (incomplete)")
            continue
        props = []
        for e in encs:
            enc = _neutral("esp_encryption", e)
            if enc is None:
                continue
            if enc.endswith("-gcm"):
                props.append(Proposal(enc, None, pfs))
                continue
            if not auths:
                cfg.notes.append(f"{label}: transform-set {tname} has no ESP authentication algorithm for {e}")
                continue
            props.extend(Proposal(enc, _neutral("esp_integrity", a), pfs) for a in auths)
        all_props.extend(props)
        # IKEv1: only the first configured encryption and authentication algorithm of a set count
        if props:
            first_props.append(props[0])
    if not all_props:
        cfg.notes.append(f"{label}: no usable transform-set")
        return None
    return all_props, first_props


def _dpd(view: Block | None, cfg: _Config, global_cmd: str) -> int | None:
    m = view.first(r"dpd interval (\d+)(?: retry \d+)? (?:on-demand|periodic)") if view else None
    if m is None:
        g = cfg.globals(rf"{global_cmd} interval (\d+)(?: retry \d+)? (?:on-demand|periodic)")
        m = g[0] if g else None
    return int(m.group(1)) if m else None


def _remote_id(view: Block, remote: str, pattern: str) -> tuple[bool, str | None]:
    """(has a match rule, remote id to require when the rule does not cover the peer's address)."""
    rules = [ln for ln in view.lines if ln.startswith("match remote ")]
    if not rules:
        return False, None
    for ln in rules:
        m = re.fullmatch(rf"match remote identity address ({_IP})(?: (\S+))?(?: vpn-instance \S+)?", ln)
        if m and _covers(m.group(1), m.group(2), remote):
            return True, None
        m = re.fullmatch(rf"match remote identity address range ({_IP}) ({_IP})", ln)
        lo_hi = (ipaddress.IPv4Address(m.group(1)), ipaddress.IPv4Address(m.group(2))) if m else None
        if lo_hi and lo_hi[0] <= ipaddress.IPv4Address(remote) <= lo_hi[1]:
            return True, None
    first = rules[0]
    m = re.fullmatch(pattern, first)
    return True, (m.group(1) if m else first.split()[-1])


def _ikev1(cfg: _Config, profile: str | None, label: str, name: str, local: str, remote: str) -> TwinTunnel | None:
    view = cfg.view(rf"ike profile {re.escape(profile)}") if profile else None
    if profile and view is None:
        cfg.notes.append(f"{label}: ike profile {profile} does not exist")
        return None
    # keychains: the profile's, else (no profile) every keychain
    if view is not None:
        kc_names = [m.group(1) for m in view.all(r"keychain (\S+)")]
        chains = [b for n in kc_names if (b := cfg.view(rf"ike keychain {re.escape(n)}(?: vpn-instance \S+)?"))]
    else:
        chains = [b for _, b in cfg.views(r"ike keychain (\S+)(?: vpn-instance \S+)?")]
    psk = None
    for ch in chains:
        for m in ch.all(rf"pre-shared-key address ({_IP})(?: (\S+))? key (?:simple|cipher) (\S+)"):
            if _covers(m.group(1), m.group(2), remote):
                psk = m.group(3)
                break
        if psk:
            break
    if psk is None:
        cfg.notes.append(f"{label}: no IKE keychain has a pre-shared key for {remote}")
        return None
    local_id = remote_id = None
    aggressive = False
    if view is not None:
        has_rule, remote_id = _remote_id(view, remote, r"match remote identity (?:fqdn|user-fqdn) (\S+)")
        if not has_rule:
            cfg.notes.append(f"{label}: ike profile {profile} has no `match remote` rule")
            return None
        lid = view.first(r"local-identity (?:address (\S+)|(?:fqdn|user-fqdn) (\S+))")
        if lid and (lid.group(1) or lid.group(2)) != local:
            local_id = lid.group(1) or lid.group(2)
        aggressive = bool(view.first(r"exchange-mode aggressive"))
    numbers = [int(n) for m in (view.all(r"proposal (.+)") if view else []) for n in m.group(1).split()]
    if not numbers:
        numbers = sorted(int(m.group(1)) for m, _ in cfg.views(r"ike proposal (\d+)"))
    ike: list[Proposal] = []
    lifetime = None
    for n in numbers:
        pv = cfg.view(rf"ike proposal {n}")
        if pv is None:
            continue
        enc = _neutral("ike_encryption", (pv.first(r"encryption-algorithm (\S+)") or [None, "des-cbc"])[1])
        integ = _neutral("ike_integrity", (pv.first(r"authentication-algorithm (\S+)") or [None, "sha"])[1])
        dh = _neutral("ike_dh", (pv.first(r"dh (\S+)") or [None, "group1"])[1])
        method = (pv.first(r"authentication-method (\S+)") or [None, "pre-share"])[1]
        if method != "pre-share":
            continue
        ike.append(Proposal(enc, integ, dh))
        if lifetime is None:
            lifetime = int((pv.first(r"sa duration (\d+)") or [None, DEFAULT_IKE_LIFETIME])[1])
    if not ike:  # Comware's default IKE proposal: pre-share, SHA1, DES-CBC, group 1, 86400 s
        ike = [Proposal("des", "sha1", 1)]
        lifetime = DEFAULT_IKE_LIFETIME
    return TwinTunnel(name=name, ike_version=1, local_addr=local, remote_addr=remote, psk=psk, ike=ike, esp=[],
                      aggressive=aggressive, local_id=local_id, remote_id=remote_id, ike_lifetime=lifetime,
                      dpd_interval=_dpd(view, cfg, "ike dpd"))


def _ikev2(cfg: _Config, profile: str, label: str, name: str, local: str, remote: str) -> TwinTunnel | None:
    view = cfg.view(rf"ikev2 profile {re.escape(profile)}")
    if view is None:
        cfg.notes.append(f"{label}: ikev2 profile {profile} does not exist")
        return None
    methods = {m.group(1): m.group(2) for m in view.all(r"authentication-method (local|remote) (\S+)")}
    if methods.get("local") != "pre-share" or methods.get("remote") != "pre-share":
        cfg.notes.append(f"{label}: ikev2 profile {profile} lacks pre-share authentication-method local/remote")
        return None
    kc = view.first(r"keychain (\S+)")
    chain = cfg.view(rf"ikev2 keychain {re.escape(kc.group(1))}") if kc else None
    psk = None
    for peer in chain.children if chain else []:
        am = peer.first(rf"address ({_IP})(?: (\S+))?")
        if am and _covers(am.group(1), am.group(2), remote):
            key_rx = r"pre-shared-key(?: (local|remote))? (?:plaintext|ciphertext) (\S+)"
            keys = {m.group(1) or "": m.group(2) for m in peer.all(key_rx)}
            psk = keys.get("") or keys.get("local")
            if keys.get("local") and keys.get("remote") and keys["local"] != keys["remote"]:
                cfg.notes.append(f"{label}: asymmetric IKEv2 keys for {remote}; the twin uses the local key")
            break
    if psk is None:
        cfg.notes.append(f"{label}: no IKEv2 keychain peer with a pre-shared key for {remote}")
        return None
    has_rule, remote_id = _remote_id(view, remote, r"match remote identity (?:fqdn|email|key-id) (\S+)")
    if not has_rule:
        cfg.notes.append(f"{label}: ikev2 profile {profile} has no `match remote` rule")
        return None
    lid = view.first(r"identity local (?:address|fqdn|email|key-id) (\S+)")
    local_id = lid.group(1) if lid and lid.group(1) != local else None
    ike = _ikev2_proposals(cfg, local)
    if not ike:
        cfg.notes.append(f"{label}: no IKEv2 policy with a proposal matches local address {local}")
        return None
    lifetime = int((view.first(r"lifetime (\d+)") or [None, DEFAULT_IKE_LIFETIME])[1])
    return TwinTunnel(name=name, ike_version=2, local_addr=local, remote_addr=remote, psk=psk, ike=ike, esp=[],
                      local_id=local_id, remote_id=remote_id, ike_lifetime=lifetime,
                      dpd_interval=_dpd(view, cfg, "ikev2 dpd"))


def _ikev2_proposals(cfg: _Config, local: str) -> list[Proposal]:
    """Proposals of the IKEv2 policies whose `match local address` is ours (or that match any)."""
    out: list[Proposal] = []
    policies = cfg.views(r"ikev2 policy (\S+)")
    chosen = [b for _, b in policies if (m := b.first(r"match local address (\S+)")) and m.group(1) == local]
    chosen += [b for _, b in policies if not b.first(r"match local address .+")]
    for pol in chosen:
        for pm in pol.all(r"proposal (\S+)"):
            pv = cfg.view(rf"ikev2 proposal {re.escape(pm.group(1))}")
            if pv is None:
                continue
            encs = [_neutral("ikev2_encryption", w) for w in (pv.first(r"encryption (.+)") or [None, ""])[1].split()]
            ints = [_neutral("ikev2_integrity", w) for w in (pv.first(r"integrity (.+)") or [None, ""])[1].split()]
            dhs = [_neutral("ike_dh", w) for w in (pv.first(r"dh (.+)") or [None, ""])[1].split()]
            for e, i, d in itertools.product(encs, ints, dhs):
                if e and i and d and Proposal(e, i, d) not in out:
                    out.append(Proposal(e, i, d))
    return out
