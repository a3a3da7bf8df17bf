"""Juniper SRX (Junos) running configuration (`set` lines) -> the tunnels it makes negotiate.

Read from the Junos security documentation, not from tunnelsmith's templates or reader:

* `security ipsec vpn V` negotiates with `ike gateway G` using `ike ipsec-policy P`; it is bound
  either to a secure-tunnel unit (`bind-interface st0.N`, the unit must exist) or, without
  bind-interface, to security policies `then permit tunnel ipsec-vpn V` (policy-based VPN).
* st0-bound VPNs with `traffic-selector` entries negotiate one SA per selector (local-ip,
  remote-ip); without selectors they are route-based (proxy ids 0.0.0.0/0, traffic routed into st0).
* a policy-based VPN's proxy ids come from the policy's source and destination addresses
  (zone or global address books; `any` is 0.0.0.0/0), seen from the zone of the WAN interface.
* `ike gateway G`: `address`, `external-interface` (a name without a unit means unit 0),
  `local-address`, `ike-policy`, `version v1-only|v2-only` (default v1-only), identities,
  `dead-peer-detection` (interval default 10 s, threshold default 5).
* `ike policy`: `mode main|aggressive` (default main), `proposals`, `pre-shared-key ascii-text`.
* defaults: IKE lifetime-seconds 28800, IPsec lifetime-seconds 3600.

A later `set` of a single-valued statement replaces the earlier one; `delete <path>` removes
everything at and below the path, as on the device.
"""


import ipaddress
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunnelsmith.resources import load_yaml
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel

_ALG: dict[str, dict[str, Any]] = (load_yaml(Path(__file__).with_name("twin.yaml")) or {}).get("algorithms") or {}
IKE_LIFETIME = 28800
ESP_LIFETIME = 3600
DPD_INTERVAL = 10
DPD_THRESHOLD = 5


@dataclass
class JunosTunnel(TwinTunnel):
    """A TwinTunnel that also remembers the IKE gateway's name (show output prints it)."""

    gateway: str = ""


@dataclass
class _Conf:
    """The configuration as a set of statements (token lists), with `delete` applied."""

    statements: list[list[str]] = field(default_factory=list)

    def add(self, toks: list[str]) -> None:
        self.statements.append(toks)

    def delete(self, path: list[str]) -> None:
        n = len(path)
        self.statements = [s for s in self.statements if s[:n] != path]


def _tokens(line: str) -> list[str] | None:
    try:
        toks = shlex.split(line.strip(), posix=True)
    except ValueError:
        return None
    return _normalize_interfaces(toks) if toks else None


def _normalize_interfaces(toks: list[str]) -> list[str]:
    """`interfaces st0.0 ...` is `interfaces st0 unit 0 ...` (the form `show configuration` prints)."""
    if len(toks) >= 3 and toks[1] == "interfaces" and "." in toks[2]:
        ifd, unit = toks[2].rsplit(".", 1)
        return [*toks[:2], ifd, "unit", unit, *toks[3:]]
    return toks


def _ifl(name: str) -> str:
    """A logical interface name: ge-0/0/1 means ge-0/0/1.0."""
    return name if "." in name else f"{name}.0"


def _neutral(table: str, spelling: str | None) -> str | int | None:
    if spelling is None:
        return None
    value = (_ALG.get(table) or {}).get(spelling)
    return value


def _names(toks: list[str]) -> list[str]:
    """`proposals p1` or `proposals [ p1 p2 ]`."""
    return [t for t in toks if t not in ("[", "]")]


def _ident(toks: list[str]) -> str | None:
    if len(toks) >= 2 and toks[0] in ("inet", "hostname", "user-at-hostname"):
        return toks[1]
    return None


class _Reader:
    """The objects of the configuration, by kind and name."""

    def __init__(self, statements: list[list[str]]):
        self.hostname = ""
        self.ifaces: dict[str, dict[str, Any]] = {}
        self.ike_props: dict[str, dict[str, Any]] = {}
        self.ike_pols: dict[str, dict[str, Any]] = {}
        self.gws: dict[str, dict[str, Any]] = {}
        self.esp_props: dict[str, dict[str, Any]] = {}
        self.esp_pols: dict[str, dict[str, Any]] = {}
        self.vpns: dict[str, dict[str, Any]] = {}
        self.zones: dict[str, dict[str, Any]] = {}
        self.global_book: dict[str, str] = {}
        self.policies: list[dict[str, Any]] = []
        self.routes: list[tuple[str, str]] = []
        for s in statements:
            if s[0] != "set" or len(s) < 3:
                continue
            self._statement(s[1:])

    def _obj(self, table: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
        return table.setdefault(name, {})

    def _statement(self, s: list[str]) -> None:
        head = s[0]
        if head == "system" and s[1:2] == ["host-name"] and len(s) > 2:
            self.hostname = s[2]
        elif head == "interfaces" and len(s) >= 4 and s[2] == "unit":
            ifl = f"{s[1]}.{s[3]}"
            obj = self.ifaces.setdefault(ifl, {"addresses": [], "inet": False})
            rest = s[4:]
            if rest[:2] == ["family", "inet"]:
                obj["inet"] = True
                if rest[2:3] == ["address"] and len(rest) > 3 and rest[3] not in obj["addresses"]:
                    obj["addresses"].append(rest[3])
        elif head == "security" and len(s) >= 4 and s[1] == "ike":
            self._ike(s[2], s[3], s[4:])
        elif head == "security" and len(s) >= 4 and s[1] == "ipsec":
            self._ipsec(s[2], s[3], s[4:])
        elif head == "security" and len(s) >= 3 and s[1:3] == ["zones", "security-zone"] and len(s) > 3:
            z = self.zones.setdefault(s[3], {"interfaces": [], "services": set(), "protocols": set(), "book": {}})
            rest = s[4:]
            if rest[:1] == ["interfaces"] and len(rest) > 1:
                if _ifl(rest[1]) not in z["interfaces"]:
                    z["interfaces"].append(_ifl(rest[1]))
                rest = rest[2:]
            if rest[:2] == ["host-inbound-traffic", "system-services"] and len(rest) > 2:
                z["services"].add(rest[2])
            elif rest[:2] == ["host-inbound-traffic", "protocols"] and len(rest) > 2:
                z["protocols"].add(rest[2])
            elif rest[:2] == ["address-book", "address"] and len(rest) > 3:
                z["book"][rest[2]] = rest[3]
        elif head == "security" and s[1:4] == ["address-book", "global", "address"] and len(s) > 5:
            self.global_book[s[4]] = s[5]
        elif head == "security" and s[1:2] == ["policies"] and len(s) >= 8 and s[2] == "from-zone" \
                and s[4] == "to-zone" and s[6] == "policy":
            self._policy(s[3], s[5], s[7], s[8:])
        elif head == "routing-options" and s[1:3] == ["static", "route"] and len(s) >= 6 and s[4] == "next-hop":
            self.routes.append((s[3], s[5]))

    def _ike(self, kind: str, name: str, rest: list[str]) -> None:
        if not rest:
            return
        key, args = rest[0], rest[1:]
        if kind == "proposal":
            obj = self._obj(self.ike_props, name)
            if key in ("authentication-method", "dh-group", "authentication-algorithm", "encryption-algorithm",
                       "lifetime-seconds") and args:
                obj[key] = args[0]
        elif kind == "policy":
            obj = self._obj(self.ike_pols, name)
            if key == "proposals":
                obj.setdefault("proposals", [])
                obj["proposals"] += [p for p in _names(args) if p not in obj["proposals"]]
            elif key == "pre-shared-key" and len(args) >= 2:
                obj["psk"] = (args[0], args[1])
            elif key in ("mode", "proposal-set") and args:
                obj[key] = args[0]
        elif kind == "gateway":
            obj = self._obj(self.gws, name)
            if key in ("ike-policy", "address", "external-interface", "local-address", "version") and args:
                obj[key] = args[0]
            elif key in ("local-identity", "remote-identity"):
                obj[key] = _ident(args)
            elif key == "dead-peer-detection":
                obj["dpd"] = True
                if args[:1] == ["interval"] and len(args) > 1:
                    obj["dpd_interval"] = int(args[1])
                elif args[:1] == ["threshold"] and len(args) > 1:
                    obj["dpd_threshold"] = int(args[1])

    def _ipsec(self, kind: str, name: str, rest: list[str]) -> None:
        if not rest:
            return
        key, args = rest[0], rest[1:]
        if kind == "proposal":
            obj = self._obj(self.esp_props, name)
            if key in ("protocol", "authentication-algorithm", "encryption-algorithm", "lifetime-seconds") and args:
                obj[key] = args[0]
        elif kind == "policy":
            obj = self._obj(self.esp_pols, name)
            if key == "proposals":
                obj.setdefault("proposals", [])
                obj["proposals"] += [p for p in _names(args) if p not in obj["proposals"]]
            elif key == "perfect-forward-secrecy" and args[:1] == ["keys"] and len(args) > 1:
                obj["pfs"] = args[1]
            elif key == "proposal-set" and args:
                obj["proposal-set"] = args[0]
        elif kind == "vpn":
            obj = self._obj(self.vpns, name)
            obj.setdefault("ts", {})
            if key == "ike" and len(args) >= 2 and args[0] in ("gateway", "ipsec-policy"):
                obj[args[0]] = args[1]
            elif key in ("bind-interface", "establish-tunnels") and args:
                obj[key] = args[0]
            elif key == "traffic-selector" and len(args) >= 3 and args[1] in ("local-ip", "remote-ip"):
                obj["ts"].setdefault(args[0], {})[args[1]] = args[2]

    def _policy(self, src_zone: str, dst_zone: str, name: str, rest: list[str]) -> None:
        pol = next((p for p in self.policies if (p["from"], p["to"], p["name"]) == (src_zone, dst_zone, name)), None)
        if pol is None:
            pol = {"from": src_zone, "to": dst_zone, "name": name, "src": [], "dst": [], "action": None, "vpn": None}
            self.policies.append(pol)
        if rest[:1] == ["match"] and len(rest) >= 3:
            key = {"source-address": "src", "destination-address": "dst"}.get(rest[1])
            if key and rest[2] not in pol[key]:
                pol[key].append(rest[2])
        elif rest[:1] == ["then"] and len(rest) >= 2:
            pol["action"] = rest[1]
            if rest[2:4] == ["tunnel", "ipsec-vpn"] and len(rest) > 4:
                pol["vpn"] = rest[4]

    # --- resolution ----------------------------------------------------------------------------
    def zone_of(self, ifl: str) -> str | None:
        return next((z for z, d in self.zones.items() if ifl in d["interfaces"]), None)

    def address(self, zone: str, name: str) -> str | None:
        if name in ("any", "any-ipv4"):
            return "0.0.0.0/0"
        value = (self.zones.get(zone) or {}).get("book", {}).get(name) or self.global_book.get(name)
        if value is None:
            return None
        try:
            return str(ipaddress.IPv4Network(value, strict=False))
        except ValueError:
            return None


def _ike_proposals(r: _Reader, names: list[str], where: str, notes: list[str]) -> tuple[list[Proposal], int | None]:
    out: list[Proposal] = []
    life: int | None = None
    for n in names:
        p = r.ike_props.get(n)
        if p is None:
            notes.append(f"{where} names IKE proposal {n}, which is not configured.")
            continue
        enc = _neutral("ike_encryption", p.get("encryption-algorithm"))
        integ = _neutral("ike_integrity", p.get("authentication-algorithm"))
        dh = _neutral("ike_dh", p.get("dh-group"))
        gcm = isinstance(enc, str) and enc.endswith("-gcm")
        if enc is None or dh is None or (integ is None and not gcm):
            notes.append(f"IKE proposal {n} lacks an encryption-algorithm, authentication-algorithm or dh-group.")
            continue
        if p.get("authentication-method", "pre-shared-keys") != "pre-shared-keys":
            notes.append(f"IKE proposal {n} does not use pre-shared-keys.")
            continue
        out.append(Proposal(str(enc), None if gcm else str(integ), int(dh)))
        if life is None:
            life = int(p.get("lifetime-seconds", IKE_LIFETIME))
    return out, life


def _esp_proposals(r: _Reader, names: list[str], pfs: int | None, where: str,
                   notes: list[str]) -> tuple[list[Proposal], int | None]:
    out: list[Proposal] = []
    life: int | None = None
    for n in names:
        p = r.esp_props.get(n)
        if p is None:
            notes.append(f"{where} names IPsec proposal {n}, which is not configured.")
            continue
        if p.get("protocol", "esp") != "esp":
            notes.append(f"IPsec proposal {n} is not an ESP proposal.")
            continue
        enc = _neutral("ipsec_encryption", p.get("encryption-algorithm"))
        integ = _neutral("ipsec_integrity", p.get("authentication-algorithm"))
        gcm = isinstance(enc, str) and enc.endswith("-gcm")
        if enc is None or (integ is None and not gcm):
            notes.append(f"IPsec proposal {n} lacks an encryption-algorithm or authentication-algorithm.")
            continue
        out.append(Proposal(str(enc), None if gcm else str(integ), pfs))
        if life is None:
            life = int(p.get("lifetime-seconds", ESP_LIFETIME))
    return out, life


def _policy_selectors(r: _Reader, vpn: str, wan_zone: str | None) -> list[tuple[str, str]]:
    """Proxy ids of a policy-based VPN: source x destination of each policy tunnelling into it."""
    pairs: list[tuple[str, str]] = []
    for pol in r.policies:
        if pol["vpn"] != vpn or pol["action"] != "permit":
            continue
        srcs = [r.address(pol["from"], a) for a in pol["src"]]
        dsts = [r.address(pol["to"], a) for a in pol["dst"]]
        inbound = wan_zone is not None and pol["from"] == wan_zone and pol["to"] != wan_zone
        for s in srcs:
            for d in dsts:
                if s is None or d is None:
                    continue
                pair = (d, s) if inbound else (s, d)
                if pair not in pairs:
                    pairs.append(pair)
    return pairs


def interpret(lines: list[str]) -> Interpretation:
    """`lines`: the running configuration in `set` form, as `show configuration | display set` prints it."""
    conf = _Conf()
    for line in lines:
        toks = _tokens(line)
        if not toks:
            continue
        if toks[0] == "delete" and len(toks) > 1:
            conf.delete(["set", *toks[1:]])
        elif toks[0] == "set":
            conf.add(toks)
    r = _Reader(conf.statements)
    out = Interpretation(hostname=r.hostname)
    for ifl, obj in r.ifaces.items():
        if obj["addresses"]:
            out.interfaces[ifl] = list(obj["addresses"])
    used_gateways: set[str] = set()
    for vname, v in r.vpns.items():
        t = _tunnel(r, vname, v, out, used_gateways)
        if t is not None:
            out.tunnels.append(t)
    for g in r.gws:
        if g not in used_gateways:
            out.notes.append(f"IKE gateway {g} is used by no ipsec vpn.")
    return out


def _tunnel(r: _Reader, vname: str, v: dict[str, Any], out: Interpretation,
            used_gateways: set[str]) -> JunosTunnel | None:
    notes = out.notes
    gname, pname = v.get("gateway"), v.get("ipsec-policy")
    if not gname or gname not in r.gws:
        notes.append(f"ipsec vpn {vname} names no configured ike gateway ({gname or 'none'}).")
        return None
    used_gateways.add(gname)
    if not pname or pname not in r.esp_pols:
        notes.append(f"ipsec vpn {vname} names no configured ipsec policy ({pname or 'none'}).")
        return None
    gw = r.gws[gname]
    if not gw.get("address"):
        notes.append(f"ike gateway {gname} has no peer address.")
        return None
    ipol_name = gw.get("ike-policy")
    ipol = r.ike_pols.get(ipol_name or "")
    if ipol is None:
        notes.append(f"ike gateway {gname} names no configured ike policy ({ipol_name or 'none'}).")
        return None
    if "proposal-set" in ipol and not ipol.get("proposals"):
        notes.append(f"ike policy {ipol_name} uses proposal-set {ipol['proposal-set']}, which the twin does not model.")
        return None
    psk = ipol.get("psk")
    if not psk or psk[0] != "ascii-text":
        notes.append(f"ike policy {ipol_name} has no pre-shared-key ascii-text.")
        return None
    ike, ike_life = _ike_proposals(r, ipol.get("proposals", []), f"ike policy {ipol_name}", notes)
    if not ike:
        notes.append(f"ike policy {ipol_name} has no usable IKE proposal.")
        return None
    epol = r.esp_pols[pname]
    if "proposal-set" in epol and not epol.get("proposals"):
        notes.append(f"ipsec policy {pname} uses proposal-set {epol['proposal-set']}, which the twin does not model.")
        return None
    pfs = _neutral("pfs", epol.get("pfs")) if epol.get("pfs") else None
    esp, esp_life = _esp_proposals(r, epol.get("proposals", []), int(pfs) if pfs else None,
                                   f"ipsec policy {pname}", notes)
    if not esp:
        notes.append(f"ipsec policy {pname} has no usable IPsec proposal.")
        return None
    # the address IKE is sent from
    ext = gw.get("external-interface")
    if not ext:
        notes.append(f"ike gateway {gname} has no external-interface.")
        return None
    ext_ifl = _ifl(ext)
    local = gw.get("local-address")
    if local is None:
        addrs = out.interfaces.get(ext_ifl) or []
        if not addrs:
            notes.append(f"external-interface {ext_ifl} of ike gateway {gname} has no address.")
            return None
        local = str(ipaddress.IPv4Interface(addrs[0]).ip)
    version = 2 if gw.get("version") == "v2-only" else 1
    remote = gw["address"]
    local_id, remote_id = gw.get("local-identity"), gw.get("remote-identity")
    t = JunosTunnel(
        name=vname, gateway=gname, ike_version=version, local_addr=local, remote_addr=remote, psk=psk[1],
        ike=ike, esp=esp, aggressive=version == 1 and ipol.get("mode") == "aggressive",
        local_id=local_id if local_id and local_id != local else None,
        remote_id=remote_id if remote_id and remote_id != remote else None,
        ike_lifetime=ike_life, esp_lifetime=esp_life)
    if gw.get("dpd"):
        t.dpd_interval = gw.get("dpd_interval", DPD_INTERVAL)
        t.dpd_retries = gw.get("dpd_threshold", DPD_THRESHOLD)
    bind = v.get("bind-interface")
    if bind:
        st0 = bind
        unit = r.ifaces.get(st0)
        if unit is None:
            notes.append(f"ipsec vpn {vname} is bound to {st0}, which is not configured.")
            return None
        if r.zone_of(st0) is None:
            notes.append(f"{st0} (ipsec vpn {vname}) is in no security zone: its traffic is dropped.")
        t.interface = st0
        selectors = [(d["local-ip"], d["remote-ip"]) for d in v["ts"].values() if "local-ip" in d and "remote-ip" in d]
        if selectors:
            t.selectors = [(str(ipaddress.IPv4Network(a, strict=False)), str(ipaddress.IPv4Network(b, strict=False)))
                           for a, b in selectors]
        else:
            t.route_based = True
            t.inside_local = unit["addresses"][0] if unit["addresses"] else None
            t.routes = [str(ipaddress.IPv4Network(p, strict=False)) for p, nh in r.routes if nh == st0]
        return t
    selectors = _policy_selectors(r, vname, r.zone_of(ext_ifl))
    if not selectors:
        notes.append(f"ipsec vpn {vname} has no bind-interface and no security policy tunnels traffic into it.")
        return None
    t.selectors = selectors
    return t
