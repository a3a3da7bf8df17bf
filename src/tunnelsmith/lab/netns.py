"""Network namespaces, veths, addresses and routes, with iproute2.

Every operation is idempotent (create only when missing, `replace` for addresses and routes)
so `lab up` can repair a half-built lab by simply running again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from tunnelsmith.errors import LabError
from tunnelsmith.lab.plan import INET_NS, MGMT_IF, PREFIX, LabPlan, Node


def run(argv: Sequence[str], check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise LabError(f"command failed ({p.returncode}): {' '.join(argv)}\n{p.stderr.strip()}")
    return p


def ns_exists(ns: str) -> bool:
    out = run(["ip", "netns", "list"]).stdout
    return ns in {line.split()[0] for line in out.splitlines() if line.strip()}


def ensure_ns(ns: str) -> bool:
    """Create the namespace if missing (with lo up); True when it was created."""
    if not ns.startswith(PREFIX):
        raise LabError(f"refusing to create namespace {ns!r} without the lab prefix {PREFIX!r}")
    created = False
    if not ns_exists(ns):
        run(["ip", "netns", "add", ns])
        created = True
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    for key in ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"):
        run(["ip", "netns", "exec", ns, "sysctl", "-qw", key])
    return created


def link_exists(name: str, ns: str | None = None) -> bool:
    argv = ["ip"] + (["-n", ns] if ns else []) + ["link", "show", "dev", name]
    return run(argv, check=False).returncode == 0


def ensure_veth(a_ns: str | None, a: str, b_ns: str, b: str) -> None:
    """A veth pair a (in a_ns, None = root) <-> b (in b_ns), created in place, never renamed."""
    if link_exists(a, a_ns) and link_exists(b, b_ns):
        return
    for name, ns in ((a, a_ns), (b, b_ns)):  # a lone half-pair left by a crash
        if link_exists(name, ns) and (ns is not None or name.startswith(PREFIX)):
            run(["ip"] + (["-n", ns] if ns else []) + ["link", "del", "dev", name])
    run(["ip"] + (["-n", a_ns] if a_ns else []) + ["link", "add", a, "type", "veth", "peer", "name", b,
                                                   "netns", b_ns])


def _ip(ns: str | None, *args: str) -> None:
    run(["ip"] + (["-n", ns] if ns else []) + list(args))


def setup_inet(plan: LabPlan) -> None:
    ensure_ns(INET_NS)
    run(["ip", "netns", "exec", INET_NS, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    _ip(INET_NS, "addr", "replace", f"{plan.router}/32", "dev", "lo")


def setup_node(plan: LabPlan, node: Node) -> None:
    """Underlay veth to ts-inet, public /32s, default route via the router, LAN/VPC hosts on lo."""
    ensure_veth(INET_NS, node.inet_if, node.ns, node.wan_if)
    _ip(INET_NS, "link", "set", node.inet_if, "up")
    _ip(node.ns, "link", "set", node.wan_if, "up")
    for ip in node.public_ips:
        _ip(node.ns, "addr", "replace", f"{ip}/32", "dev", node.wan_if)
        _ip(INET_NS, "route", "replace", f"{ip}/32", "dev", node.inet_if)
    _ip(node.ns, "route", "replace", "default", "via", str(plan.router), "dev", node.wan_if, "onlink",
        "src", str(node.public_ips[0]))
    for a in node.lo_addrs:
        _ip(node.ns, "addr", "replace", str(a), "dev", "lo")
    if node.mgmt:
        m = node.mgmt
        ensure_veth(None, m.root_if, node.ns, MGMT_IF)
        _ip(None, "addr", "replace", str(m.root_addr), "dev", m.root_if)
        _ip(node.ns, "addr", "replace", str(m.dev_addr), "dev", MGMT_IF)
        _ip(None, "link", "set", m.root_if, "up")
        _ip(node.ns, "link", "set", MGMT_IF, "up")


def delete_ns(ns: str) -> None:
    if ns.startswith(PREFIX) and ns_exists(ns):
        run(["ip", "netns", "delete", ns])


def delete_root_link(name: str) -> None:
    if name.startswith(PREFIX) and link_exists(name):
        run(["ip", "link", "del", "dev", name], check=False)
