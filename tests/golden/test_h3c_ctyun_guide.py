"""Golden test: H3C Comware 7 against seed 001 section 3.3.4.5 (host idc-h3c, tunnel ctyun).

Guide text: tests/data/hp_comware/ctyun-guide-3.3.4.5.txt. Inventory: inventory/examples/ctyun-guide
(option hp_comware: {ike_proposal_base: 10000, acl_base: 3402} reproduces the guide's numbers).
The PSK: the guide's table masks it (`ct***h3c`), its config prints `ctyun_h3c`; the test sets that.
Mistakes in the guide, documented and asserted here:
  * the ACL's `rule 5` is the mirror of `rule 0` (source VPC, destination IDC). An IPsec ACL on
    Comware lists the outbound flows; the inbound SA is derived from it. A mirrored rule makes
    the device offer VPC->IDC as its own local->remote selector, which the cloud (whose
    selectors are VPC->IDC from its side, i.e. IDC->VPC from ours) rejects. Not rendered.
  * `match remote address X` is not a Comware 7 command: the IKE profile matches the peer by
    identity, `match remote identity address X [mask]`. Rendered that way.
  * `ip route 192.168.3.0 255.255.255.0 121.XX.XX.152`: Comware's command is `ip route-static`,
    and the guide masks the next hop it printed in full elsewhere (121.229.145.152).
  * the key line is broken over two code blocks in the guide (`key simple` / `ctyun_h3c`).
Deliberate additions: `dpd interval 10 periodic` (the cloud runs DPD), `encapsulation-mode
tunnel` (the default, stated), `tcp mss 1359` on the WAN interface (seed 3.7 MSS rule).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tunnelsmith import inventory, render

from ._golden import indented_blocks

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "tests/data/hp_comware/ctyun-guide-3.3.4.5.txt"
INV = REPO / "inventory/examples/ctyun-guide"
HEADERS = ("ike keychain", "ike proposal", "ike profile", "acl advanced", "ipsec transform-set",
           "ipsec policy", "interface", "ip route")


def guide_blocks() -> dict[str, list[str]]:
    """The guide's fenced code lines grouped under their top-level command."""
    text = GUIDE.read_text(encoding="utf-8")
    lines = [ln.strip() for block in re.findall(r"```\n(.*?)```", text, re.S) for ln in block.splitlines()]
    lines = [ln for ln in lines if ln]
    joined: list[str] = []
    for ln in lines:  # the guide breaks "... key simple" / "ctyun_h3c" over two code blocks
        if joined and joined[-1].endswith("key simple"):
            joined[-1] += " " + ln
        else:
            joined.append(ln)
    blocks: dict[str, list[str]] = {}
    current = None
    for ln in joined:
        if ln.startswith(HEADERS):
            current = ln
            blocks.setdefault(current, [])
        else:
            blocks[current].append(ln)
    return blocks


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    for dev in ("STRONGSWAN", "JUNIPER", "CISCO", "HILLSTONE"):
        monkeypatch.setenv(f"TS_GUIDE_PSK_{dev}", "aa123bb****")
    monkeypatch.setenv("TS_GUIDE_PSK_H3C", "ctyun_h3c")  # the value the guide's config prints
    inv = inventory.load(INV)
    return indented_blocks(render.render_device(inv, "idc-h3c").files["cli"], closer="quit")


def test_guide_parses_into_the_expected_objects() -> None:
    assert set(guide_blocks()) == {
        "ike keychain ctyun", "ike proposal 10000", "ike profile ctyun", "acl advanced 3402",
        "ipsec transform-set ctyun", "ipsec policy ctyun 10 isakmp", "interface GigabitEthernet1/0",
        "ip route 192.168.3.0 255.255.255.0 121.XX.XX.152"}


@pytest.mark.parametrize("obj", ["ike keychain ctyun", "ike proposal 10000", "ipsec policy ctyun 10 isakmp"])
def test_identical_objects(ours: dict[str, list[str]], obj: str) -> None:
    assert sorted(ours[obj]) == sorted(guide_blocks()[obj])


def test_ike_profile(ours: dict[str, list[str]]) -> None:
    expected = guide_blocks()["ike profile ctyun"]
    got = ours["ike profile ctyun"]
    m = [s for s in expected if s.startswith("match remote address ")]
    assert m == ["match remote address 121.229.145.152"]
    fixed = [s for s in expected if s not in m] + ["match remote identity address 121.229.145.152 255.255.255.255"]
    assert set(fixed) <= set(got)
    assert set(got) - set(fixed) == {"dpd interval 10 periodic"}


def test_acl_without_the_mirrored_rule(ours: dict[str, list[str]]) -> None:
    rule0, rule5 = guide_blocks()["acl advanced 3402"]
    src, dst = re.match(r"rule 0 permit ip source (\S+ \S+) destination (\S+ \S+)$", rule0).groups()
    assert rule5 == f"rule 5 permit ip source {dst} destination {src}"  # the guide's mirror
    assert ours["acl advanced 3402"] == [rule0]


def test_transform_set(ours: dict[str, list[str]]) -> None:
    expected = guide_blocks()["ipsec transform-set ctyun"]
    got = ours["ipsec transform-set ctyun"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"encapsulation-mode tunnel"}


def test_policy_applied_on_the_wan_interface(ours: dict[str, list[str]]) -> None:
    expected = guide_blocks()["interface GigabitEthernet1/0"]
    got = ours["interface GigabitEthernet1/0"]
    assert set(expected) <= set(got)
    assert set(got) - set(expected) == {"tcp mss 1359"}


def test_static_route(ours: dict[str, list[str]]) -> None:
    (guide_route,) = [k for k in guide_blocks() if k.startswith("ip route ")]
    dest = guide_route.split()[2:4]
    assert [k for k in ours if k.startswith("ip route")] == [
        f"ip route-static {dest[0]} {dest[1]} 121.229.145.152"]
