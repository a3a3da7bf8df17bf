"""Golden test: Hillstone StoneOS against seed 001 section 3.3.4.4 (host idc-hillstone, tunnel ctyun_ipsec).

The guide shows only the web UI; its parameter table and form fields are read from
tests/data/hillstone_stoneos/ctyun-guide-3.3.4.4.txt and each must appear, with its value, in the
rendered CLI object StoneOS uses for it (P1 proposal = `isakmp proposal`, P2 proposal =
`ipsec proposal`, VPN peer = `isakmp peer`, tunnel interface = `interface tunnelN`).
Masked values: the peer address `121.**.**.80` is 203.0.113.80 in the inventory (ctyun-guide
README); the tunnel interface's address (`12.**.**.2`, mask 24) is masked and not compared (the
inventory uses 169.254.11.2/30). The VPC subnet is not printed in the guide (route step 15 says
"destination: the VPC subnet, next hop: the new tunnel interface"); the inventory's VPC subnet is used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tunnelsmith import inventory, render

from ._golden import indented_blocks

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "tests/data/hillstone_stoneos/ctyun-guide-3.3.4.4.txt"
INV = REPO / "inventory/examples/ctyun-guide"


def guide_params() -> dict[str, str]:
    """The IPsec parameter table (IKE / IPsec rows) and the VPN peer / tunnel interface form fields."""
    text = GUIDE.read_text(encoding="utf-8")
    table = text[text.index("IPsec 协议信息"):text.index("网络配置信息")]
    out: dict[str, str] = {}
    phase = None
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if cells[0] in ("IKE", "IPsec"):
            phase = cells[0]
        if phase and len(cells) >= 3 and cells[1]:
            out[f"{phase} {cells[1]}"] = cells[2]

    def field(label: str) -> str:
        m = re.search(rf"^{label}\s*\*\s+(\S+(?: \d+)?)", text, re.M)
        assert m, label
        return m.group(1)

    out["接口"] = field("接口")
    out["对端地址"] = field("对端地址")
    out["名称"] = field("名称")
    out["接口名称"] = field("接口名称")
    out["安全域"] = field("安全域")
    return out


@pytest.fixture
def ours(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    for dev in ("STRONGSWAN", "JUNIPER", "CISCO", "HILLSTONE", "H3C"):
        monkeypatch.setenv(f"TS_GUIDE_PSK_{dev}", "aa123bb****")
    inv = inventory.load(INV)
    return indented_blocks(render.render_device(inv, "idc-hillstone").files["cli"], closer="exit")


def test_guide_table_is_read() -> None:
    p = guide_params()
    assert p["IKE 认证算法"] == "SHA256" and p["IPsec PFS"] == "DH group5"
    assert p["名称"] == "ctyun_ipsec" and p["接口名称"] == "tunnel 11"


def test_p1_proposal(ours: dict[str, list[str]]) -> None:
    p = guide_params()
    got = ours['isakmp proposal "ctyun_ipsec"']
    assert f"hash {p['IKE 认证算法'].lower()}" in got
    assert f"encryption {p['IKE 加密算法'].lower()}" in got
    assert f"group {p['IKE DH 分组'].lower().removeprefix('group')}" in got
    assert f"lifetime {p['IKE 生命周期']}" in got
    assert "authentication pre-share" in got


def test_vpn_peer(ours: dict[str, list[str]]) -> None:
    p = guide_params()
    got = ours['isakmp peer "ctyun_ipsec"']
    assert f"mode {p['IKE 协商模式']}" in got
    assert f"protocol-standard {p['IKE IKE 版本'].lower()}" in got
    assert f"interface {p['接口']}" in got
    assert p["对端地址"] == "121.**.**.80"
    assert "peer 203.0.113.80" in got
    assert 'isakmp-proposal "ctyun_ipsec"' in got
    assert 'pre-share "aa123bb****"' in got


def test_p2_proposal(ours: dict[str, list[str]]) -> None:
    p = guide_params()
    got = ours['ipsec proposal "ctyun_ipsec"']
    assert "protocol esp" in got
    assert f"hash {p['IPsec 认证算法'].lower()}" in got
    assert f"encryption {p['IPsec 加密算法'].lower()}" in got
    assert f"group {p['IPsec PFS'].lower().removeprefix('dh group')}" in got
    assert f"lifetime {p['IPsec 生命周期']}" in got


def test_tunnel_interface_zone_and_route(ours: dict[str, list[str]]) -> None:
    p = guide_params()
    name = p["接口名称"].replace(" ", "")  # the web form shows "tunnel 11"; the CLI name is tunnel11
    assert f'zone "{p["安全域"]}"' in ours
    iface = ours[f"interface {name}"]
    assert f'zone "{p["安全域"]}"' in iface
    assert f'tunnel ipsec "{p["名称"]}"' in iface
    assert f'tunnel ipsec "{p["名称"]}" auto' in ours
    assert f"ip route 192.168.20.0/24 {name}" in ours['ip vrouter "trust-vr"']
