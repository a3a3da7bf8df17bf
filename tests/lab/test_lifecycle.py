"""lab up is idempotent, fast, repairs itself, and reports what runs."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import time
from pathlib import Path

import pytest
import yaml

from tunnelsmith import inventory
from tunnelsmith import lab as labapi
from tunnelsmith.errors import LabError
from tunnelsmith.lab import netns, state

from .conftest import LAB_INVENTORY, Lab


def test_first_up_is_complete(lab: Lab, record_property) -> None:  # type: ignore[no-untyped-def]
    """How long it takes is measured by `make bench` (benchmarks/bench.py), not asserted here."""
    first = lab.first_up
    print(f"lab up took {first.elapsed_s} s")
    record_property("lab_up_seconds", first.elapsed_s)
    assert first.up, first.table()
    assert {n.name for n in first.nodes} == {"inet", *lab.inv.clouds, *lab.inv.devices}
    assert {"ctyun-gw", "jd-gw", "onprem-a", "onprem-b", "lab-ios"} <= {n.name for n in first.nodes}


def test_second_up_changes_nothing(lab: Lab) -> None:
    before = state.load(lab.lab_dir).as_json()
    t0 = time.monotonic()
    again = labapi.up(lab.inv, lab.lab_dir)
    print(f"second lab up took {time.monotonic() - t0:.2f} s")
    assert again.up, again.table()
    assert again.changed == []
    assert state.load(lab.lab_dir).as_json() == before  # same pids, same start times


def test_status_reports_every_daemon(lab: Lab) -> None:
    st = labapi.status(lab.inv, lab.lab_dir)
    assert st.up, st.table()
    b = st.node("onprem-b")
    assert b.vici is True and b.ssh is True and set(b.pids) == {"holder", "charon", "sshd"}
    a = st.node("onprem-a")  # ipsec.conf device: the legacy starter runs charon, vici still answers
    assert a.vici is True and a.ssh is True and set(a.pids) == {"holder", "starter", "charon", "sshd"}
    assert all(a.pids.values())
    assert "wan0 198.51.100.20/32" in b.addresses and "mgmt0 198.18.0.6/30" in b.addresses
    jd = st.node("jd-gw")
    assert {"eth0 203.0.113.20/32", "eth0 203.0.113.21/32", "lo 198.19.32.1/24"} <= set(jd.addresses)
    d = st.as_dict()
    assert d["up"] is True and any(n["name"] == "onprem-a" and n["ok"] for n in d["nodes"])
    assert "onprem-a" in st.table() and "lab UP" in st.table()


def test_status_works_without_inventory(lab: Lab) -> None:
    st = labapi.status(None, lab.lab_dir)
    assert st.node("onprem-a").ssh is True and st.node("ctyun-gw").vici is True
    assert "starter" in st.node("onprem-a").pids and "starter" not in st.node("onprem-b").pids


def test_status_reports_every_twin(lab: Lab) -> None:
    """A vendor device runs its twin (the vendor CLI over SSH) and a charon instead of OpenSSH."""
    st = labapi.status(lab.inv, lab.lab_dir)
    from tunnelsmith.twin.platform import has_twin

    twins = [d for d in lab.inv.devices.values() if has_twin(d.platform)]
    assert len({d.platform for d in twins}) == 5
    for d in twins:
        n = st.node(d.name)
        assert n.ok and n.ssh is True and n.vici is True and set(n.pids) == {"holder", "charon", "twin"}, n


def _kill(proc: state.Proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proc.alive() and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reaped by its parent unless that is us
            os.waitpid(proc.pid, os.WNOHANG)
        time.sleep(0.05)


def test_up_repairs_a_dead_charon_under_starter(lab: Lab) -> None:
    """charon killed under starter: up restarts starter and charon together, loads ipsec.conf again."""
    before = state.load(lab.lab_dir).nodes["onprem-a"].procs
    conf = labapi.exec_in(lab.lab_dir, "onprem-a", ["cat", "/etc/ipsec.conf"]).stdout
    _kill(before["charon"])
    broken = labapi.status(lab.inv, lab.lab_dir)
    assert broken.node("onprem-a").pids["charon"] is None and not broken.up
    fixed = labapi.up(lab.inv, lab.lab_dir)
    assert fixed.changed == ["onprem-a starter started"], fixed.changed
    assert fixed.up, fixed.table()
    after = state.load(lab.lab_dir).nodes["onprem-a"].procs
    assert after["starter"].pid != before["starter"].pid and not before["starter"].alive()
    assert after["charon"].pid != before["charon"].pid and after["sshd"].pid == before["sshd"].pid
    # every conn starter loads (statusall right-aligns names: a long one starts the line); a conn only
    # other conns inherit from (`also = X`) is no connection itself
    parents = set(re.findall(r"^\s*also\s*=\s*(\S+)\s*$", conf, re.M))
    conns = [c for c in re.findall(r"^conn (\S+)", conf, re.M) if c not in parents]
    deadline = time.monotonic() + 10
    loaded = ""
    while time.monotonic() < deadline:
        loaded = labapi.exec_in(lab.lab_dir, "onprem-a", ["ipsec", "statusall"]).stdout
        if all(re.search(rf"^ *{re.escape(c)}: ", loaded, re.M) for c in conns if not c.startswith("%")):
            break
        time.sleep(0.2)
    assert all(re.search(rf"^ *{re.escape(c)}: ", loaded, re.M) for c in conns if not c.startswith("%")), loaded


def test_lab_files_are_private_and_stable(lab: Lab) -> None:
    for rel in ("ssh/id_ed25519", "secrets.yaml", "state.json"):
        mode = stat.S_IMODE((lab.lab_dir / rel).stat().st_mode)
        assert mode & 0o077 == 0, f"{rel} has mode {mode:o}"
    key = (lab.lab_dir / "ssh" / "id_ed25519.pub").read_text()
    secrets = (lab.lab_dir / "secrets.yaml").read_text()
    labapi.up(lab.inv, lab.lab_dir)
    assert (lab.lab_dir / "ssh" / "id_ed25519.pub").read_text() == key
    assert (lab.lab_dir / "secrets.yaml").read_text() == secrets
    known = (lab.lab_dir / "ssh" / "known_hosts").read_text().splitlines()
    assert sorted(ln.split()[0] for ln in known) == sorted(d.hostname for d in lab.inv.devices.values())
    assert "198.18.0.2" in {ln.split()[0] for ln in known}


def test_up_repairs_a_dead_daemon(lab: Lab) -> None:
    sshd = state.load(lab.lab_dir).nodes["onprem-b"].procs["sshd"]
    os.kill(sshd.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while sshd.alive() and time.monotonic() < deadline:
        os.waitpid(sshd.pid, os.WNOHANG)
        time.sleep(0.05)
    broken = labapi.status(lab.inv, lab.lab_dir)
    assert broken.node("onprem-b").pids["sshd"] is None and not broken.up
    fixed = labapi.up(lab.inv, lab.lab_dir)
    assert fixed.changed == ["onprem-b sshd started"], fixed.changed
    assert fixed.up, fixed.table()
    assert fixed.node("onprem-b").pids["sshd"] not in (None, sshd.pid)


def test_up_follows_inventory_changes(lab: Lab, tmp_path: Path) -> None:
    inv_dir = tmp_path / "inv"
    shutil.copytree(LAB_INVENTORY, inv_dir)
    hosts = yaml.safe_load((inv_dir / "hosts.yaml").read_text())
    del hosts["onprem-b"]
    (inv_dir / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    tunnels = yaml.safe_load((inv_dir / "tunnels.yaml").read_text())
    tunnels["tunnels"] = [t for t in tunnels["tunnels"] if t["device"] != "onprem-b"]
    (inv_dir / "tunnels.yaml").write_text(yaml.safe_dump(tunnels))
    old_b = state.load(lab.lab_dir).nodes["onprem-b"].procs
    smaller = labapi.up(inventory.load(inv_dir), lab.lab_dir)
    assert "onprem-b removed" in smaller.changed and smaller.up
    assert not netns.ns_exists("ts-d-onprem-b") and not netns.link_exists("ts-m-onprem-b")
    assert not any(p.alive() for p in old_b.values())
    full = labapi.up(lab.inv, lab.lab_dir)
    assert full.up and "ts-d-onprem-b created" in full.changed


def test_exec_in_reports_failures(lab: Lab) -> None:
    ok = labapi.exec_in(lab.lab_dir, "inet", ["sysctl", "-n", "net.ipv4.ip_forward"])
    assert ok.stdout.strip() == "1"
    with pytest.raises(LabError, match="failed in lab node ctyun-gw"):
        labapi.exec_in(lab.lab_dir, "ctyun-gw", ["swanctl", "--initiate", "--child", "no-such-child"])
    with pytest.raises(LabError, match="not running"):
        labapi.exec_in(lab.lab_dir, "no-such-node", ["true"])


def test_unsafe_lab_dir_is_refused(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(LabError, match="lab directory"):
        labapi.up(lab.inv, tmp_path / 'bad"dir')
    assert not (tmp_path / 'bad"dir').exists()
