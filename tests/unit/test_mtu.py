"""views.mtu_mss against the published rules: seed 001 3.7 (CTyun) and AWS's parameter sheet.

The expected numbers are read out of the copied texts (tests/data/clouds/), not typed in.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from tunnelsmith import inventory, views
from tunnelsmith.model import Inventory

DATA = Path(__file__).resolve().parent.parent / "data" / "clouds"
CTYUN = (DATA / "ctyun-guide-3.7.txt").read_text(encoding="utf-8")
AWS = (DATA / "aws-generic-1.txt").read_text(encoding="utf-8")

# "用户 MTU 的最大值 = $\min\{1500, 1500\} - 101 = 1500 - 101 = 1399$ 字节"
_m = re.search(r"\\min\\\{(\d+), (\d+)\\\} - (\d+) = \d+ - \d+ = (\d+)", CTYUN)
assert _m, "seed 001 3.7 example not found"
WAN, PATH, OVERHEAD, USER_MTU = (int(g) for g in _m.groups())
# "MSS = 用户 MTU - IP 数据包头部 (20 字节) - TCP 数据包头部 (20 字节)" ... "MSS 的最大值为 1359 字节"
HEADERS = sum(int(x) for x in re.findall(r"头部占用字节数\} \((\d+) \\text\{ 字节\}\)", CTYUN))
MSS_MAX = int(re.search(r"MSS 的最大值为 (\d+) 字节", CTYUN).group(1))
AWS_MTU = int(re.search(r"Tunnel interface MTU\s*:\s*(\d+) bytes", AWS).group(1))
AWS_MSS = int(re.search(r"TCP MSS Adjustment\s*:\s*(\d+) bytes", AWS).group(1))


def load(tmp_path: Path, provider: str, wan_mtu: int, path_mtu: int) -> Inventory:
    d = tmp_path / f"{provider}-{wan_mtu}-{path_mtu}"
    d.mkdir()
    hosts = {"gw": {"data": {"role": "cloud", "provider": provider, "public_ips": ["203.0.113.10"],
                             "vpc_subnets": ["198.19.16.0/24"]}},
             "dev": {"hostname": "198.18.0.2", "platform": "strongswan",
                     "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.10",
                              "lan_subnets": ["198.18.16.0/24"], "wan_mtu": wan_mtu, "path_mtu": path_mtu}}}
    t = {"name": "t1", "cloud": "gw", "device": "dev", "psk": {"env": "UNUSED"},
         "routing": {"mode": "static", "inside": {"local": "169.254.100.2/30", "remote": "169.254.100.1"},
                     "routes": ["198.19.16.0/24"]}}
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [t]}))
    return inventory.load(d)


def mtu_mss(inv: Inventory) -> tuple[int, int]:
    t = inv.tunnels["t1"]
    return views.mtu_mss(inv.devices["dev"], inv.clouds["gw"], t)


def test_constants_read_from_the_seed() -> None:
    assert (WAN, PATH, OVERHEAD, HEADERS) == (1500, 1500, views.IPSEC_OVERHEAD, views.TCP_IP_HEADERS)


def test_ctyun_ethernet(tmp_path: Path) -> None:
    assert mtu_mss(load(tmp_path, "ctyun", WAN, PATH)) == (USER_MTU, MSS_MAX)


@pytest.mark.parametrize(("wan", "path"), [(1492, 1500), (1500, 1400), (1492, 1300)])
def test_ctyun_smaller_wan_or_path(tmp_path: Path, wan: int, path: int) -> None:
    """PPPoE WAN (1492 -> 1391/1351) and a path MTU below the WAN MTU: the minimum counts."""
    expected = min(wan, path) - OVERHEAD
    assert mtu_mss(load(tmp_path, "ctyun", wan, path)) == (expected, expected - HEADERS)


def test_pppoe_numbers() -> None:
    assert (1492 - OVERHEAD, 1492 - OVERHEAD - HEADERS) == (1391, 1351)


def test_aws_published_values(tmp_path: Path) -> None:
    assert mtu_mss(load(tmp_path, "aws", 1500, 1500)) == (AWS_MTU, AWS_MSS)


def test_aws_values_shrink_with_the_underlay(tmp_path: Path) -> None:
    assert mtu_mss(load(tmp_path, "aws", 1492, 1500)) == (AWS_MTU - 8, AWS_MSS - 8)


def test_tunnel_override(tmp_path: Path) -> None:
    inv = load(tmp_path, "aws", 1500, 1500)
    t = dataclasses.replace(inv.tunnels["t1"], mtu=1400)
    assert views.mtu_mss(inv.devices["dev"], inv.clouds["gw"], t) == (1400, 1400 - HEADERS)
    t = dataclasses.replace(inv.tunnels["t1"], mtu=1400, mss=1300)
    assert views.mtu_mss(inv.devices["dev"], inv.clouds["gw"], t) == (1400, 1300)
