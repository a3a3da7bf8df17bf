"""End to end on the real lab: rollout over SSH, verify, idempotency, and diagnosis of broken labs.

Everything goes through the `tunnelsmith` command as an operator would run it. The lab is broken
on purpose from the cloud side (as if someone changed the cloud console) or in the "internet"
(a firewall dropping IKE), then the device renegotiates and `verify` must name the cause.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import inventory, render
from tunnelsmith import lab as labapi
from tunnelsmith.platforms import spec as pspec

from .conftest import (
    CONTRACT_TUNNEL,
    LAB_INVENTORY,
    TS,
    Lab,
    renegotiate,
    set_value,
    ts,
    tunnel,
    tunnel_conns,
    verify_json,
)


def device_files(lab: Lab, device: str, inv: inventory.Inventory | None = None) -> dict[str, str]:
    """The device's copy of every file its rendered configuration consists of."""
    paths = render.render_device(inv or lab.inv, device).files
    return {p: labapi.exec_in(lab.lab_dir, device, ["cat", p]).stdout for p in paths}


def added_lines(before: inventory.Inventory, after: inventory.Inventory, device: str) -> set[str]:
    """Lines the change adds to the device's rendered files (what the operator must be shown)."""
    old = render.render_device(before, device).files
    new = render.render_device(after, device).files
    return {ln.strip() for p, text in new.items() for ln in text.splitlines()
            if ln.strip() and ln not in (old.get(p) or "").splitlines()}


def test_rollout_brings_every_tunnel_up(lab: Lab, rolled_out: subprocess.CompletedProcess[str]) -> None:
    assert rolled_out.returncode == 0, rolled_out.stderr + rolled_out.stdout
    doc = json.loads(rolled_out.stdout)
    assert doc["ok"] is True
    names = {t["name"] for t in doc["tunnels"]}
    assert names == set(lab.inv.tunnels) and {"ctyun-a", "jd-b-1", "jd-b-2"} <= names
    versions = {t["phase1"]["version"] for t in doc["tunnels"]}
    assert versions == {1, 2}
    for t in doc["tunnels"]:
        assert t["phase1"]["state"] == "up" and all(c["state"] == "up" for c in t["phase2"])
        assert t["ping"]["received"] == t["ping"]["sent"] > 0 and t["ping"]["loss_pct"] == 0.0


def test_verify_json_contract(rolled_out: subprocess.CompletedProcess[str], runs: Path) -> None:
    doc = verify_json(runs)
    assert doc["ok"] is True
    assert set(doc) >= {"run_id", "started", "finished", "ok", "tunnels"}
    with_counters = 0
    for t in doc["tunnels"]:
        assert set(t) >= CONTRACT_TUNNEL
        assert t["phase1"]["state"] in ("up", "down") and t["phase1"]["version"] in (1, 2)
        for c in t["phase2"]:
            assert set(c) >= {"local_ts", "remote_ts", "state", "bytes_in", "bytes_out"}
        src, dst = ipaddress.ip_address(t["ping"]["source"]), ipaddress.ip_address(t["ping"]["target"])
        carrying = [c for c in t["phase2"] if src in ipaddress.ip_network(c["local_ts"])
                    and dst in ipaddress.ip_network(c["remote_ts"])]
        assert len(carrying) == 1
        counted = carrying[0]["bytes_in"] is not None
        # pings crossed; platforms whose show output has no byte counters (Junos detail, Comware) say null
        assert not counted or (carrying[0]["bytes_in"] > 0 and carrying[0]["bytes_out"] > 0), carrying
        with_counters += counted
        assert set(t["ping"]) >= {"source", "target", "sent", "received", "loss_pct", "rtt_ms"}
    assert with_counters >= 3  # at least the strongSwan devices' tunnels count bytes


def test_second_rollout_changes_nothing(lab: Lab, rolled_out: subprocess.CompletedProcess[str], runs: Path) -> None:
    files_devices = [d for d, dev in lab.inv.devices.items() if pspec.load(dev.platform).driver == "files"]

    def stamps() -> dict[str, str]:
        return {f"{d} {p}": labapi.exec_in(lab.lab_dir, d, ["stat", "-c", "%Y %i", p]).stdout
                for d in files_devices for p in render.render_device(lab.inv, d).files}

    before = stamps()
    assert any("/etc/ipsec.conf" in k for k in before) and any("/etc/swanctl/" in k for k in before)  # both formats
    out = ts("rollout", "-i", str(LAB_INVENTORY), "--yes", runs=runs)
    assert out.returncode == 0, out.stderr
    assert "nothing to change on any device; not pushing" in out.stdout
    for device in lab.inv.devices:
        assert f"=== {device}: no change ===" in out.stdout
    assert stamps() == before


def test_run_directory_is_complete_and_masked(lab: Lab, rolled_out: subprocess.CompletedProcess[str],
                                              runs: Path) -> None:
    first = sorted(runs.iterdir())[0]
    for dev in ("onprem-a", "onprem-b"):
        d = first / dev
        for name in ("rendered.txt", "diff.txt", "session.log", "status.txt", "verdict.json", "backup/backup.json"):
            assert (d / name).is_file(), f"{d / name} missing"
    psks = yaml.safe_load((lab.lab_dir / "secrets.yaml").read_text())
    for path in first.rglob("*"):
        if path.is_file() and "backup" not in path.parts:
            text = path.read_text(errors="replace")
            for psk in psks.values():
                assert str(psk) not in text, f"a pre-shared key leaked into {path}"


def test_rollout_without_yes_and_without_terminal_refuses(lab: Lab, runs: Path) -> None:
    out = ts("rollout", "-i", str(LAB_INVENTORY), runs=runs)
    assert out.returncode == 2
    assert "refusing to push" in out.stderr


def test_rollback_restores_the_pre_change_files(lab: Lab, runs: Path, variant: Any,
                                                rolled_out: subprocess.CompletedProcess[str]) -> None:
    original = device_files(lab, "onprem-a")
    changed = variant(set_value("ctyun-a", ["ipsec", "lifetime"], 1800))  # a change on the device side
    assert added_lines(lab.inv, changed, "onprem-a")  # the change shows in the rendered files
    out = subprocess.run([TS, "rollout", "-i", changed.directory, "--yes", "--limit", "onprem-a",
                          "--runs-dir", str(runs), "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    run_id = json.loads(out.stdout)["run_id"]
    pushed = device_files(lab, "onprem-a", changed)
    assert pushed == render.render_device(changed, "onprem-a").files and pushed != original
    back = ts("rollback", "-i", str(LAB_INVENTORY), "--run", run_id, "--limit", "onprem-a", "--yes", runs=runs)
    assert back.returncode == 0, back.stderr
    assert device_files(lab, "onprem-a") == original
    assert tunnel(verify_json(runs, "--limit", "onprem-a", "--wait", "20"), "ctyun-a")["ok"]


def test_answering_no_pushes_nothing(lab: Lab, runs: Path, variant: Any,
                                     rolled_out: subprocess.CompletedProcess[str]) -> None:
    import io

    from tunnelsmith.runbooks.common import open_context
    from tunnelsmith.runbooks.rollout import run_rollout

    before = device_files(lab, "onprem-a")
    changed = variant(set_value("ctyun-a", ["ipsec", "lifetime"], 1800))
    shown = added_lines(lab.inv, changed, "onprem-a")
    asked: list[str] = []
    ctx = open_context(changed.directory, str(runs), out=io.StringIO(), err=io.StringIO())
    rc = run_rollout(ctx, limit=["onprem-a"], interactive=True, confirm=lambda q: asked.append(q) or False)
    assert rc == 2 and asked and "onprem-a" in asked[0]
    assert shown and all(ln in ctx.out.getvalue() for ln in shown)  # the operator saw the change first
    assert device_files(lab, "onprem-a") == before


# --- breaking the lab on purpose -------------------------------------------------------------

@pytest.mark.parametrize("name", ["ctyun-a", "jd-b-1"])  # IKEv1 and IKEv2
def test_wrong_psk_is_psk_mismatch(lab: Lab, runs: Path, restore: None, name: str) -> None:
    cloud = lab.inv.tunnels[name].cloud
    labapi.reload_cloud(lab.inv, cloud, lab.lab_dir, psk_override={name: "definitely-not-the-right-key-0"})
    renegotiate(lab, lab.inv.tunnels[name].device, name)
    t = tunnel(verify_json(runs, "--limit", lab.inv.tunnels[name].device), name)
    assert not t["ok"] and t["phase1"]["state"] == "down"
    assert t["diagnosis"]["class"] == "psk_mismatch", t["diagnosis"]


def test_pfs_group_mismatch_is_pfs_mismatch(lab: Lab, runs: Path, restore: None, variant: Any) -> None:
    changed = variant(set_value("ctyun-a", ["ipsec", "pfs_group"], 5))  # the cloud now wants group 5, device offers 2
    labapi.reload_cloud(changed, "ctyun-gw", lab.lab_dir)
    renegotiate(lab, "onprem-a", "ctyun-a")
    t = tunnel(verify_json(runs, "--limit", "onprem-a"), "ctyun-a")
    assert not t["ok"] and any(c["state"] == "down" for c in t["phase2"])
    assert t["diagnosis"]["class"] == "pfs_mismatch", t["diagnosis"]


def test_ike_blocked_is_peer_unreachable(lab: Lab, runs: Path, restore: None) -> None:
    labapi.block_ike(lab.lab_dir, enabled=True)
    renegotiate(lab, "onprem-b", "jd-b-1")
    t = tunnel(verify_json(runs, "--limit", "onprem-b"), "jd-b-1")
    assert not t["ok"] and t["phase1"]["state"] == "down"
    assert t["diagnosis"]["class"] == "peer_unreachable", t["diagnosis"]
    assert "UDP 500/4500" in t["diagnosis"]["message"]


def test_selector_mismatch(lab: Lab, runs: Path, restore: None, variant: Any) -> None:
    def edit(doc: dict[str, Any], hosts: dict[str, Any]) -> None:
        hosts["ctyun-gw"]["data"]["vpc_subnets"] = ["198.19.17.0/24"]
        t = next(t for t in doc["tunnels"] if t["name"] == "ctyun-a")
        t["routing"]["selectors"] = [{"local": "198.18.16.0/24", "remote": "198.19.17.0/24"}]
        t["ping"] = {"source": "198.18.16.1", "target": "198.19.17.1", "count": 3}

    changed = variant(edit)
    labapi.reload_cloud(changed, "ctyun-gw", lab.lab_dir)
    renegotiate(lab, "onprem-a", "ctyun-a")
    t = tunnel(verify_json(runs, "--limit", "onprem-a"), "ctyun-a")
    assert not t["ok"] and any(c["state"] == "down" for c in t["phase2"])
    assert t["diagnosis"]["class"] == "selector_mismatch", t["diagnosis"]


def test_ike_proposal_mismatch(lab: Lab, runs: Path, restore: None, variant: Any) -> None:
    changed = variant(set_value("jd-b-1", ["ike", "encryption"], "aes-128"))  # the cloud now wants AES-128 for IKE
    labapi.reload_cloud(changed, "jd-gw", lab.lab_dir)
    renegotiate(lab, "onprem-b", "jd-b-1")
    t = tunnel(verify_json(runs, "--limit", "onprem-b"), "jd-b-1")
    assert not t["ok"] and t["phase1"]["state"] == "down"
    assert t["diagnosis"]["class"] == "proposal_mismatch", t["diagnosis"]


def test_cloud_without_the_connection_is_no_peer_config(lab: Lab, runs: Path, restore: None, variant: Any) -> None:
    def edit(doc: dict[str, Any], hosts: dict[str, Any]) -> None:
        doc["tunnels"] = [t for t in doc["tunnels"] if t["name"] != "jd-b-1"]

    labapi.reload_cloud(variant(edit), "jd-gw", lab.lab_dir)  # someone deleted the connection in the console
    renegotiate(lab, "onprem-b", "jd-b-1")
    t = tunnel(verify_json(runs, "--limit", "onprem-b"), "jd-b-1")
    assert not t["ok"] and t["phase1"]["state"] == "down"
    assert t["diagnosis"]["class"] == "no_peer_config", t["diagnosis"]


def test_missing_route_is_no_route(lab: Lab, runs: Path, restore: None) -> None:
    # Both phases stay up; the route that steers the protected prefix into the tunnel goes away.
    labapi.exec_in(lab.lab_dir, "onprem-a", ["ip", "route", "del", "198.19.16.0/24", "table", "220"])
    t = tunnel(verify_json(runs, "--limit", "onprem-a"), "ctyun-a")
    assert not t["ok"] and t["phase1"]["state"] == "up" and all(c["state"] == "up" for c in t["phase2"])
    assert t["ping"]["received"] == 0
    assert t["diagnosis"]["class"] == "no_route", t["diagnosis"]
    assert "did not enter the tunnel" in t["diagnosis"]["message"]


def _esp_of_children(lab: Lab, name: str) -> list[str]:
    """The ESP encryption (e.g. AES_CBC-256) of every installed CHILD SA of the tunnel on its device."""
    device = lab.inv.tunnels[name].device
    conns = tunnel_conns(lab, name)
    kids = {c for c, _, _ in conns.children}
    found: list[str] = []
    for ike in conns.ike:
        sas = labapi.exec_in(lab.lab_dir, device, ["swanctl", "--list-sas", "--ike", ike]).stdout
        found += [m.group(2) for m in re.finditer(r"^\s+([\w.-]+): #\d+, .*INSTALLED.*ESP:([A-Z_]+-\d+)/", sas, re.M)
                  if m.group(1) in kids]
    return found


def _wait_esp(lab: Lab, name: str, want: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    got = _esp_of_children(lab, name)
    while time.monotonic() < deadline and not (got and set(got) == {want}):
        time.sleep(0.5)
        got = _esp_of_children(lab, name)
    return got


@pytest.mark.parametrize(("name", "old", "new", "fmt_file"), [
    ("ctyun-a", "aes-128", "aes-256", "/etc/ipsec.conf"),
    ("jd-b-1", "aes-256", "aes-128", "/etc/swanctl/conf.d/tunnelsmith.conf"),
])
def test_changed_proposal_replaces_the_sa(lab: Lab, runs: Path, restore: None, variant: Any, name: str, old: str,
                                          new: str, fmt_file: str) -> None:
    """After an ESP-only change every CHILD SA runs the new proposal and none of the old stays up.

    ipsec.conf under starter: `ipsec update` alone left the old CHILD SA installed next to the new
    one; the activation takes changed conns down first. swanctl: `--load-all` deleted the old CHILD
    SA and with it the IKE SA, and nothing came back; the driver initiates what must be up
    (platform.yaml `ensure_up`).
    """
    assert any(p == fmt_file for p in render.render_device(lab.inv, lab.inv.tunnels[name].device).files)
    t = lab.inv.tunnels[name]
    assert t.ipsec.encryption == old
    old_esp, new_esp = (f"AES_CBC-{v.split('-')[1]}" for v in (old, new))
    assert _wait_esp(lab, name, old_esp) == [old_esp] * len(tunnel_conns(lab, name).children)
    changed = variant(set_value(name, ["ipsec", "encryption"], new))  # both ends agree on the new cipher
    labapi.reload_cloud(changed, t.cloud, lab.lab_dir)
    try:
        out = subprocess.run([TS, "rollout", "-i", changed.directory, "--yes", "--limit", t.device,
                              "--runs-dir", str(runs)], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr + out.stdout
        got = _wait_esp(lab, name, new_esp)
        assert got and set(got) == {new_esp}, got  # every child SA renegotiated, none left from before
    finally:
        labapi.reload_cloud(lab.inv, t.cloud, lab.lab_dir)
        back = ts("rollout", "-i", str(LAB_INVENTORY), "--yes", "--limit", t.device, runs=runs)
    assert back.returncode == 0, back.stderr + back.stdout
    got = _wait_esp(lab, name, old_esp)
    assert got and set(got) == {old_esp}, got


def test_lab_recovers_after_the_breakage_tests(lab: Lab, runs: Path, restore: None) -> None:
    doc = verify_json(runs, "--wait", "20")
    assert doc["ok"], json.dumps(doc, indent=1)
