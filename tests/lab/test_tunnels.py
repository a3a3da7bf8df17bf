"""Real tunnels: push a rendered config over SFTP, load it in the SSH session, ping across.

Finding recorded here (see test_kernel_libipsec_forces_udp_encapsulation): with kernel-libipsec
charon fakes NAT detection and carries ESP in UDP/4500 by itself; templates keep `encap = no`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tunnelsmith import lab as labapi
from tunnelsmith import render, views
from tunnelsmith.lab import plan, state
from tunnelsmith.platforms import registry

from .conftest import Lab, tunnel_conns
from .test_ssh import connect

CASES = [  # device, tunnel, IKE version, ping source, ping target
    pytest.param("onprem-a", "ctyun-a", 1, "198.18.16.1", "198.19.16.1", id="ikev1-policy-ipsec.conf"),
    pytest.param("onprem-b", "jd-b-1", 2, "198.18.32.1", "198.19.32.1", id="ikev2-route-swanctl"),
]


def child_counters(list_sas: str, child: str) -> dict[str, tuple[int, int]]:
    """{'in': (bytes, packets), 'out': (...)} of one INSTALLED CHILD SA in `swanctl --list-sas` output."""
    out: dict[str, tuple[int, int]] = {}
    inside = False
    for line in list_sas.splitlines():
        head = re.match(r"^\s+([\w.-]+): #\d+, .*INSTALLED", line)
        if head:
            inside = head.group(1) == child
            continue
        if re.match(r"^\S", line):
            inside = False
        m = re.match(r"^\s+(in|out)\s+\S+,\s+(\d+) bytes,\s+(\d+) packets", line)
        if inside and m:
            out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


def push(conn: Any, rendered: render.RenderedConfig) -> None:
    """What a files driver does: write each output atomically over SFTP with mode 0600."""
    sftp = conn.remote_conn_pre.open_sftp()
    try:
        for path, text in rendered.files.items():
            conn.send_command(f"mkdir -p {path.rsplit('/', 1)[0]}")
            tmp = f"{path}.tmp"
            with sftp.open(tmp, "w") as fh:
                fh.write(text)
            sftp.chmod(tmp, 0o600)
            sftp.posix_rename(tmp, path)
    finally:
        sftp.close()


def wait_sas(conn: Any, tunnel: str, child: str, timeout: float = 25) -> str:
    """`swanctl --list-sas --ike <tunnel>` once the IKE SA and the child are up (names as loaded)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = conn.send_command(f"swanctl --list-sas --ike {tunnel}")
        if "ESTABLISHED" in text and re.search(rf"^\s+{re.escape(child)}: #\d+, .*INSTALLED", text, re.M):
            return text
        time.sleep(0.5)
    raise AssertionError(f"{tunnel}/{child} did not come up:\n{text}")


@pytest.fixture(scope="module")
def sessions(lab: Lab) -> Iterator[dict[str, Any]]:
    """One SSH session per device, each with its rendered config pushed and activated.

    Activation is the platform's own (swanctl --load-all, or ipsec update under starter), run
    by the files driver in the session, so each device's format is exercised as shipped.
    """
    conns: dict[str, Any] = {}
    try:
        for device in ("onprem-a", "onprem-b"):
            conn = connect(labapi.device_ssh_params(lab.inv, device, lab.lab_dir))
            conns[device] = conn
            push(conn, render.render_device(lab.inv, device))
            dev = lab.inv.devices[device]
            registry.driver(dev.platform, dev.options).commit(conn)  # raises PushError on failure
        yield conns
    finally:
        for c in conns.values():
            c.disconnect()


@pytest.mark.parametrize("device, tunnel, version, src, dst", CASES)
def test_tunnel_carries_ping(lab: Lab, sessions: dict[str, Any], device: str, tunnel: str, version: int,
                             src: str, dst: str) -> None:
    conn = sessions[device]
    for path in render.render_device(lab.inv, device).files:
        assert conn.send_command(f"test -s {path} && echo present").strip() == "present", path
    mine, theirs = tunnel_conns(lab, tunnel), tunnel_conns(lab, tunnel, side="cloud")
    (ike,), child = mine.ike, mine.carrying(src, dst)
    sas = wait_sas(conn, ike, child)
    assert re.search(rf"^{re.escape(ike)}: #\d+, ESTABLISHED, IKEv{version}", sas, re.M), sas
    before = child_counters(sas, child)
    ping = conn.send_command(f"ping -n -c 3 -i 0.3 -W 2 -I {src} {dst}", read_timeout=30)
    assert re.search(r"3 packets transmitted, 3 received", ping), ping
    after = child_counters(conn.send_command(f"swanctl --list-sas --ike {ike}"), child)
    for direction in ("in", "out"):
        assert after[direction][1] >= before[direction][1] + 3, (before, after)
        assert after[direction][0] > before[direction][0], (before, after)
    (cloud_ike,), cloud_child = theirs.ike, theirs.carrying(dst, src)
    cloud = labapi.exec_in(lab.lab_dir, lab.inv.tunnels[tunnel].cloud, ["swanctl", "--list-sas", "--ike", cloud_ike])
    assert re.search(rf"^{re.escape(cloud_ike)}: #\d+, ESTABLISHED", cloud.stdout, re.M), cloud.stdout
    cloud_after = child_counters(cloud.stdout, cloud_child)
    assert cloud_after["in"][1] >= 3 and cloud_after["out"][1] >= 3, cloud.stdout
    log = labapi.cloud_log(lab.lab_dir, lab.inv.tunnels[tunnel].cloud)
    assert re.search(rf"IKE_SA {re.escape(cloud_ike)}\[\d+\] established between", log)


@pytest.mark.parametrize("device, tunnel", [("onprem-a", "ctyun-a"), ("onprem-b", "jd-b-1")])
def test_kernel_libipsec_forces_udp_encapsulation(lab: Lab, sessions: dict[str, Any], device: str,
                                                   tunnel: str) -> None:
    """No NAT between the namespaces and no forced encapsulation rendered, yet ESP runs in UDP/4500."""
    for text in render.render_device(lab.inv, device).files.values():
        assert not re.search(r"^\s*(encap|forceencaps)\s*=\s*yes", text, re.M)
    end = next(e for e in views.device_ends(lab.inv, device) if e.name == tunnel)
    mine = tunnel_conns(lab, tunnel)
    sas = wait_sas(sessions[device], mine.ike[0], mine.children[-1][0])
    assert "TUNNEL-in-UDP" in sas and f"{end.local_ip}[4500]" in sas and f"{end.remote_ip}[4500]" in sas


def _initiate(lab: Lab, device: str, tunnel: str, child: str, timeout: int) -> int:
    labapi.exec_in(lab.lab_dir, device, ["swanctl", "--terminate", "--ike", tunnel, "--timeout", "5"],
                   check=False)
    p = labapi.exec_in(lab.lab_dir, device, ["swanctl", "--initiate", "--child", child, "--timeout", str(timeout)],
                       check=False, timeout=timeout + 10)
    return p.returncode


def test_block_ike_stops_negotiation(lab: Lab, sessions: dict[str, Any]) -> None:
    try:
        labapi.block_ike(lab.lab_dir, True)
        labapi.block_ike(lab.lab_dir, True)  # idempotent
        rules = labapi.exec_in(lab.lab_dir, "inet", ["nft", "list", "table", "inet", "ts_block"]).stdout
        assert "udp dport { 500, 4500 }" in rules
        assert _initiate(lab, "onprem-b", "jd-b-2", "jd-b-2-1", 3) != 0
        rules = labapi.exec_in(lab.lab_dir, "inet", ["nft", "list", "table", "inet", "ts_block"]).stdout
        assert re.search(r"counter packets [1-9]", rules), rules
    finally:
        labapi.block_ike(lab.lab_dir, False)
    gone = labapi.exec_in(lab.lab_dir, "inet", ["nft", "list", "table", "inet", "ts_block"], check=False)
    assert gone.returncode != 0
    assert _initiate(lab, "onprem-b", "jd-b-2", "jd-b-2-1", 15) == 0
    wait_sas(sessions["onprem-b"], "jd-b-2", "jd-b-2-1")


def test_reload_cloud_with_wrong_psk_then_right(lab: Lab, sessions: dict[str, Any]) -> None:
    out = labapi.reload_cloud(lab.inv, "jd-gw", lab.lab_dir, psk_override={"jd-b-2": "0wrong0" * 4})
    assert "loaded connection 'jd-b-2'" in out
    size = len(labapi.cloud_log(lab.lab_dir, "jd-gw"))
    try:
        assert _initiate(lab, "onprem-b", "jd-b-2", "jd-b-2-1", 10) != 0
        new_log = labapi.cloud_log(lab.lab_dir, "jd-gw")[size:]
        assert "MAC mismatched" in new_log or "AUTHENTICATION_FAILED" in new_log, new_log[-2000:]
    finally:
        labapi.reload_cloud(lab.inv, "jd-gw", lab.lab_dir)
    assert _initiate(lab, "onprem-b", "jd-b-2", "jd-b-2-1", 15) == 0
    wait_sas(sessions["onprem-b"], "jd-b-2", "jd-b-2-1")


def test_pids_in_state_are_the_daemons(lab: Lab) -> None:
    st = state.load(lab.lab_dir)
    pl = plan.build(lab.inv)
    daemons = {n.name: n.daemon for n in pl.nodes if n.kind == "device"}
    assert daemons["onprem-a"] == "starter"  # ipsec.conf device; every other device (twins too) runs charon
    assert set(daemons.values()) == {"starter", "charon"} and list(daemons.values()).count("starter") == 1
    for node in ("ctyun-gw", "onprem-a", "onprem-b"):
        procs = st.nodes[node].procs
        pid_file = labapi.exec_in(lab.lab_dir, node, ["cat", "/run/charon.pid"]).stdout.strip()
        assert int(pid_file) == procs["charon"].pid
        if pl.node(node).daemon == "starter":  # charon is starter's child, starter is ours
            starter = labapi.exec_in(lab.lab_dir, node, ["cat", "/run/starter.charon.pid"]).stdout.strip()
            assert int(starter) == procs["starter"].pid
            ppid = int(Path(f"/proc/{procs['charon'].pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            assert ppid == procs["starter"].pid
        else:
            assert "starter" not in procs
