"""Run a twin's bound tunnels in the node's real charon, and read its live SAs back.

The IKE engine behind every twin is the platform that plays cloud gateways in the lab (the one
with cloud-side templates: strongSwan); its `algorithms.yaml` spells the proposals. What the
vendor config says is taken literally: its proposals, lifetimes, DPD, identities and keys, so a
wrong template shows up as a failed negotiation with the (independently configured) cloud.

Route-based tunnels: the lab kernel has no VTI/XFRM devices (LAB.md), so in the lab each tunnel
interface gets a tunnel namespace of its own (`tunnelsmith.lab.tunnelns`) whose charon
negotiates 0.0.0.0/0 both ways, as a VTI or st0 does. Without namespaces (offline tests) a tunnel
interface is approximated with explicit CHILD SAs: the inside /32 pair plus each local LAN prefix
x each prefix the configuration routes into that interface.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from tunnelsmith.platforms import spec as pspec
from tunnelsmith.twin.model import ChildState, IkeState, Interpretation, Proposal, TwinTunnel

# charon's own algorithm names (vici list-sas) -> vendor-neutral names
_ENC = {("AES_CBC", "128"): "aes-128", ("AES_CBC", "192"): "aes-192", ("AES_CBC", "256"): "aes-256",
        ("AES_GCM_16", "128"): "aes-128-gcm", ("AES_GCM_16", "256"): "aes-256-gcm",
        ("3DES_CBC", ""): "3des", ("DES_CBC", ""): "des"}
_INTEG = {"HMAC_MD5_96": "md5", "HMAC_SHA1_96": "sha1", "HMAC_SHA2_256_128": "sha256",
          "HMAC_SHA2_384_192": "sha384", "HMAC_SHA2_512_256": "sha512"}
_DH = {"MODP_768": 1, "MODP_1024": 2, "MODP_1536": 5, "MODP_2048": 14, "MODP_3072": 15, "MODP_4096": 16,
       "ECP_256": 19, "ECP_384": 20, "ECP_521": 21, "CURVE_25519": 31}
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@cache
def engine() -> pspec.PlatformSpec:
    """Looked up once per process: each activation builds a config, and the scan costs ~0.1 s."""
    from tunnelsmith.render import emulation_platforms

    names = emulation_platforms()
    if not names:
        raise RuntimeError("no platform can play the IKE engine (none has cloud-side templates)")
    return pspec.load(names[0])


@dataclass
class Conn:
    """One charon connection for one twin tunnel."""

    name: str
    tunnel: TwinTunnel
    children: list[tuple[str, str, str]]  # (child name, local_ts, remote_ts)
    text: str


def conn_name(index: int, tunnel: TwinTunnel) -> str:
    return f"t{index}-{_NAME.sub('-', tunnel.name).strip('-')[:40] or 'tunnel'}"


def lan_prefixes(interp: Interpretation, exclude_addrs: Iterable[str]) -> list[str]:
    """Connected prefixes of the device's other interfaces: what a tunnel interface carries from."""
    skip = set(exclude_addrs)
    tunnel_ifs = {t.interface for t in interp.tunnels if t.route_based}
    out: list[str] = []
    for name, addrs in interp.interfaces.items():
        if name in tunnel_ifs:
            continue
        ifaces = [ipaddress.IPv4Interface(a) for a in addrs]
        if any(str(i.ip) in skip for i in ifaces):
            continue
        for i in ifaces:
            if i.network.prefixlen < 32 and str(i.network) not in out:
                out.append(str(i.network))
    return out


def children_of(tunnel: TwinTunnel, name: str, lans: list[str]) -> list[tuple[str, str, str]]:
    if not tunnel.route_based:
        return [(f"{name}-{i}", lo, re_) for i, (lo, re_) in enumerate(tunnel.selectors, 1)]
    out: list[tuple[str, str, str]] = []
    if tunnel.inside_local and tunnel.inside_remote:
        out.append((f"{name}-inside", f"{ipaddress.IPv4Interface(tunnel.inside_local).ip}/32",
                    f"{tunnel.inside_remote}/32"))
    i = 0
    for route in tunnel.routes:
        for lan in lans:
            i += 1
            out.append((f"{name}-{i}", lan, route))
    return out


def _ike(p: Proposal, alg: Any) -> str:
    enc = alg.spell("ike_encryption", p.encryption)
    integ = p.integrity or "sha256"
    second = ("prf" + alg.spell("ike_integrity", integ)) if p.integrity is None or "gcm" in enc else \
        alg.spell("ike_integrity", integ)
    return f"{enc}-{second}-{alg.spell('ike_dh', p.dh)}"


def _esp(p: Proposal, alg: Any) -> str:
    enc = alg.spell("ipsec_encryption", p.encryption)
    out = enc if (p.integrity is None or "gcm" in enc) else f"{enc}-{alg.spell('ipsec_integrity', p.integrity)}"
    return out + (f"-{alg.spell('pfs', p.dh)}" if p.dh else "")


def _conn(name: str, t: TwinTunnel, local_addr: str, children: list[tuple[str, str, str]], encap: bool,
          alg: Any) -> tuple[str, str]:
    """(connection block, secret block) for one tunnel."""
    ike_life = t.ike_lifetime or 86400
    esp_life = t.esp_lifetime or 3600
    ike_margin, esp_margin = min(540, ike_life // 10), min(540, esp_life // 10)
    lines = [f"   {name} {{", f"      version = {t.ike_version}", f"      local_addrs = {local_addr}",
             f"      remote_addrs = {t.remote_addr}",
             f"      proposals = {', '.join(_ike(p, alg) for p in t.ike)}"]
    if t.ike_version == 1:
        lines += [f"      aggressive = {'yes' if t.aggressive else 'no'}",
                  f"      reauth_time = {ike_life - ike_margin}s", "      rekey_time = 0s"]
    else:
        lines.append(f"      rekey_time = {ike_life - ike_margin}s")
    lines.append(f"      over_time = {ike_margin}s")
    if t.dpd_interval:
        lines.append(f"      dpd_delay = {t.dpd_interval}s")
        if t.ike_version == 1:
            lines.append(f"      dpd_timeout = {t.dpd_interval * (t.dpd_retries or 3)}s")
    local_id, remote_id = t.local_id or t.local_addr, t.remote_id or t.remote_addr
    lines += ["      mobike = no", f"      encap = {'yes' if encap else 'no'}", "      local {", "         auth = psk",
              f"         id = {local_id}", "      }", "      remote {", "         auth = psk",
              f"         id = {remote_id}", "      }", "      children {"]
    esp = ", ".join(_esp(p, alg) for p in t.esp)
    for child, lts, rts in children:
        lines += [f"         {child} {{", f"            local_ts = {lts}", f"            remote_ts = {rts}",
                  f"            esp_proposals = {esp}", f"            life_time = {esp_life}s",
                  f"            rekey_time = {esp_life - esp_margin}s", "            dpd_action = restart",
                  "            start_action = start", "         }"]
    lines += ["      }", "   }"]
    psk = t.psk.replace("\\", "\\\\").replace('"', '\\"')
    secret = "\n".join([f"   ike-{name} {{", f"      id-1 = {local_id}", f"      id-2 = {remote_id}",
                        f'      secret = "{psk}"', "   }"])
    return "\n".join(lines), secret


def _file(blocks: list[str], secrets: list[str]) -> str:
    return ("# written by the tunnelsmith twin from the device's running configuration\n"
            "connections {\n" + "\n".join(blocks) + "\n}\n\nsecrets {\n" + "\n".join(secrets) + "\n}\n")


ANY = "0.0.0.0/0"


def build(interp: Interpretation, mgmt_addr: str | None = None,
          tunnel_addrs: dict[str, str] | None = None) -> tuple[str, list[Conn], dict[str, tuple[str, Conn]]]:
    """swanctl.conf text for the node's charon, its connections, and the tunnel interfaces' own.

    With `tunnel_addrs` (tunnel interface -> the address of its tunnel namespace), each
    route-based tunnel is returned separately (interface -> (swanctl.conf, Conn)) for the charon
    of its tunnel namespace: 0.0.0.0/0 both ways, as a VTI/st0 negotiates, NAT-T on. Without it
    (no namespaces, e.g. offline tests) route-based tunnels get explicit pairs in the node's charon.
    """
    alg = engine().algorithms()
    wan_addrs = {t.local_addr for t in interp.tunnels}
    lans = lan_prefixes(interp, wan_addrs | ({mgmt_addr} if mgmt_addr else set()))
    conns: list[Conn] = []
    blocks: list[str] = []
    secrets: list[str] = []
    own: dict[str, tuple[str, Conn]] = {}
    for i, t in enumerate(interp.tunnels, 1):
        name = conn_name(i, t)
        if tunnel_addrs is not None and t.route_based and t.interface in tunnel_addrs:
            children = [(f"{name}-any", ANY, ANY)]
            block, secret = _conn(name, t, tunnel_addrs[t.interface], children, True, alg)
            own[t.interface] = (_file([block], [secret]), Conn(name=name, tunnel=t, children=children, text=block))
            continue
        children = children_of(t, name, lans)
        block, secret = _conn(name, t, t.local_addr, children, False, alg)
        conns.append(Conn(name=name, tunnel=t, children=children, text=block))
        blocks.append(block)
        secrets.append(secret)
    return _file(blocks, secrets), conns, own


# --- live state over vici ------------------------------------------------------------------------
def _s(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    return "" if v is None else str(v)


def _i(v: Any) -> int | None:
    try:
        return int(_s(v))
    except ValueError:
        return None


def _enc(d: dict[str, Any]) -> str | None:
    alg, size = _s(d.get("encr-alg")), _s(d.get("encr-keysize"))
    return _ENC.get((alg, size)) or _ENC.get((alg, "")) or (alg.lower() or None)


def list_sas(socket_path: str) -> list[tuple[IkeState, list[ChildState]]]:
    """Every IKE SA with its CHILD SAs, from charon's vici socket."""
    import vici

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(socket_path)
    try:
        session = vici.Session(sock)
        raw = list(session.list_sas())
    finally:
        sock.close()
    out: list[tuple[IkeState, list[ChildState]]] = []
    for item in raw:
        for name, d in item.items():
            name = _s(name)
            ike = IkeState(
                name=name, unique_id=_i(d.get("uniqueid")) or 0, version=_i(d.get("version")) or 0,
                state=_s(d.get("state")), local_host=_s(d.get("local-host")), local_port=_i(d.get("local-port")) or 500,
                remote_host=_s(d.get("remote-host")), remote_port=_i(d.get("remote-port")) or 500,
                local_id=_s(d.get("local-id")), remote_id=_s(d.get("remote-id")),
                initiator=_s(d.get("initiator")) == "yes", spi_i=_s(d.get("initiator-spi")),
                spi_r=_s(d.get("responder-spi")), encryption=_enc(d), integrity=_INTEG.get(_s(d.get("integ-alg"))),
                dh=_DH.get(_s(d.get("dh-group"))), established_s=_i(d.get("established")),
                rekey_s=_i(d.get("rekey-time")) or _i(d.get("reauth-time")),
                nat=_s(d.get("nat-any")) == "yes")
            children: list[ChildState] = []
            for _, c in (d.get("child-sas") or {}).items():
                children.append(ChildState(
                    name=_s(c.get("name")), unique_id=_i(c.get("uniqueid")) or 0, reqid=_i(c.get("reqid")) or 0,
                    state=_s(c.get("state")), mode=_s(c.get("mode")), protocol=_s(c.get("protocol")),
                    encap=_s(c.get("encap")) == "yes", spi_in=_s(c.get("spi-in")), spi_out=_s(c.get("spi-out")),
                    encryption=_enc(c), integrity=_INTEG.get(_s(c.get("integ-alg"))), dh=_DH.get(_s(c.get("dh-group"))),
                    bytes_in=_i(c.get("bytes-in")) or 0, packets_in=_i(c.get("packets-in")) or 0,
                    bytes_out=_i(c.get("bytes-out")) or 0, packets_out=_i(c.get("packets-out")) or 0,
                    install_s=_i(c.get("install-time")) or 0, rekey_s=_i(c.get("rekey-time")),
                    life_s=_i(c.get("life-time")), local_ts=[_s(x) for x in c.get("local-ts") or []],
                    remote_ts=[_s(x) for x in c.get("remote-ts") or []]))
            out.append((ike, children))
    return out
