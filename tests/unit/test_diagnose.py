"""Diagnosis on real evidence, offline.

`tests/data/diagnosis/<class>--<tunnel>.json` are the evidence files `verify` wrote (masked) when
the lab tests broke the lab on purpose (tests/lab/test_e2e.py): real charon log lines from the
device and from the cloud gateway, the probes, and the verdict. Re-diagnosing them guards the
rules against regressions and shows what happens with less evidence (no cloud log).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunnelsmith import diagnose, inventory, views
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.verify import TunnelVerdict

from ..conftest import INVENTORY

DATA = Path(__file__).resolve().parents[1] / "data" / "diagnosis"
CASES = sorted(DATA.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def replay(case: dict[str, Any], inv: inventory.Inventory, *, peer: bool = True,
           probes: dict[str, Any] | None = None) -> dict[str, str] | None:
    v = case["verdict"]
    end = views.end(inv, inv.tunnels[case["tunnel"]], "device")
    verdict = TunnelVerdict(name=v["name"], device=v["device"], cloud=v["cloud"], phase1=v["phase1"],
                            phase2=v["phase2"], ping=v["ping"])
    ev = diagnose.Evidence(device_log="\n".join(case["device_log"]),
                           peer_log="\n".join(case["peer_log"]) if peer else None,
                           peer_platform=case["peer_platform"] if peer else None,
                           probes=case["probes"] if probes is None else probes)
    peer_spec = pspec.load(case["peer_platform"]) if peer and case["peer_platform"] else None
    return diagnose.diagnose(end, verdict, ev, pspec.load(case["platform"]), peer_spec)


@pytest.fixture
def lab_inv(lab_secrets: dict[str, str]) -> inventory.Inventory:
    return inventory.load(INVENTORY / "lab")


def test_every_class_but_unknown_has_real_evidence() -> None:
    classes = {p.name.split("--")[0] for p in CASES}
    assert classes == set(diagnose.CLASSES) - {"unknown"}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_real_evidence_gives_the_class_it_gave_in_the_lab(path: Path, lab_inv: inventory.Inventory) -> None:
    case = load(path)
    got = replay(case, lab_inv)
    assert got is not None
    assert got["class"] == path.name.split("--")[0] == case["verdict"]["diagnosis"]["class"]
    assert got["message"] == case["verdict"]["diagnosis"]["message"]


def test_pfs_needs_the_cloud_log_else_it_is_named_as_a_candidate(lab_inv: inventory.Inventory) -> None:
    got = replay(load(DATA / "pfs_mismatch--ctyun-a.json"), lab_inv, peer=False)
    assert got is not None and got["class"] == "proposal_mismatch" and "PFS" in got["message"]


def test_deleted_connection_without_the_cloud_log_is_a_proposal_problem(lab_inv: inventory.Inventory) -> None:
    # The device only sees NO_PROPOSAL_CHOSEN; only the cloud's log says it has no such connection.
    got = replay(load(DATA / "no_peer_config--jd-b-1.json"), lab_inv, peer=False)
    assert got is not None and got["class"] == "proposal_mismatch"


def test_psk_mismatch_ikev1_is_found_from_the_device_log_alone(lab_inv: inventory.Inventory) -> None:
    got = replay(load(DATA / "psk_mismatch--ctyun-a.json"), lab_inv, peer=False)
    assert got is not None and got["class"] == "psk_mismatch"


def test_unreachable_peer_message_follows_the_icmp_probe(lab_inv: inventory.Inventory) -> None:
    case = load(DATA / "peer_unreachable--jd-b-1.json")
    answers = replay(case, lab_inv, probes={**case["probes"], "peer_icmp": True})
    silent = replay(case, lab_inv, probes={**case["probes"], "peer_icmp": False})
    assert answers is not None and silent is not None
    assert answers["class"] == silent["class"] == "peer_unreachable"
    assert "UDP 500/4500" in answers["message"] and "neither IKE nor ping" in silent["message"]


def test_stale_failures_do_not_count(lab_inv: inventory.Inventory) -> None:
    """Old 'MAC mismatched' lines from an earlier attempt must not explain today's silence."""
    case = load(DATA / "peer_unreachable--jd-b-1.json")
    stale = ("Jan  1 00:00:01 08[IKE] <jd-b-1|1> tried 1 shared key for '203.0.113.20' - '198.51.100.20', "
             "but MAC mismatched")
    case = {**case, "peer_log": [stale, *case["peer_log"]], "device_log": case["device_log"]}
    got = replay(case, lab_inv)
    assert got is not None and got["class"] == "peer_unreachable"


def test_a_passing_tunnel_has_no_diagnosis(lab_inv: inventory.Inventory) -> None:
    case = load(DATA / "no_route--ctyun-a.json")
    ok = {**case["verdict"], "ping": {**case["verdict"]["ping"], "received": 3, "loss_pct": 0.0}}
    assert replay({**case, "verdict": ok}, lab_inv) is None


def test_peer_lines_without_a_year_compare_with_a_device_stamp_that_has_one() -> None:
    from datetime import datetime

    from tunnelsmith.diagnose import since

    diag = {"timestamp": {"regex": r"^(\w{3} +\d+ \d\d:\d\d:\d\d)", "format": "%b %d %H:%M:%S"}}
    lines = ["Dec  1 23:08:01 11[IKE] old", "Dec  1 23:08:09 11[IKE] new"]
    assert since(lines, datetime(2026, 12, 1, 23, 8, 8), diag) == ["Dec  1 23:08:09 11[IKE] new"]
