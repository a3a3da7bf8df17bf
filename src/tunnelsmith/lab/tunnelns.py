"""A tunnel interface, emulated as LAB.md's recipe does: a tunnel namespace per tunnel interface.

This kernel has no VTI/XFRM devices, so a route-based tunnel lives in a namespace of its own,
joined to the router (the device or cloud gateway namespace) by a veth pair:

* the router's end of the veth *is* the tunnel interface: it carries the inside address, and the
  router's routes point into it, so routing (static routes, later BGP) decides as on a VTI/st0;
* the tunnel namespace runs its own charon (kernel-libipsec, `encap = yes`, `0.0.0.0/0` selectors
  both ways, socket fwmark 0x42 kept out of table 220), with its default route back to the router;
* the router NATs IKE/ESP-in-UDP between the peer's public IP and the tunnel namespace, so IDs
  stay the public addresses and IKE sees NAT, which kernel-libipsec tolerates.

Used by the lab for cloud gateways and by vendor twins for their tunnel interfaces. Everything
it creates carries the lab prefix; every process is recorded by pid (and start time) in the
tunnel's directory, so cleanup stops only what it started.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tunnelsmith.errors import LabError
from tunnelsmith.lab import daemons
from tunnelsmith.lab.state import Proc

PREFIX = "ts-"
CHARON = "/usr/lib/ipsec/charon"
FWMARK = "0x42"
ROUTER_IF = "ts-tun{index}"  # the tunnel interface, in the router namespace
TUNNEL_IF = "ts-tunwan"  # its other end, in the tunnel namespace
RECORD = "tunnel.json"
MAX_SOCKET = 100  # sun_path is 108 bytes



def strongswan_conf(t: TunnelNs) -> str:
    """The tunnel namespace's own strongswan.conf: its vici socket and log, and the fwmark split
    (charon's own packets, marked 0x42, bypass table 220; everything else goes into ipsec0)."""
    plugins = (f"        vici {{\n            socket = unix://{t.vici}\n        }}\n"
               f"        socket-default {{\n            fwmark = {FWMARK}\n        }}\n"
               f"        kernel-netlink {{\n            fwmark = \"!{FWMARK}\"\n        }}\n")
    return "# tunnelsmith lab tunnel namespace (LAB.md)\n" + daemons.charon_settings(str(t.log), plugins)


@dataclass(frozen=True)
class TunnelNs:
    """One emulated tunnel interface: where it lives and what it connects."""

    ns: str  # the tunnel namespace
    router_ns: str  # the namespace whose routes point into the tunnel interface
    index: int  # router_if = ts-tun<index>
    link: str  # the veth /30: .1 the router's end, .2 the tunnel namespace's
    peer: str  # the remote public IP (IKE is NATed between it and the tunnel namespace)
    public: str  # this side's public IP (the WAN address IKE leaves from)
    wan_if: str  # the router's WAN interface (SNAT applies to packets leaving through it)
    dir: str  # config, vici socket, log and record
    inside: str | None = None  # "169.254.20.2/30" on the tunnel interface
    inside_remote: str | None = None
    routes: tuple[str, ...] = ()  # prefixes the router sends into the tunnel interface
    # When set, `routes` apply only to traffic from these prefixes (a table and rules of the
    # tunnel's own): a gateway with two tunnels to one device LAN answers each over its own.
    sources: tuple[str, ...] = ()

    @property
    def table(self) -> int:
        return 1000 + self.index

    @property
    def router_if(self) -> str:
        return ROUTER_IF.format(index=self.index)

    @property
    def router_addr(self) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.link)
        return ipaddress.IPv4Interface(f"{net.network_address + 1}/{net.prefixlen}")

    @property
    def tunnel_addr(self) -> ipaddress.IPv4Interface:
        net = ipaddress.IPv4Network(self.link)
        return ipaddress.IPv4Interface(f"{net.network_address + 2}/{net.prefixlen}")

    @property
    def vici(self) -> str:
        return f"{self.dir}/charon.vici"

    @property
    def uri(self) -> str:
        return f"unix://{self.vici}"

    @property
    def log(self) -> Path:
        return Path(self.dir) / "charon.log"

    @property
    def nft_table(self) -> str:
        return f"ts_tun{self.index}"


def _run(argv: list[str], check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30, input=input)
    if check and p.returncode != 0:
        raise LabError(f"command failed ({p.returncode}): {' '.join(argv)}\n{p.stderr.strip()}")
    return p


def _ns_exists(ns: str) -> bool:
    return (Path("/run/netns") / ns).exists()


def _ip(ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["ip", "-n", ns, *args], check=check)


def _sysctl(ns: str, *keys: str) -> None:
    _run(["ip", "netns", "exec", ns, "sysctl", "-qw", *keys])


def _nat_rules(t: TunnelNs) -> str:
    tun = t.tunnel_addr.ip
    return (f"table ip {t.nft_table} {{\n"
            "  chain pre {\n    type nat hook prerouting priority -100;\n"
            f"    ip saddr {t.peer} ip daddr {t.public} udp dport {{ 500, 4500 }} dnat to {tun}\n  }}\n"
            "  chain post {\n    type nat hook postrouting priority 100;\n"
            f"    ip saddr {tun} ip daddr {t.peer} oifname \"{t.wan_if}\" snat to {t.public}\n  }}\n"
            "}\n")


def build(t: TunnelNs) -> None:
    """Namespaces, veth, addresses, routes and NAT (idempotent; charon is started separately)."""
    if not t.ns.startswith(PREFIX):
        raise LabError(f"refusing to create namespace {t.ns!r} without the lab prefix {PREFIX!r}")
    if len(t.vici) > MAX_SOCKET:
        raise LabError(f"tunnel directory {t.dir} is too long for a unix socket path; use a shorter lab dir")
    Path(t.dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    if recorded(t) is None:
        _record(t, None)  # recorded before anything exists, so a crash mid-build is still cleaned up
    if not _ns_exists(t.ns):
        _run(["ip", "netns", "add", t.ns])
    _ip(t.ns, "link", "set", "lo", "up")
    if _ip(t.router_ns, "link", "show", "dev", t.router_if, check=False).returncode != 0:
        _ip(t.ns, "link", "del", "dev", TUNNEL_IF, check=False)
        _ip(t.router_ns, "link", "add", t.router_if, "type", "veth", "peer", "name", TUNNEL_IF, "netns", t.ns)
    for ns in (t.ns, t.router_ns):
        _sysctl(ns, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
    _ip(t.router_ns, "addr", "replace", str(t.router_addr), "dev", t.router_if)
    if t.inside:
        _ip(t.router_ns, "addr", "replace", t.inside, "dev", t.router_if)
    _ip(t.ns, "addr", "replace", str(t.tunnel_addr), "dev", TUNNEL_IF)
    _ip(t.router_ns, "link", "set", t.router_if, "up")
    _ip(t.ns, "link", "set", TUNNEL_IF, "up")
    _sysctl(t.ns, f"net.ipv4.conf.{TUNNEL_IF}.proxy_arp=1", f"net.ipv4.conf.{TUNNEL_IF}.rp_filter=0")
    _sysctl(t.router_ns, f"net.ipv4.conf.{t.router_if}.rp_filter=0")
    _ip(t.ns, "route", "replace", "default", "via", str(t.router_addr.ip), "dev", TUNNEL_IF)
    if t.inside:
        _ip(t.ns, "route", "replace", f"{ipaddress.IPv4Interface(t.inside).ip}/32", "dev", TUNNEL_IF)
    if "iif ipsec0" not in _ip(t.ns, "rule", "show").stdout:
        _ip(t.ns, "rule", "add", "iif", "ipsec0", "lookup", "main", "pref", "100")
    set_routes(t)
    _run(["ip", "netns", "exec", t.router_ns, "nft", "delete", "table", "ip", t.nft_table], check=False)
    _run(["ip", "netns", "exec", t.router_ns, "nft", "-f", "-"], input=_nat_rules(t))
    # A flow the router tracked before the NAT existed (the peer retrying IKE) would bypass it.
    if shutil.which("conntrack"):
        _run(["ip", "netns", "exec", t.router_ns, "conntrack", "-D", "-s", t.peer, "-p", "udp"], check=False)


def set_routes(t: TunnelNs) -> None:
    """The router's routes into the tunnel interface (next hop: the remote inside address)."""
    via = ["via", t.inside_remote, "onlink"] if t.inside_remote else ["via", str(t.tunnel_addr.ip)]
    table = ["table", str(t.table)] if t.sources else []
    for prefix in t.routes:
        _ip(t.router_ns, "route", "replace", prefix, *via, "dev", t.router_if, *table)
    if t.sources:
        have = _ip(t.router_ns, "rule", "show", "pref", str(t.table)).stdout
        for src in t.sources:
            if f"from {src} " not in have:
                _ip(t.router_ns, "rule", "add", "from", src, "lookup", str(t.table), "pref", str(t.table))


def start_charon(t: TunnelNs) -> Proc:
    """charon in the tunnel namespace, with a private /run and this tunnel's strongswan.conf."""
    d = Path(t.dir)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = d / "strongswan.conf"
    conf.write_text(strongswan_conf(t))
    Path(t.vici).unlink(missing_ok=True)
    script = (f"mount -t tmpfs -o mode=0755 ts-run /run && mkdir -p /run/strongswan && "
              f"STRONGSWAN_CONF={conf} exec {CHARON}")
    out = d / "charon.stdout"
    proc = daemons._spawn(["ip", "netns", "exec", t.ns, "unshare", "-m", "--propagation", "private",
                           "sh", "-c", script], out)
    proc = Proc(pid=proc.pid, start=proc.start, argv=[CHARON])
    _record(t, proc)
    daemons._wait(lambda: Path(t.vici).exists(), f"charon in {t.ns} (vici socket)", proc, 15, out)
    # ipsec0 appears with charon: the remote inside address is reached through it
    if t.inside_remote:
        for _ in range(250):
            if _ip(t.ns, "route", "replace", f"{t.inside_remote}/32", "dev", "ipsec0", check=False).returncode == 0:
                break
            time.sleep(0.02)
    return proc


def load(t: TunnelNs, swanctl_conf: str) -> subprocess.CompletedProcess[str]:
    """Write the tunnel's swanctl.conf and load it into the tunnel namespace's charon."""
    path = Path(t.dir) / "swanctl.conf"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(swanctl_conf)
    tmp.chmod(0o600)
    tmp.replace(path)
    return _run(["swanctl", "--load-all", "--clear", "--file", str(path), "--uri", t.uri], check=False)


def _record(t: TunnelNs, proc: Proc | None) -> None:
    data = {"tunnel": asdict(t), "charon": asdict(proc) if proc else None}
    path = Path(t.dir) / RECORD
    path.write_text(json.dumps(data, indent=1))


def recorded(t: TunnelNs) -> Proc | None:
    """The charon this tunnel started earlier, if it still runs (pid and start time match)."""
    path = Path(t.dir) / RECORD
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())["charon"]
        proc = Proc(**raw) if raw else None
    except (ValueError, KeyError, TypeError):
        return None
    if proc is None:
        return None
    return proc if proc.alive() else None


def ensure(t: TunnelNs) -> Proc:
    """The tunnel interface built and its charon running (reused when alive)."""
    build(t)
    proc = recorded(t)
    if proc is not None and Path(t.vici).exists():
        return proc
    return start_charon(t)


def teardown(t: TunnelNs) -> None:
    """Stop the recorded charon, delete the namespace, the router's end and the NAT table."""
    proc = recorded(t)
    if proc is not None:
        daemons.stop(proc)
    if _ns_exists(t.router_ns):
        _run(["ip", "netns", "exec", t.router_ns, "nft", "delete", "table", "ip", t.nft_table], check=False)
        _ip(t.router_ns, "link", "del", "dev", t.router_if, check=False)
        for _ in range(len(t.sources)):
            _ip(t.router_ns, "rule", "del", "pref", str(t.table), check=False)
    if t.ns.startswith(PREFIX) and _ns_exists(t.ns):
        _run(["ip", "netns", "delete", t.ns], check=False)
    with contextlib.suppress(OSError):
        (Path(t.dir) / RECORD).unlink()


def teardown_all(base: Path) -> list[str]:
    """Tear down every tunnel recorded under `base` (a node's tunnels directory); returns their names."""
    out: list[str] = []
    if not base.is_dir():
        return out
    for rec in sorted(base.glob(f"*/{RECORD}")):
        try:
            t = TunnelNs(**{k: tuple(v) if k in ("routes", "sources") else v
                            for k, v in json.loads(rec.read_text())["tunnel"].items()})
        except (ValueError, KeyError, TypeError):
            continue
        teardown(t)
        out.append(t.ns)
    return out
