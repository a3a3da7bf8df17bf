"""The lab's Python API: up, status, down, and helpers for tests that break the lab on purpose.

`up` is idempotent and repairs a half-built lab; `down` works from the state record alone.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import LabError
from tunnelsmith.lab import daemons, keys, netns, plan, state, tunnelns
from tunnelsmith.lab.state import LabState, NodeState, Proc, lab_path
from tunnelsmith.lab.status import LabStatus, NodeStatus
from tunnelsmith.model import Inventory, SecretRef
from tunnelsmith.render import render_cloud_emulation

BLOCK_TABLE = "ts_block"
_SAFE_PATH = re.compile(r"/[A-Za-z0-9_.+/-]*")
_LAB_VAR = re.compile(r"\$\{TUNNELSMITH_LAB_DIR\}|\$TUNNELSMITH_LAB_DIR\b")


@contextmanager
def _locked(d: Path) -> Iterator[None]:
    """One `up`/`down` at a time per lab directory."""
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (d / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_host_routes() -> None:
    """LAB.md's hard rule: refuse when the machine already routes any lab range itself."""
    text = netns.run(["ip", "-4", "route", "show", "table", "all"]).stdout
    conflicts = plan.route_conflicts(text)
    if conflicts:
        raise LabError("refusing to build the lab: the root namespace already uses lab address ranges:\n  "
                       + "\n  ".join(conflicts))


def _node_dir(d: Path, name: str) -> Path:
    return d / "nodes" / name


def cloud_psks(inv: Inventory, cloud: str, lab_dir: Path) -> dict[str, str]:
    """PSKs for the cloud side; references into ${TUNNELSMITH_LAB_DIR} resolve in *this* lab dir."""
    out: dict[str, str] = {}
    for t in inv.tunnels_of_cloud(cloud):
        ref = t.psk
        if ref.file and _LAB_VAR.search(ref.file):
            ref = SecretRef(file=_LAB_VAR.sub(lambda _: str(lab_dir), ref.file), key=ref.key)
        out[t.name] = secretmod.resolve(ref, Path(inv.directory))
    return out


def _cloud_psks(inv: Inventory, cloud: str, d: Path, psk_override: dict[str, str] | None) -> dict[str, str]:
    psk = cloud_psks(inv, cloud, d)
    for k, v in (psk_override or {}).items():
        secretmod.MASKER.add(v)
        psk[k] = v
    return psk


def _write_cloud_config(inv: Inventory, node: plan.Node, d: Path, psk_override: dict[str, str] | None) -> bool:
    """Render the cloud console's configuration into the node's /etc; True when a file changed.

    Tunnels the lab runs in tunnel namespaces are left out (see `_ensure_cloud_tunnels`).
    """
    cloud = node.name
    psk = _cloud_psks(inv, cloud, d, psk_override)
    apart = {name for name, _ in node.tunnel_ns}
    rendered = render_cloud_emulation(inv, cloud, psk=psk, only=lambda name: name not in apart)
    etc = _node_dir(d, cloud) / "etc"
    changed = False
    for path, text in rendered.files.items():
        if not path.startswith("/etc/") or path.split("/")[2] not in daemons.BIND_ETC:
            raise LabError(f"cloud emulation output {path} is not under a path the lab node owns")
        target = etc / path[len("/etc/"):]
        if not target.exists() or target.read_text() != text:
            state.write_private(target, text)
            changed = True
    return changed


def _cloud_tunnel(inv: Inventory, node: plan.Node, ndir: Path, name: str, index: int) -> tunnelns.TunnelNs:
    t = inv.tunnels[name]
    assert node.tunnel_links is not None
    r = t.routing
    assert r.inside_local is not None and r.inside_remote is not None
    link = list(node.tunnel_links.subnets(new_prefix=30))[index - 1]
    device = inv.devices[t.device]
    return tunnelns.TunnelNs(
        ns=plan.short_name("ts-n-", f"{node.name}-{index}", limit=40), router_ns=node.ns, index=index,
        link=str(link), peer=str(device.public_ip), public=str(t.cloud_ip), wan_if=node.wan_if,
        dir=str(ndir / "tunnels" / f"t{index}"), inside=f"{r.inside_remote}/{r.inside_local.network.prefixlen}",
        inside_remote=str(r.inside_local.ip), routes=tuple(str(n) for n in device.lan_subnets),
        sources=tuple(dict.fromkeys(str(n) for n in r.static_routes)))


def _ensure_cloud_tunnels(inv: Inventory, node: plan.Node, d: Path, changed: list[str],
                          psk_override: dict[str, str] | None = None, force: bool = False) -> list[str]:
    """The cloud ends that run in tunnel namespaces: built, charon up, configuration loaded."""
    ndir = _node_dir(d, node.name)
    if not node.tunnel_ns:
        return []
    psk = _cloud_psks(inv, node.name, d, psk_override)
    out: list[str] = []
    for name, index in node.tunnel_ns:
        spec = _cloud_tunnel(inv, node, ndir, name, index)
        was = tunnelns.recorded(spec)
        tunnelns.ensure(spec)
        conf = render_cloud_emulation(inv, node.name, psk=psk, only=lambda n, name=name: n == name,
                                      extra={"lab_tunnel_ns": {name: {"local_addr": str(spec.tunnel_addr.ip)}}})
        text = next(iter(conf.files.values()))
        current = Path(spec.dir) / "swanctl.conf"
        if force or was is None or not current.exists() or current.read_text() != text:
            p = tunnelns.load(spec, text)
            if p.returncode != 0:
                raise LabError(f"swanctl --load-all failed in {spec.ns}: {secretmod.mask(p.stdout + p.stderr)}")
            out.append(p.stdout)
            changed.append(f"{node.name} tunnel {name} loaded in {spec.ns}")
    return out


def _stop_node(ns_state: NodeState) -> list[str]:
    """Every process of a node, then its tunnel namespaces (a twin removes its own when it stops)."""
    stopped = _stop_roles(ns_state)
    stopped += [f"netns {ns}" for ns in tunnelns.teardown_all(Path(ns_state.dir) / "tunnels")]
    return stopped


def _load_all(holder: Proc, clear: bool = True) -> str:
    argv = ["swanctl", "--load-all"] + (["--clear"] if clear else [])
    p = netns.run(daemons.enter_argv(holder, argv), check=False)
    if p.returncode != 0:
        raise LabError(f"swanctl --load-all failed in the lab: {secretmod.mask(p.stdout + p.stderr)}")
    return p.stdout


def _claim(st: LabState, ns: str, d: Path) -> None:
    """Never adopt a namespace this lab directory did not create (another lab dir, another tool)."""
    if ns not in st.namespaces and netns.ns_exists(ns):
        raise LabError(f"namespace {ns} exists but is not recorded in {d / state.STATE_FILE}; it belongs to "
                       "another lab directory or tool: run `lab down` there (or delete it) first")


def _ensure_node(inv: Inventory, pl: plan.LabPlan, node: plan.Node, d: Path, st: LabState,
                 client_pub: Path, changed: list[str]) -> None:
    _claim(st, node.ns, d)
    if node.mgmt and node.mgmt.root_if not in st.links and netns.link_exists(node.mgmt.root_if):
        raise LabError(f"link {node.mgmt.root_if} exists but is not recorded in {d / state.STATE_FILE}")
    created = netns.ensure_ns(node.ns)
    st.add_ns(node.ns)
    if node.mgmt:
        st.add_link(node.mgmt.root_if)
    state.save(d, st)
    netns.setup_node(pl, node)
    ndir = _node_dir(d, node.name)
    ns_state = st.nodes.get(node.name)
    if ns_state is None or ns_state.ns != node.ns:
        ns_state = NodeState(name=node.name, kind=node.kind, ns=node.ns, dir=str(ndir))
        st.nodes[node.name] = ns_state
    holder = ns_state.procs.get("holder")
    fresh = created or not (ndir / "etc").exists()
    if created:
        changed.append(f"{node.ns} created")
    if fresh or holder is None or not holder.alive():
        _stop_node(ns_state)
        if fresh:
            daemons.fresh_etc(ndir)
            (ndir / "twin-state.json").unlink(missing_ok=True)  # a fresh box: the twin's config goes too
        holder = daemons.start_holder(node.ns, ndir, node.name)
        ns_state.procs["holder"] = holder
        changed.append(f"{node.name} holder started")
        state.save(d, st)
    restarted = _ensure_ike_daemon(node, ns_state, holder, ndir, changed)
    if restarted:
        state.save(d, st)
    if node.kind == "cloud":
        if _write_cloud_config(inv, node, d, None) or restarted:
            _load_all(holder)
            changed.append(f"{node.name} cloud config loaded")
        _ensure_cloud_tunnels(inv, node, d, changed)
    else:
        # what the strongswan unit does when a box boots (starter loads ipsec.conf by itself)
        conf_d = ndir / "etc" / "swanctl" / "conf.d"
        if restarted and node.daemon == "charon" and not fresh and any(conf_d.glob("*.conf")):
            _load_all(holder, clear=False)
        keys.host_key(ndir, node.name)
        auth = ndir / "ssh" / "authorized_keys"
        pub = client_pub.read_text()
        if not auth.exists() or auth.read_text() != pub:
            state.write_private(auth, pub)
        assert node.mgmt is not None
        role = "twin" if node.twin else "sshd"
        proc = ns_state.procs.get(role)
        twin_json = _write_twin_config(inv, node, ndir, holder) if node.twin else None
        if restarted and proc is not None and node.twin:  # a new charon: the twin re-applies its config
            _stop_roles(ns_state, ("twin",))
            proc = None
        if proc is None or not proc.alive():
            listen = str(node.mgmt.dev_addr.ip)
            if twin_json is not None:
                ns_state.procs[role] = daemons.start_twin(holder, ndir, twin_json, listen, node.mgmt.port)
            else:
                ns_state.procs[role] = daemons.start_sshd(holder, ndir, listen, node.mgmt.port)
            changed.append(f"{node.name} {role} started")
    state.save(d, st)


def _write_twin_config(inv: Inventory, node: plan.Node, ndir: Path, holder: Proc) -> Path:
    """What the twin process needs: its platform, names, addresses, keys and state file.

    The twin runs in the node's network and UTS namespaces but the host's mount namespace (it
    creates tunnel namespaces, which live under the host's /run/netns), so it reaches the node's
    charon, configuration and log through the node directory and /proc/<holder>/root.
    """
    from tunnelsmith.twin import platform as twinplat
    from tunnelsmith.twin.device import TwinConfig

    assert node.mgmt is not None and node.platform is not None
    dev = inv.devices[node.name]
    names = twinplat.load(node.platform).data.get("interfaces") or {}
    lan_names = [n for n in names.get("lan") or [] if n != dev.wan_interface]
    lans = [{"interface": lan_names[i] if i < len(lan_names) else f"lan{i}",
             "address": str(plan.first_host(net))} for i, net in enumerate(dev.lan_subnets)]
    cfg = TwinConfig(
        platform=node.platform, hostname=re.sub(r"[^A-Za-z0-9-]", "-", node.name)[:24],
        username=dev.username or "admin", listen=str(node.mgmt.dev_addr.ip), port=node.mgmt.port,
        host_key=str(ndir / "ssh" / "ssh_host_ed25519_key"),
        authorized_keys=str(ndir / "ssh" / "authorized_keys"),
        state_file=str(ndir / "twin-state.json"), options=dict(dev.options),
        swanctl_conf=str(ndir / "etc" / "swanctl" / "conf.d" / "twin.conf"),
        swanctl_file=str(ndir / "etc" / "swanctl" / "swanctl.conf"),
        vici_socket=str(daemons.vici_path(holder)), charon_log=str(ndir / "log" / "charon.log"),
        vici_uri=f"unix://{daemons.vici_path(holder)}",
        tunnels={"dir": str(ndir / "tunnels"), "ns_prefix": plan.short_name("ts-n-", node.name, limit=36) + "-",
                 "links": str(node.tunnel_links), "wan_if": node.wan_if, "router_ns": node.ns}
        if node.tunnel_links else {},
        base={"wan": {"interface": dev.wan_interface, "address": f"{dev.public_ip}/24"},
              "mgmt": {"interface": names.get("mgmt", "mgmt0"), "address": str(node.mgmt.dev_addr)},
              "lan": lans})
    path = ndir / "twin.json"
    text = json.dumps(asdict(cfg), indent=1, sort_keys=True)
    if not path.exists() or path.read_text() != text:
        state.write_private(path, text)
    return path


def _ensure_ike_daemon(node: plan.Node, ns_state: NodeState, holder: Proc, ndir: Path,
                       changed: list[str]) -> bool:
    """charon alone, or starter with the charon it launched; True when (re)started."""
    procs = ns_state.procs
    if node.daemon == "starter":
        if all(r in procs and procs[r].alive() for r in ("starter", "charon")):
            return False
        _stop_roles(ns_state, ("starter", "charon"))
        procs["starter"], procs["charon"] = daemons.start_starter(holder, ndir)
        changed.append(f"{node.name} starter started")
        return True
    if "starter" in procs:  # the device moved from ipsec.conf to swanctl
        _stop_roles(ns_state, ("starter", "charon"))
    charon = procs.get("charon")
    if charon is not None and charon.alive():
        return False
    procs["charon"] = daemons.start_charon(holder, ndir)
    changed.append(f"{node.name} charon started")
    return True


def _stop_roles(ns_state: NodeState, roles: Sequence[str] = daemons.STOP_ORDER) -> list[str]:
    """Stop recorded processes in STOP_ORDER; returns "<node> <role> pid N" for those that ran."""
    stopped: list[str] = []
    for role in (r for r in daemons.STOP_ORDER if r in roles):
        p = ns_state.procs.pop(role, None)
        if p is not None:
            if p.alive():
                stopped.append(f"{ns_state.name} {role} pid {p.pid}")
            daemons.stop(p, grace=daemons.STOP_GRACE.get(role, 3.0))
    return stopped


def _prune(st: LabState, pl: plan.LabPlan, d: Path, changed: list[str]) -> None:
    """Nodes recorded earlier but gone from the inventory: stop them and delete their objects."""
    wanted = {n.name: n for n in pl.nodes}
    for name in [n for n, ns_state in st.nodes.items() if n not in wanted or wanted[n].ns != ns_state.ns]:
        ns_state = st.nodes.pop(name)
        _stop_node(ns_state)
        if ns_state.ns in st.namespaces and ns_state.ns not in {n.ns for n in pl.nodes}:
            netns.delete_ns(ns_state.ns)
            st.namespaces.remove(ns_state.ns)
        changed.append(f"{name} removed")
    keep = {n.mgmt.root_if for n in pl.nodes if n.mgmt}
    for link in [x for x in st.links if x not in keep]:
        netns.delete_root_link(link)
        st.links.remove(link)
    state.save(d, st)


def up(inv: Inventory, lab_dir: str | Path | None = None) -> LabStatus:
    """Build (or repair) the lab for this inventory; running it again changes nothing."""
    t0 = time.monotonic()
    pl = plan.build(inv)
    d = lab_path(lab_dir).absolute()
    if not _SAFE_PATH.fullmatch(str(d)):
        raise LabError(f"lab directory {str(d)!r} must consist of letters, digits and ._+/- only "
                       "(it is written into daemon configurations)")
    check_host_routes()
    changed: list[str] = []
    with _locked(d):
        st = state.load(d)
        st.router = str(pl.router)
        _prune(st, pl, d, changed)
        for ns in (plan.INET_NS, *(n.ns for n in pl.nodes)):
            _claim(st, ns, d)
        client = keys.client_key(d)
        keys.ensure_psks(d, sorted(inv.tunnels))
        _claim(st, plan.INET_NS, d)
        if not netns.ns_exists(plan.INET_NS):
            changed.append(f"{plan.INET_NS} created")
        netns.setup_inet(pl)
        st.add_ns(plan.INET_NS)
        state.save(d, st)
        for node in pl.nodes:
            _ensure_node(inv, pl, node, d, st, client.with_suffix(".pub"), changed)
        entries = [(n.mgmt.dev_addr.ip.compressed, n.mgmt.port, _node_dir(d, n.name) / "ssh" /
                    "ssh_host_ed25519_key.pub") for n in pl.nodes if n.mgmt]
        keys.write_known_hosts(d, entries)
    result = status(inv, d)
    result.elapsed_s = round(time.monotonic() - t0, 2)
    result.changed = changed
    return result


def _vici_ok(holder: Proc) -> bool:
    try:
        p = subprocess.run(daemons.enter_argv(holder, ["swanctl", "--stats"]), capture_output=True,
                           text=True, timeout=5)
    except subprocess.TimeoutExpired:
        return False
    return p.returncode == 0 and "uptime" in p.stdout


def status(inv: Inventory | None = None, lab_dir: str | Path | None = None) -> LabStatus:
    """Namespaces, recorded pids alive, charon answering on vici, sshd answering (devices)."""
    d = lab_path(lab_dir)
    st = state.load(d)
    out = LabStatus(lab_dir=str(d))
    expected: list[tuple[str, str, str, tuple[str, int] | None, tuple[str, ...]]] = []
    planned: dict[str, plan.Node] = {}
    if inv is not None:
        pl = plan.build(inv)
        planned = {n.name: n for n in pl.nodes}
        expected = [(n.name, n.kind, n.ns, (str(n.mgmt.dev_addr.ip), n.mgmt.port) if n.mgmt else None,
                     n.roles) for n in pl.nodes]
    else:
        expected = [(n.name, n.kind, n.ns, None, tuple(r for r in daemons.STOP_ORDER[::-1] if r in n.procs))
                    for n in st.nodes.values()]
    if not expected and not st.namespaces:
        return out
    inet = NodeStatus(name="inet", kind="inet", namespace=plan.INET_NS, ns_exists=netns.ns_exists(plan.INET_NS))
    if inet.ns_exists:
        fwd = netns.run(["ip", "netns", "exec", plan.INET_NS, "sysctl", "-n", "net.ipv4.ip_forward"], check=False)
        if fwd.stdout.strip() != "1":
            inet.problems.append("ip_forward is off")
    out.nodes.append(inet)
    for name, kind, ns, mgmt, extra in expected:
        ns_state = st.nodes.get(name)
        n = NodeStatus(name=name, kind=kind, namespace=ns, ns_exists=netns.ns_exists(ns))
        procs = ns_state.procs if ns_state else {}
        if ns_state is None:
            n.problems.append("not in the lab state (run lab up)")
        for role in extra:
            p = procs.get(role)
            n.pids[role] = p.pid if p is not None and p.alive() else None
        pn = planned.get(name)
        if inv is not None and pn is not None and ns_state is not None:
            for tname, i in pn.tunnel_ns:  # a cloud end in a tunnel namespace: its charon
                proc = tunnelns.recorded(_cloud_tunnel(inv, pn, Path(ns_state.dir), tname, i))
                n.pids[f"tunnel{i}"] = proc.pid if proc is not None else None
        holder = procs.get("holder")
        n.vici = bool(holder and holder.alive() and n.pids.get("charon") and _vici_ok(holder))
        if kind == "device":
            if mgmt is None and ns_state is not None:
                mgmt = _mgmt_from_config(Path(ns_state.dir))
            n.ssh = bool(mgmt and daemons.tcp_banner(mgmt[0], mgmt[1]))
        if n.ns_exists:
            a = netns.run(["ip", "-n", ns, "-4", "-o", "addr", "show"], check=False).stdout
            words = [line.split() for line in a.splitlines()]
            n.addresses = [f"{w[1]} {w[3]}" for w in words if len(w) > 3 and not w[3].startswith("127.")]
        out.nodes.append(n)
    return out


def _mgmt_from_config(ndir: Path) -> tuple[str, int] | None:
    conf = ndir / "ssh" / "sshd_config"
    if not conf.exists():
        return None
    for line in conf.read_text().splitlines():
        if line.startswith("ListenAddress "):
            host, _, port = line.split()[1].rpartition(":")
            return host, int(port)
    return None


def down(lab_dir: str | Path | None = None) -> LabStatus:
    """Stop the recorded pids and delete the recorded `ts-` namespaces and links; keep keys and secrets."""
    t0 = time.monotonic()
    d = lab_path(lab_dir)
    removed: list[str] = []
    if not (d / state.STATE_FILE).exists():
        return LabStatus(lab_dir=str(d), elapsed_s=0.0)
    with _locked(d):
        st = state.load(d)
        for ns_state in st.nodes.values():
            removed.extend(_stop_node(ns_state))
            (Path(ns_state.dir) / "holder.ready").unlink(missing_ok=True)
            state.save(d, st)
        for link in list(st.links):
            if netns.link_exists(link):
                netns.delete_root_link(link)
                removed.append(f"link {link}")
            st.links.remove(link)
        for ns in list(st.namespaces):
            if netns.ns_exists(ns):
                netns.delete_ns(ns)
                removed.append(f"netns {ns}")
            st.namespaces.remove(ns)
        st.nodes.clear()
        state.save(d, st)
    return LabStatus(lab_dir=str(d), elapsed_s=round(time.monotonic() - t0, 2), changed=removed)


def _holder(d: Path, node: str) -> Proc:
    ns_state = state.load(d).nodes.get(node)
    holder = ns_state.procs.get("holder") if ns_state else None
    if holder is None or not holder.alive():
        raise LabError(f"lab node {node!r} is not running in {d} (run lab up)")
    return holder


def exec_in(lab_dir: str | Path | None, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run argv inside a node's namespaces (node = cloud or device name, or "inet").

    With check=True a non-zero exit raises LabError carrying the (masked) output.
    """
    d = lab_path(lab_dir)
    if node == "inet":
        full = ["ip", "netns", "exec", plan.INET_NS, *argv]
    else:
        full = daemons.enter_argv(_holder(d, node), list(argv))
    p = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed in lab node {node} ({p.returncode}): "
                       f"{secretmod.mask((p.stdout + p.stderr).strip())}")
    return p


def charon_uris(lab_dir: str | Path | None, node: str) -> list[str | None]:
    """Every charon of a node: its own (None: the default socket) and each tunnel namespace's vici URI."""
    ndir = _node_dir(lab_path(lab_dir), node)
    return [None, *(f"unix://{p}" for p in sorted((ndir / "tunnels").glob("t*/charon.vici")))]


def swanctl(lab_dir: str | Path | None, node: str, args: Sequence[str], uri: str | None = None,
            check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """swanctl against one of a node's charons (see `charon_uris`); tunnel namespaces' from the host."""
    if uri is None:
        return exec_in(lab_dir, node, ["swanctl", *args], check=check, timeout=timeout)
    p = subprocess.run(["swanctl", *args, "--uri", uri], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise LabError(f"swanctl {' '.join(args)} failed for {node} ({uri}): "
                       f"{secretmod.mask((p.stdout + p.stderr).strip())}")
    return p


def cloud_log(lab_dir: str | Path | None, cloud: str) -> str:
    """The cloud gateway's charon logs (its own, then each tunnel namespace's): what a cloud console shows."""
    ndir = _node_dir(lab_path(lab_dir), cloud)
    paths = [ndir / "log" / "charon.log", *sorted((ndir / "tunnels").glob("t*/charon.log"))]
    return "".join(p.read_text(errors="replace") for p in paths if p.exists())


def reload_cloud(inv: Inventory, cloud: str, lab_dir: str | Path | None = None,
                 psk_override: dict[str, str] | None = None) -> str:
    """Re-render the cloud side from (a possibly modified) inventory and load it with --clear."""
    d = lab_path(lab_dir)
    if cloud not in inv.clouds:
        raise LabError(f"{cloud!r} is not a cloud gateway in the inventory")
    holder = _holder(d, cloud)
    node = plan.build(inv).node(cloud)
    _write_cloud_config(inv, node, d, psk_override)
    out = _load_all(holder)
    outs = _ensure_cloud_tunnels(inv, node, d, [], psk_override, force=True)
    return "\n".join([out, *outs])


def block_ike(lab_dir: str | Path | None = None, enabled: bool = True) -> None:
    """Drop UDP 500/4500 crossing the lab "internet" (a firewall blocking IKE); idempotent."""
    exists = exec_in(lab_dir, "inet", ["nft", "list", "table", "inet", BLOCK_TABLE], check=False).returncode == 0
    if exists:
        exec_in(lab_dir, "inet", ["nft", "delete", "table", "inet", BLOCK_TABLE])
    if enabled:
        rules = (f"table inet {BLOCK_TABLE} {{\n"
                 "  chain forward {\n"
                 "    type filter hook forward priority -10; policy accept;\n"
                 "    udp dport { 500, 4500 } counter drop\n"
                 "    udp sport { 500, 4500 } counter drop\n"
                 "  }\n"
                 "}\n")
        p = subprocess.run(["ip", "netns", "exec", plan.INET_NS, "nft", "-f", "-"], input=rules, text=True,
                           capture_output=True)
        if p.returncode != 0:
            raise LabError(f"nft failed in {plan.INET_NS}: {p.stderr.strip()}")


def device_ssh_params(inv: Inventory, device: str, lab_dir: str | Path | None = None) -> dict[str, Any]:
    """What Netmiko needs to log in to a lab device with the lab's key and pinned host keys."""
    d = lab_path(lab_dir)
    dev = inv.devices[device]
    return {"host": str(ipaddress.IPv4Address(dev.hostname)), "port": dev.port,
            "username": dev.username or "root", "key_file": str(d / "ssh" / "id_ed25519"),
            "known_hosts": str(d / "ssh" / "known_hosts")}

