"""Every vendor platform for real: its twin in the lab, pushed over SSH by Netmiko's own driver,
negotiating with the cloud gateways, verified from the vendor's show output and broken on purpose.

The matrix (every platform x {policy-based, route-based with static routes} x {IKEv1, IKEv2}) is
the default lab's twin tunnels: `<v>-pol1`, `<v>-pol2`, `<v>-rt1`, `<v>-rt2` on device `lab-<v>`.
Diagnosis must name the cause from the twin's own status and log output (and the cloud's log).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tunnelsmith import lab as labapi
from tunnelsmith.lab import plan
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.twin.platform import has_twin

from .conftest import LAB_INVENTORY, TS, Lab, renegotiate, set_value, ts, tunnel, tunnel_conns, verify_json

VENDORS = [p for p in pspec.available() if pspec.load(p).driver == "cli"]


def _device_of(lab: Lab, platform: str) -> str:
    devs = [d.name for d in lab.inv.devices.values() if d.platform == platform]
    assert devs, f"the default lab has no {platform} device"
    return devs[0]


def _tunnels_of(lab: Lab, device: str) -> dict[str, Any]:
    return {t.name: t for t in lab.inv.tunnels_of(device)}


@pytest.mark.parametrize("platform", VENDORS)
def test_every_platform_runs_as_a_twin(lab: Lab, platform: str) -> None:
    assert has_twin(platform), f"{platform} has no twin (templates/platforms/{platform}/twin/)"
    device = _device_of(lab, platform)
    kinds = {(t.routing.mode != "policy", t.ike.version) for t in _tunnels_of(lab, device).values()}
    assert kinds == {(False, 1), (False, 2), (True, 1), (True, 2)}, kinds


@pytest.mark.parametrize("platform", VENDORS)
def test_matrix_negotiates_and_pings_through(lab: Lab, platform: str,
                                            rolled_out: subprocess.CompletedProcess[str]) -> None:
    doc = json.loads(rolled_out.stdout)
    device = _device_of(lab, platform)
    for name, t in _tunnels_of(lab, device).items():
        v = tunnel(doc, name)
        assert v["ok"], json.dumps(v, indent=1)
        assert v["phase1"]["state"] == "up" and v["phase1"]["version"] == t.ike.version
        assert v["phase2"] and all(c["state"] == "up" for c in v["phase2"])
        assert v["ping"]["received"] > 0, v["ping"]


@pytest.mark.parametrize("platform", VENDORS)
def test_second_rollout_changes_nothing_on_the_twin(lab: Lab, platform: str, runs: Path,
                                                     rolled_out: subprocess.CompletedProcess[str]) -> None:
    device = _device_of(lab, platform)
    before = (lab.lab_dir / "nodes" / device / "twin-state.json").read_text()
    out = ts("rollout", "-i", str(LAB_INVENTORY), "--yes", "--limit", device, runs=runs)
    assert out.returncode == 0, out.stderr + out.stdout
    assert f"=== {device}: no change ===" in out.stdout
    assert (lab.lab_dir / "nodes" / device / "twin-state.json").read_text() == before


@pytest.mark.parametrize("platform", VENDORS)
def test_rollback_restores_the_twin(lab: Lab, platform: str, runs: Path, variant: Any,
                                    rolled_out: subprocess.CompletedProcess[str]) -> None:
    device = _device_of(lab, platform)
    name = sorted(_tunnels_of(lab, device))[0]
    state = lab.lab_dir / "nodes" / device / "twin-state.json"
    original = json.loads(state.read_text())["active"]
    changed = variant(set_value(name, ["ipsec", "lifetime"], 1800))
    out = subprocess.run([TS, "rollout", "-i", changed.directory, "--yes", "--limit", device, "--runs-dir",
                          str(runs), "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    run_id = json.loads(out.stdout)["run_id"]
    assert json.loads(state.read_text())["active"] != original
    back = ts("rollback", "-i", str(LAB_INVENTORY), "--run", run_id, "--limit", device, "--yes", runs=runs)
    assert back.returncode == 0, back.stderr + back.stdout
    assert sorted(json.loads(state.read_text())["active"]) == sorted(original)
    assert tunnel(verify_json(runs, "--limit", device, "--wait", "20"), name)["ok"]


def _child_rekey(lab: Lab, name: str) -> str:
    """`rekeying every Ns` of the tunnel's CHILD as loaded in the charon of its tunnel namespace."""
    conns = tunnel_conns(lab, name)
    text = labapi.swanctl(lab.lab_dir, lab.inv.tunnels[name].device, ["--list-conns"], uri=conns.uri,
                          check=True).stdout
    (child, _, _), = conns.children
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{child}:"))
    return line.split("rekeying every ")[1].split(",")[0]


@pytest.mark.parametrize("platform", VENDORS)
def test_tunnel_interfaces_are_tunnel_namespaces(lab: Lab, platform: str, runs: Path, variant: Any,
                                                 rolled_out: subprocess.CompletedProcess[str]) -> None:
    """LAB.md's recipe on both ends: 0.0.0.0/0 in a namespace per tunnel, routes into the interface."""
    device = _device_of(lab, platform)
    ns = plan.build(lab.inv).node(device).ns
    addrs = subprocess.run(["ip", "-n", ns, "-o", "-4", "addr", "show"], capture_output=True, text=True).stdout
    route_based = sorted(n for n, t in _tunnels_of(lab, device).items() if t.routing.route_based)
    assert len(route_based) == 2
    for name in route_based:
        t = lab.inv.tunnels[name]
        mine, theirs = tunnel_conns(lab, name), tunnel_conns(lab, name, side="cloud")
        assert mine.uri and theirs.uri and mine.uri != theirs.uri, (mine, theirs)
        assert [c[1:] for c in mine.children] == [("0.0.0.0/0", "0.0.0.0/0")] == [c[1:] for c in theirs.children]
        on_if = [ln.split()[1] for ln in addrs.splitlines() if f" {t.routing.inside_local} " in ln]
        assert on_if and on_if[0].startswith("ts-tun"), addrs  # the inside address is on the tunnel interface
        assert t.ping is not None
        via = subprocess.run(["ip", "-n", ns, "route", "get", str(t.ping.target)], capture_output=True,
                             text=True).stdout
        assert f"dev {on_if[0]} " in via, via  # the static route points into it
    # A changed tunnel interface is rebuilt from the new configuration; rollback restores it.
    name = route_based[0]
    assert _child_rekey(lab, name) == "3240s"
    changed = variant(set_value(name, ["ipsec", "lifetime"], 1800))
    out = subprocess.run([TS, "rollout", "-i", changed.directory, "--yes", "--limit", device, "--runs-dir",
                          str(runs), "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert _child_rekey(lab, name) == "1620s"
    back = ts("rollback", "-i", str(LAB_INVENTORY), "--run", json.loads(out.stdout)["run_id"], "--limit",
              device, "--yes", runs=runs)
    assert back.returncode == 0, back.stderr + back.stdout
    assert _child_rekey(lab, name) == "3240s"
    assert tunnel(verify_json(runs, "--limit", device, "--wait", "20"), name)["ok"]


# --- diagnosis on every vendor platform -------------------------------------------------------------
@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("platform", VENDORS)
def test_wrong_psk_is_psk_mismatch(lab: Lab, runs: Path, restore: None, platform: str, version: int) -> None:
    name = f"{_short(lab, platform)}-pol{version}"
    t = lab.inv.tunnels[name]
    labapi.reload_cloud(lab.inv, t.cloud, lab.lab_dir, psk_override={name: "definitelyNotTheRightKey0"})
    renegotiate(lab, t.device, name)
    v = tunnel(verify_json(runs, "--limit", t.device), name)
    assert not v["ok"] and v["phase1"]["state"] == "down"
    assert v["diagnosis"]["class"] == "psk_mismatch", v["diagnosis"]


@pytest.mark.parametrize("platform", VENDORS)
def test_ike_proposal_mismatch(lab: Lab, runs: Path, restore: None, variant: Any, platform: str) -> None:
    name = f"{_short(lab, platform)}-rt2"
    t = lab.inv.tunnels[name]
    changed = variant(set_value(name, ["ike", "encryption"], "aes-128"))  # the cloud now wants AES-128 for IKE
    labapi.reload_cloud(changed, t.cloud, lab.lab_dir)
    renegotiate(lab, t.device, name)
    v = tunnel(verify_json(runs, "--limit", t.device), name)
    assert not v["ok"] and v["phase1"]["state"] == "down"
    assert v["diagnosis"]["class"] == "proposal_mismatch", v["diagnosis"]


@pytest.mark.parametrize("platform", VENDORS)
def test_ike_blocked_is_peer_unreachable(lab: Lab, runs: Path, restore: None, platform: str) -> None:
    name = f"{_short(lab, platform)}-rt1"
    t = lab.inv.tunnels[name]
    labapi.block_ike(lab.lab_dir, enabled=True)
    renegotiate(lab, t.device, name)
    v = tunnel(verify_json(runs, "--limit", t.device), name)
    assert not v["ok"] and v["phase1"]["state"] == "down"
    assert v["diagnosis"]["class"] == "peer_unreachable", v["diagnosis"]


@pytest.mark.parametrize("platform", VENDORS)
def test_selector_mismatch(lab: Lab, runs: Path, restore: None, variant: Any, platform: str) -> None:
    name = f"{_short(lab, platform)}-pol1"
    t = lab.inv.tunnels[name]
    lan = str(t.routing.selectors[0].local)

    def edit(doc: dict[str, Any], hosts: dict[str, Any]) -> None:
        tt = next(x for x in doc["tunnels"] if x["name"] == name)
        other = "198.19.18.0/24"  # the cloud now protects another VPC subnet than the device
        hosts[t.cloud]["data"]["vpc_subnets"] = [*hosts[t.cloud]["data"]["vpc_subnets"], other]
        tt["routing"]["selectors"] = [{"local": lan, "remote": other}]
        tt["ping"] = {"source": str(t.ping.source), "target": "198.19.18.1", "count": 3}

    labapi.reload_cloud(variant(edit), t.cloud, lab.lab_dir)
    renegotiate(lab, t.device, name)
    v = tunnel(verify_json(runs, "--limit", t.device), name)
    assert not v["ok"] and any(c["state"] == "down" for c in v["phase2"])
    assert v["diagnosis"]["class"] == "selector_mismatch", v["diagnosis"]


def _short(lab: Lab, platform: str) -> str:
    return _device_of(lab, platform).removeprefix("lab-")
