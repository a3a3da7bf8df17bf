"""Golden test: Huawei VRP (AR651) against the OTC / Huawei Cloud published customer-gateway config.

Sample: tests/data/huawei_vrp/otc-huawei_vrp-1.txt (Apache-2.0, header kept). Inventory:
inventory/examples/otc-huawei_vrp-1 (its README maps the sample's masked addresses).
Statements are compared per object, case-insensitively (VRP keywords are; the sample writes
"IPsec", the template "ipsec"). Deliberate differences, each asserted below:
  * one IKE proposal and one IPsec proposal per tunnel (ours: 2 and 3, hwpeer1/hwpeer2) where the
    sample shares `ike proposal 2` and `IPsec proposal hwproposal1`: tunnels may differ;
  * IPsec profiles are named after the tunnel (hwpeer1/2) where the sample says hwpro1/2;
  * extra statements: `sa duration` (IKE and IPsec lifetimes of the intent; the sample relies on
    defaults), `version 2` (the enabled version, stated so the reader sees it), `transform esp`
    (the default, stated), `tcp adjust-mss` (the MSS clamp);
  * not rendered: `rsa encryption-padding`, `rsa signature-padding`, `ikev2 authentication
    sign-hash` (certificate authentication only; PSK here), NQA tracking on the static routes
    (no NQA in the intent), the WAN address and default route (device base config).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tunnelsmith import inventory, render

from ._golden import indented_blocks

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests/data/huawei_vrp/otc-huawei_vrp-1.txt"
INV = REPO / "inventory/examples/otc-huawei_vrp-1"
PLACEHOLDERS = {"198.51.100.22": "22.xx.xx.22", "203.0.113.11": "11.xx.xx.11", "203.0.113.12": "11.xx.xx.12"}
CERT_ONLY = ("rsa encryption-padding", "rsa signature-padding", "ikev2 authentication sign-hash")


def sample_blocks() -> dict[str, list[str]]:
    """Top-level command -> its sub-view statements, from the prompt-prefixed sample lines."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\[AR651(-[^\]]*)?\](.*)$", line)
        if not m:
            continue
        stmt = m.group(2).strip().lower()
        if stmt in ("quit", ""):
            continue
        if m.group(1) is None:
            current = stmt
            blocks.setdefault(current, [])
        else:
            blocks[current].append(stmt)
    return blocks


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    # the sample's published example key, set the way the inventory references it
    monkeypatch.setenv("TS_SAMPLE_PSK_OTC", "Test@123")
    inv = inventory.load(INV)
    text = render.render_device(inv, "ar651").files["cli"]
    for ours_ip, placeholder in PLACEHOLDERS.items():
        text = text.replace(ours_ip, placeholder)
    return indented_blocks(text, closer="quit", lower=True)


def test_sha2_compatibility_is_enabled(ours: dict[str, list[str]]) -> None:
    assert "ipsec authentication sha2 compatible enable" in sample_blocks()
    assert "ipsec authentication sha2 compatible enable" in ours


@pytest.mark.parametrize("n", [1, 2])
def test_ike_proposal(ours: dict[str, list[str]], n: int) -> None:
    expected = sample_blocks()["ike proposal 2"]
    got = ours[f"ike proposal {1 + n}"]  # one proposal per tunnel, numbered from the sample's 2
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"sa duration 86400"}


@pytest.mark.parametrize("n", [1, 2])
def test_ike_peer(ours: dict[str, list[str]], n: int) -> None:
    expected = [s for s in sample_blocks()[f"ike peer hwpeer{n}"] if not s.startswith(CERT_ONLY)]
    expected = [f"ike-proposal {1 + n}" if s == "ike-proposal 2" else s for s in expected]
    got = ours[f"ike peer hwpeer{n}"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"version 2"}


@pytest.mark.parametrize("n", [1, 2])
def test_ipsec_proposal(ours: dict[str, list[str]], n: int) -> None:
    expected = sample_blocks()["ipsec proposal hwproposal1"]
    got = ours[f"ipsec proposal hwpeer{n}"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"transform esp"}


@pytest.mark.parametrize("n", [1, 2])
def test_ipsec_profile(ours: dict[str, list[str]], n: int) -> None:
    expected = [f"proposal hwpeer{n}" if s == "proposal hwproposal1" else s
                for s in sample_blocks()[f"ipsec profile hwpro{n}"]]
    got = ours[f"ipsec profile hwpeer{n}"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"sa duration time-based 3600"}


@pytest.mark.parametrize("n", [1, 2])
def test_tunnel_interface(ours: dict[str, list[str]], n: int) -> None:
    expected = [f"ipsec profile hwpeer{n}" if s == f"ipsec profile hwpro{n}" else s
                for s in sample_blocks()[f"interface tunnel0/0/{n}"]]
    got = ours[f"interface tunnel0/0/{n}"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"tcp adjust-mss 1360"}


def test_static_routes(ours: dict[str, list[str]]) -> None:
    expected = {re.sub(r" track nqa .*$", "", k) for k in sample_blocks() if k.startswith("ip route-static 192.168.")}
    got = {k for k in ours if k.startswith("ip route-static")}
    assert len(expected) == 2
    assert got == expected
