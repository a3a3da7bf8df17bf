"""One vendor twin device: the platform's CLI (emulator + grammar) over live charon state.

The device keeps its configuration in a state file (a twin restarted by `lab up` comes back with
what was pushed to it), re-reads its running configuration with the platform's interpreter when
it becomes active, and answers show, ping and log commands from what charon and the kernel really
do in its namespace.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tunnelsmith.lab import tunnelns
from tunnelsmith.lab.tunnelns import TunnelNs
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.emulator import CliEmulator, Node, dump_tree, parse_tree
from tunnelsmith.twin import charon
from tunnelsmith.twin import platform as twinplat
from tunnelsmith.twin.model import ChildState, Interpretation, PingReport, TunnelState

log = logging.getLogger(__name__)
_CONN = re.compile(r"<([^|>]+)\|\d+>")
_PING_REPLY = re.compile(r"icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms")
_CHARON_TIME = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d) ")


@dataclass
class TwinConfig:
    """What the lab tells a twin process (written as JSON into the node directory)."""

    platform: str
    hostname: str
    username: str
    listen: str
    port: int
    host_key: str
    authorized_keys: str
    state_file: str
    swanctl_conf: str = "/etc/swanctl/conf.d/twin.conf"
    vici_socket: str = "/run/charon.vici"
    charon_log: str = "/var/log/charon.log"
    swanctl: list[str] = field(default_factory=lambda: ["swanctl"])  # tests without a charon: ["true"]
    swanctl_file: str | None = None  # `--load-all --file`: a twin outside the node's mount namespace
    vici_uri: str | None = None  # `--uri` for the node's charon (None: swanctl's default socket)
    # Tunnel namespaces for tunnel interfaces (lab only; empty: explicit pairs in the node's charon):
    # {"dir": ..., "ns_prefix": ..., "links": "198.19.240.0/26", "wan_if": ..., "router_ns": ...}
    tunnels: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)  # base.j2 context: wan, mgmt, lan

    @classmethod
    def read(cls, path: Path) -> TwinConfig:
        return cls(**json.loads(path.read_text()))


def _tree(lines: list[str]) -> list[Node]:
    return parse_tree(lines)


def as_tunnel_interface(children: list[ChildState]) -> ChildState:
    """What a VTI/st0 shows: one SA pair with 0.0.0.0/0 selectors carrying all the tunnel's traffic.

    The lab emulates a tunnel interface with one CHILD SA per routed pair (no VTI devices here);
    the device shows it as the single any-to-any SA a real tunnel interface negotiates.
    """
    first = min(children, key=lambda c: c.unique_id)
    return replace(first, local_ts=["0.0.0.0/0"], remote_ts=["0.0.0.0/0"],
                   bytes_in=sum(c.bytes_in for c in children), bytes_out=sum(c.bytes_out for c in children),
                   packets_in=sum(c.packets_in for c in children),
                   packets_out=sum(c.packets_out for c in children))


class TwinDevice:
    def __init__(self, cfg: TwinConfig):
        self.cfg = cfg
        self.spec = pspec.load(cfg.platform)
        self.twin = twinplat.load(cfg.platform)
        self.lock = threading.RLock()
        state = self._load_state()
        running = state.get("active") if state else self.base_config()
        emulation = {"hostname": cfg.hostname, "username": cfg.username}
        self.emu = CliEmulator(self.spec, running, emulation=emulation, options=cfg.options,
                               grammar=self.twin.grammar, exec_hook=self._exec, on_change=self._changed)
        if state:
            self.emu.candidate = _tree(state.get("candidate") or state["active"])
            self.emu.history = [_tree(h) for h in state.get("history") or []]
            self.emu.files = {k: _tree(v) for k, v in (state.get("files") or {}).items()}
            self.emu.saved = state.get("saved")
        self._session = [(re.compile(e["match"]), str(e.get("reply", ""))) for e in self.twin.data.get("session") or []]
        self._show = self.twin.commands("show")
        self.dirty = True
        self.applied_text: str | None = None
        self.conns: list[charon.Conn] = []
        self.tunnel_ns: dict[str, tuple[TunnelNs, str, charon.Conn]] = {}  # interface -> (ns, conf, conn)
        self._ns_index: dict[str, int] = {}
        if cfg.tunnels:
            tunnelns.teardown_all(Path(cfg.tunnels["dir"]))  # left by a twin that did not stop cleanly
        self.interpretation = Interpretation(hostname=cfg.hostname)
        self._follow_hostname()

    # --- configuration state -------------------------------------------------------------------
    def base_config(self) -> list[str]:
        text = self.twin.render("base.j2", hostname=self.cfg.hostname, username=self.cfg.username, **self.cfg.base)
        return [ln for ln in text.splitlines() if ln.strip()]

    def _load_state(self) -> dict[str, Any] | None:
        p = Path(self.cfg.state_file)
        if not p.exists():
            return None
        return json.loads(p.read_text())

    def save_state(self) -> None:
        e = self.emu
        data = {"active": dump_tree(e.active), "candidate": dump_tree(e.candidate),
                "history": [dump_tree(h) for h in e.history[:50]],
                "files": {k: dump_tree(v) for k, v in e.files.items()}, "saved": e.saved}
        p = Path(self.cfg.state_file)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.chmod(0o600)
        tmp.replace(p)

    def _changed(self) -> None:
        self.dirty = True

    def _follow_hostname(self) -> None:
        rx = self.twin.data.get("hostname_from")
        if not rx:
            return
        for line in dump_tree(self.emu.active):
            m = re.match(rx, line.strip())
            if m:
                self.emu.emu["hostname"] = m.group(1)

    # --- the terminal -----------------------------------------------------------------------
    def execute(self, line: str) -> tuple[str, bool]:
        with self.lock:
            was_config = self.emu.mode == "config"
            reply, waiting = self.emu.execute(line)
            if self.dirty and (not was_config or self.emu.mode != "config" or not self.emu.commit_mode):
                self.save_state()
            if self.dirty and self.emu.mode != "config":
                self.activate()
            return reply, waiting

    def prompt(self) -> str:
        with self.lock:
            return self.emu.prompt()

    def activate(self) -> None:
        """The running configuration is active: run what it binds in charon."""
        self.dirty = False
        self._follow_hostname()
        try:
            self.interpretation = self.twin.interpret(dump_tree(self.emu.active))
        except Exception as exc:  # a config the interpreter cannot read must not kill the device
            log.exception("interpreting the running configuration failed")
            self.interpretation = Interpretation(hostname=self.emu.hostname, notes=[f"interpreter failed: {exc}"])
        mgmt = str(ipaddress.IPv4Interface(self.cfg.base["mgmt"]["address"]).ip) if self.cfg.base.get("mgmt") else None
        specs = self._tunnel_specs() if self.cfg.tunnels else None
        text, conns, own = charon.build(self.interpretation, mgmt,
                                        {k: str(v.tunnel_addr.ip) for k, v in specs.items()} if specs is not None
                                        else None)
        started: list[tuple[str | None, list[charon.Conn]]] = []
        if specs is not None and self._apply_tunnel_ns(specs, own):
            started += [(ns.uri, [conn]) for ns, _, conn in self.tunnel_ns.values()]
        if text != self.applied_text:
            old = {c.name: c.text for c in self.conns}
            new = {c.name: c.text for c in conns}
            for name in old:
                if new.get(name) != old[name]:
                    subprocess.run(self._sw(self.cfg.vici_uri, "--terminate", "--ike", name, "--force",
                                            "--timeout", "2"), capture_output=True, timeout=10)
            path = Path(self.cfg.swanctl_conf)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o600)
            extra = ["--file", self.cfg.swanctl_file] if self.cfg.swanctl_file else []
            p = subprocess.run(self._sw(self.cfg.vici_uri, "--load-all", "--clear", *extra), capture_output=True,
                               text=True, timeout=30)
            if p.returncode != 0:
                log.error("swanctl --load-all failed: %s", p.stdout + p.stderr)
            self.applied_text, self.conns = text, conns
            started.append((self.cfg.vici_uri, list(conns)))
        for uri, group in started:
            threading.Thread(target=self._ensure_up, args=(uri, group), daemon=True).start()

    # --- tunnel interfaces as tunnel namespaces (lab) ------------------------------------------
    def _tunnel_specs(self) -> dict[str, TunnelNs]:
        """One tunnel namespace per bound tunnel interface; indexes stay with their interface."""
        tc = self.cfg.tunnels
        links = list(ipaddress.IPv4Network(tc["links"]).subnets(new_prefix=30))
        out: dict[str, TunnelNs] = {}
        for t in self.interpretation.tunnels:
            if not t.route_based or not t.interface or t.interface in out:
                continue
            if t.interface not in self._ns_index:
                used = set(self._ns_index.values())
                free = next((i for i in range(1, len(links) + 1) if i not in used), None)
                if free is None:
                    log.error("no tunnel link left for %s", t.interface)
                    continue
                self._ns_index[t.interface] = free
            i = self._ns_index[t.interface]
            out[t.interface] = TunnelNs(
                ns=f"{tc['ns_prefix']}{i}", router_ns=tc["router_ns"], index=i, link=str(links[i - 1]),
                peer=t.remote_addr, public=t.local_addr, wan_if=tc["wan_if"], dir=f"{tc['dir']}/t{i}",
                inside=t.inside_local, inside_remote=t.inside_remote, routes=tuple(t.routes))
        return out

    def _apply_tunnel_ns(self, specs: dict[str, TunnelNs], own: dict[str, tuple[str, charon.Conn]]) -> bool:
        """Build, reload or tear down tunnel namespaces; True when any configuration was loaded."""
        loaded = False
        for iface in [i for i in self.tunnel_ns if i not in specs or i not in own or self.tunnel_ns[i][0] != specs[i]]:
            ns, _, _ = self.tunnel_ns.pop(iface)
            tunnelns.teardown(ns)
        for iface, spec in specs.items():
            if iface not in own:
                continue
            conf, conn = own[iface]
            current = self.tunnel_ns.get(iface)
            if current is not None and current[1] == conf:
                continue
            try:
                tunnelns.ensure(spec)
                if current is not None:
                    subprocess.run(self._sw(spec.uri, "--terminate", "--ike", current[2].name, "--force",
                                            "--timeout", "2"), capture_output=True, timeout=10)
                p = tunnelns.load(spec, conf)
                if p.returncode != 0:
                    log.error("swanctl --load-all failed in %s: %s", spec.ns, p.stdout + p.stderr)
            except Exception:  # a tunnel that cannot be built must not kill the device
                log.exception("building the tunnel namespace for %s failed", iface)
                continue
            self.tunnel_ns[iface] = (spec, conf, conn)
            loaded = True
        return loaded

    def _sw(self, uri: str | None, *args: str) -> list[str]:
        """A swanctl command line (the command first: swanctl reads its options after it)."""
        return [*self.cfg.swanctl, *args, *(["--uri", uri] if uri else [])]

    def close(self) -> None:
        """Stop what this twin started: its tunnel namespaces and their charons."""
        for spec, _, _ in self.tunnel_ns.values():
            tunnelns.teardown(spec)
        self.tunnel_ns.clear()
        if self.cfg.tunnels:
            tunnelns.teardown_all(Path(self.cfg.tunnels["dir"]))

    def _ensure_up(self, uri: str | None, conns: list[charon.Conn], rounds: int = 3, settle: float = 3.0) -> None:
        """Initiate children that did not come up by themselves (as an always-on VTI would)."""
        sock = uri.removeprefix("unix://") if uri else self.cfg.vici_socket
        for _ in range(rounds):
            time.sleep(settle)
            current = {c.name for c in self.conns} | {c.name for _, _, c in self.tunnel_ns.values()}
            if any(c.name not in current for c in conns):
                return
            try:
                up = {c.name for _, kids in charon.list_sas(sock) for c in kids
                      if c.state == "INSTALLED"}
            except OSError:
                continue
            todo = [child for c in conns for child, _, _ in c.children if child not in up]
            if not todo:
                return
            for child in todo:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    subprocess.run(self._sw(uri, "--initiate", "--child", child, "--timeout", "8"),
                                   capture_output=True, timeout=12)

    # --- exec commands beyond configuration ---------------------------------------------------
    def _exec(self, cmd: str) -> str | None:
        for rx, reply in self._session:
            m = rx.fullmatch(cmd)
            if m:
                return m.expand(reply) + ("\n" if reply else "")
        if self.dirty:
            self.activate()
        for c in self._show:
            m = c.pattern.fullmatch(cmd)
            if m:
                return self.show(c.entry["template"], m.groupdict())
        ping = self.twin.data.get("ping") or {}
        if ping and (m := re.fullmatch(ping["match"], cmd)):
            return self.ping(m.groupdict(), ping)
        lg = self.twin.data.get("log") or {}
        if lg and re.fullmatch(lg["match"], cmd):
            return self.log_lines(lg)
        return None

    def _conns(self) -> list[tuple[charon.Conn, str]]:
        """Every connection with the vici socket of the charon that runs it, in configuration order."""
        out = [(c, self.cfg.vici_socket) for c in self.conns]
        out += [(c, spec.vici) for spec, _, c in self.tunnel_ns.values()]
        order = {id(t): i for i, t in enumerate(self.interpretation.tunnels)}
        return sorted(out, key=lambda x: order.get(id(x[0].tunnel), len(order)))

    def tunnel_states(self) -> list[TunnelState]:
        cache: dict[str, list[Any]] = {}
        out: list[TunnelState] = []
        for c, sock in self._conns():
            if sock not in cache:
                try:
                    cache[sock] = charon.list_sas(sock)
                except OSError as exc:
                    log.warning("charon does not answer on %s: %s", sock, exc)
                    cache[sock] = []
            sas = cache[sock]
            mine = [(ike, kids) for ike, kids in sas if ike.name == c.name]
            mine.sort(key=lambda x: (x[0].state != "ESTABLISHED", -x[0].unique_id))
            st = TunnelState(tunnel=c.tunnel)
            if mine:
                st.ike = mine[0][0]
                st.children = [k for _, kids in mine for k in kids if k.state == "INSTALLED"]
                if c.tunnel.route_based and st.children:
                    st.children = [as_tunnel_interface(st.children)]
            out.append(st)
        return out

    def show(self, template: str, args: dict[str, Any]) -> str:
        return self.twin.render(template, hostname=self.emu.hostname, tunnels=self.tunnel_states(),
                                interpretation=self.interpretation, now=datetime.now(), args=args)

    def _address(self, value: str | None) -> str | None:
        if not value:
            return None
        for name, addrs in self.interpretation.interfaces.items():
            if name.lower() == value.lower() and addrs:
                return str(ipaddress.IPv4Interface(addrs[0]).ip)
        return value

    def ping(self, groups: dict[str, Any], entry: dict[str, Any]) -> str:
        defaults = entry.get("defaults") or {}
        count = int(groups.get("count") or defaults.get("count", 5))
        size = int(groups.get("size") or defaults.get("size", 100))
        target = str(groups["target"])
        source = self._address(groups.get("source"))
        report = PingReport(target=target, source=source, count=count, size=size, replies=[])
        local = {str(ipaddress.IPv4Interface(a).ip) for addrs in self.interpretation.interfaces.values() for a in addrs}
        if source and source not in local:
            report.error = "source address not configured"
        else:
            argv = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "1", "-s", str(max(0, size - 28))]
            argv += ["-I", source] if source else []
            p = subprocess.run([*argv, target], capture_output=True, text=True, timeout=10 + 2 * count)
            for m in _PING_REPLY.finditer(p.stdout):
                report.replies.append({"seq": int(m.group(1)), "ttl": int(m.group(2)), "rtt_ms": float(m.group(3))})
        return self.twin.render(entry["template"], ping=report, hostname=self.emu.hostname)

    def log_lines(self, entry: dict[str, Any], tail_bytes: int = 400_000) -> str:
        """charon's log lines about this device's tunnels, in the vendor's log format, oldest first."""
        paths = [Path(self.cfg.charon_log)] + [spec.log for spec, _, _ in self.tunnel_ns.values()]
        by_conn = {c.name: c.tunnel for c, _ in self._conns()}
        events = [(re.compile(e["charon"]), str(e["line"])) for e in entry.get("events") or []]
        fmt = str(entry.get("timestamp", "%b %d %H:%M:%S"))
        found: list[tuple[datetime, str]] = []
        year = datetime.now().year
        for path in paths:
            text = ""
            if path.exists():
                with path.open("rb") as fh:
                    fh.seek(0, 2)
                    fh.seek(max(0, fh.tell() - tail_bytes))
                    text = fh.read().decode(errors="replace")
            for raw in text.splitlines():
                m = _CONN.search(raw)
                tunnel = by_conn.get(m.group(1)) if m else None
                if tunnel is None:
                    continue
                for rx, line in events:
                    hit = rx.search(raw)
                    if not hit:
                        continue
                    tm = _CHARON_TIME.match(raw)
                    when = datetime.now()
                    if tm:
                        with contextlib.suppress(ValueError):
                            when = datetime.strptime(f"{year} {' '.join(tm.group(1).split())}", "%Y %b %d %H:%M:%S")
                    fields = {"time": when.strftime(fmt), "peer": tunnel.remote_addr, "local": tunnel.local_addr,
                              "name": tunnel.name, "hostname": self.emu.hostname,
                              **{k: v or "" for k, v in hit.groupdict().items()}}
                    with contextlib.suppress(KeyError, IndexError):
                        found.append((when, line.format(**fields)))
                    break
        found.sort(key=lambda x: x[0])  # stable: lines of one second keep their order per file
        out = list(entry.get("header") or []) + [line for _, line in found]
        return "\n".join(out) + ("\n" if out else "")
