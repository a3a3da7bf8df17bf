"""The verdict logic: phase 1, one CHILD SA per expected selector pair, ping; and the JSON contract."""

from __future__ import annotations

import json

import pytest

from tunnelsmith import inventory, report, views
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.status import ChildSa, DeviceStatus, IkeSa, PingResult
from tunnelsmith.verify import evaluate, expected_pairs

from ..conftest import INVENTORY


@pytest.fixture
def lab_inv(lab_secrets: dict[str, str]) -> inventory.Inventory:
    return inventory.load(INVENTORY / "lab")


def _status(ike_state: str = "up", child_state: str = "up") -> DeviceStatus:
    return DeviceStatus(
        ike=[IkeSa(name="jd-b-1", state=ike_state, version=2, remote_host="203.0.113.20",
                   proposal="AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048")],
        children=[ChildSa(ike_name="jd-b-1", name="jd-b-1-inside", state=child_state,
                          local_ts=["169.254.10.2/32"], remote_ts=["169.254.10.1/32"], bytes_in=84, bytes_out=84),
                  ChildSa(ike_name="jd-b-1", name="jd-b-1-1", state=child_state,
                          local_ts=["198.18.32.0/24"], remote_ts=["198.19.32.0/24"], bytes_in=252, bytes_out=252)])


def test_route_based_strongswan_expects_inside_pair_and_routes(lab_inv: inventory.Inventory) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-1"], "device")
    assert expected_pairs(end, pspec.load("strongswan")) == [
        ("169.254.10.2/32", "169.254.10.1/32"), ("198.18.32.0/24", "198.19.32.0/24")]


def test_all_up_with_ping_is_ok(lab_inv: inventory.Inventory) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-1"], "device")
    ping = PingResult("198.18.32.1", "198.19.32.1", 3, 3, 0.0, 0.4)
    v = evaluate(end, pspec.load("strongswan"), _status(), ping)
    assert v.ok
    assert v.phase1["state"] == "up" and v.phase1["version"] == 2
    assert [c["state"] for c in v.phase2] == ["up", "up"]
    assert v.phase2[1]["bytes_in"] == 252


@pytest.mark.parametrize(("ike", "child", "received"), [
    ("CONNECTING", "INSTALLED", 3), ("ESTABLISHED", "INSTALLING", 3), ("ESTABLISHED", "INSTALLED", 0)])
def test_any_failure_fails_the_tunnel(lab_inv: inventory.Inventory, ike: str, child: str, received: int) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-1"], "device")
    ping = PingResult("198.18.32.1", "198.19.32.1", 3, received, 100.0 if not received else 0.0, None)
    assert not evaluate(end, pspec.load("strongswan"), _status(ike, child), ping).ok


def test_ike_sa_with_the_wrong_peer_is_not_phase1(lab_inv: inventory.Inventory) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-2"], "device")  # peer 203.0.113.21
    st = _status()
    st.ike[0].name = "jd-b-2"
    v = evaluate(end, pspec.load("strongswan"), st, None)
    assert v.phase1["state"] == "down"
    assert "203.0.113.21" in v.phase1["detail"]


def test_missing_child_for_a_pair_is_reported_down(lab_inv: inventory.Inventory) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-1"], "device")
    st = _status()
    st.children.pop()  # the routed prefix has no CHILD SA
    v = evaluate(end, pspec.load("strongswan"), st, None)
    assert [c["state"] for c in v.phase2] == ["up", "down"] and not v.ok


def test_json_contract_fields(lab_inv: inventory.Inventory) -> None:
    end = views.end(lab_inv, lab_inv.tunnels["jd-b-1"], "device")
    v = evaluate(end, pspec.load("strongswan"), _status(), PingResult("198.18.32.1", "198.19.32.1", 3, 3, 0.0, 0.4))
    doc = json.loads(report.to_json(report.document("r1", report.now(), [v])))
    assert set(doc) >= {"run_id", "started", "finished", "ok", "tunnels"}
    t = doc["tunnels"][0]
    assert set(t) >= {"name", "device", "cloud", "ok", "phase1", "phase2", "ping", "diagnosis"}
    assert set(t["phase1"]) >= {"state", "version", "proposal", "detail"}
    assert set(t["phase2"][0]) >= {"local_ts", "remote_ts", "state", "bytes_in", "bytes_out"}
    assert set(t["ping"]) >= {"source", "target", "sent", "received", "loss_pct", "rtt_ms"}
    assert doc["ok"] is True and t["diagnosis"] is None
    table = report.to_table(doc)
    assert "jd-b-1" in table and "2/2 up" in table and "all tunnels pass" in table


def test_tunnel_interface_sa_without_selectors_is_told_apart_by_its_peer(lab_inv: inventory.Inventory) -> None:
    """VRP shows a tunnel interface's SA with no flow lines and no IKE SA name: the peer decides."""
    end = views.end(lab_inv, lab_inv.tunnels["vrp-rt2"], "device")
    spec = pspec.load("huawei_vrp")
    assert expected_pairs(end, spec) == [("0.0.0.0/0", "0.0.0.0/0")]
    ike = [IkeSa(name="", state="up", version=2, remote_host=str(end.remote_ip))]
    other = ChildSa(ike_name="", name="x", state="down", remote_host="203.0.113.99")
    mine = ChildSa(ike_name="", name="vrp-rt2", state="up", remote_host=str(end.remote_ip))
    assert evaluate(end, spec, DeviceStatus(ike=ike, children=[other, mine]), None).phase2[0]["state"] == "up"
    assert evaluate(end, spec, DeviceStatus(ike=ike, children=[other]), None).phase2[0]["state"] == "down"
    # an SA that shows selectors must cover the pair: a policy SA is no tunnel interface SA
    policy = ChildSa(ike_name="", name="p", state="up", remote_host=str(end.remote_ip),
                     local_ts=["198.18.80.0/24"], remote_ts=["198.19.16.0/24"])
    assert evaluate(end, spec, DeviceStatus(ike=ike, children=[policy]), None).phase2[0]["state"] == "down"


def test_phase1_is_inferred_only_where_the_platform_says_so(lab_inv: inventory.Inventory) -> None:
    """StoneOS has no tested IKE SA parser: an up IPsec SA with the peer stands in, and says so."""
    end = views.end(lab_inv, lab_inv.tunnels["hill-pol1"], "device")
    sa = ChildSa(ike_name="", name="hill-pol1", state="up", remote_host=str(end.remote_ip))
    v = evaluate(end, pspec.load("hillstone_stoneos"), DeviceStatus(children=[sa]), None)
    assert v.phase1["state"] == "up" and "inferred" in v.phase1["detail"]
    assert [c["state"] for c in v.phase2] == ["up"]  # matched by peer: StoneOS shows no selectors
    other = ChildSa(ike_name="", name="x", state="up", remote_host="203.0.113.99")
    v = evaluate(end, pspec.load("hillstone_stoneos"), DeviceStatus(children=[other]), None)
    assert v.phase1["state"] == "down"
    # a platform that parses its IKE SAs never infers: the same evidence is phase 1 down
    end_ios = views.end(lab_inv, lab_inv.tunnels["ios-pol1"], "device")
    sa_ios = ChildSa(ike_name="", name="m", state="up", remote_host=str(end_ios.remote_ip),
                     local_ts=["198.18.48.0/24"], remote_ts=["198.19.16.0/24"])
    assert evaluate(end_ios, pspec.load("cisco_ios"), DeviceStatus(children=[sa_ios]), None).phase1["state"] == "down"


def test_another_peers_any_to_any_sa_never_stands_in(lab_inv: inventory.Inventory) -> None:
    """A policy tunnel whose SA is gone is down, even while a tunnel interface's 0/0 SA (another peer) is up."""
    end = views.end(lab_inv, lab_inv.tunnels["srx-pol1"], "device")
    spec = pspec.load("juniper_junos")
    ike = [IkeSa(name="", state="up", version=1, remote_host=str(end.remote_ip))]
    vti = ChildSa(ike_name="", name="srx-rt1", state="up", remote_host="203.0.113.32",
                  local_ts=["0.0.0.0/0"], remote_ts=["0.0.0.0/0"])
    assert evaluate(end, spec, DeviceStatus(ike=ike, children=[vti]), None).phase2[0]["state"] == "down"

    # Junos names both by the gateway: the other gateway's 0/0 SA is not this tunnel's either
    ike_j = [IkeSa(name=str(end.remote_ip), state="up", version=1, remote_host=str(end.remote_ip))]
    vti_j = ChildSa(ike_name="203.0.113.32", name="srx-rt1", state="up", local_ts=["0.0.0.0/0"],
                    remote_ts=["0.0.0.0/0"])
    assert evaluate(end, spec, DeviceStatus(ike=ike_j, children=[vti_j]), None).phase2[0]["state"] == "down"
