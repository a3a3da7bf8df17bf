"""Cloud-console rendering, compared with the providers' own published text.

* AWS: the parameter sheet is checked line by line against AWS's generic configuration
  (tests/data/clouds/aws-generic-1.txt, copied verbatim with its source header).
* CTyun: every form label of seed 001 (3.3.2.1 用户网关, 3.3.3.1 IPsec 连接 + IKE/IPsec 策略,
  3.1.2.2 目的路由; tests/data/clouds/ctyun-guide-console.txt) appears verbatim.
* JD Cloud: the seed 002 items (customer gateway, BGP on/off, per-tunnel parameters, inside IPs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import console, inventory
from tunnelsmith import secrets as secretmod

DATA = Path(__file__).resolve().parent.parent / "data" / "clouds"
LINE = re.compile(r"^- (.+?)\s*:\s*(.*?)\s*$")


def body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split("===== END HEADER =====", 1)[1].split("\n", 1)[1]


def sheet_blocks(text: str) -> list[list[tuple[str, str]]]:
    """("- Label : value") pairs of each 'IPsec Tunnel #N' block, whitespace-normalised."""
    blocks = re.split(r"^IPsec Tunnel #\d+.*$", text, flags=re.M)[1:]
    out = []
    for b in blocks:
        pairs = []
        for ln in b.splitlines():
            m = LINE.match(ln.strip())
            if m:
                pairs.append((m.group(1).rstrip(": ").strip(), " ".join(m.group(2).lstrip(": ").split())))
        out.append(pairs)
    return out


def is_subsequence(needle: list[Any], hay: list[Any]) -> bool:
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)


def write(tmp_path: Path, hosts: dict[str, Any], tunnels: list[dict[str, Any]]) -> Path:
    d = tmp_path / "inv"
    d.mkdir()
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts, allow_unicode=True))
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": tunnels}))
    return d


@pytest.fixture(autouse=True)
def _fresh() -> None:
    secretmod.clear_cache()


# --- AWS ---------------------------------------------------------------------------------------
def aws_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> inventory.Inventory:
    """The sample's own parameters: VGW 7224, outside .225/.193, inside 169.254.255.0/30 and .4/30."""
    monkeypatch.setenv("TS_UNIT_AWS_PSK1", "plain-text-password1")
    monkeypatch.setenv("TS_UNIT_AWS_PSK2", "plain-text-password2")
    hosts = {"vgw": {"data": {"role": "cloud", "provider": "aws", "public_ips": ["72.21.209.225", "72.21.209.193"],
                              "vpc_subnets": ["10.0.0.0/16"]}},
             "cgw": {"hostname": "cgw.example.invalid", "platform": "strongswan",
                     "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.10",
                              "lan_subnets": ["198.18.16.0/24"], "bgp_asn": 65000}}}
    tunnels = []
    for i, (ip, inside) in enumerate((("72.21.209.225", 255.2), ("72.21.209.193", 255.6)), start=1):
        local = f"169.254.{inside:.1f}"
        remote = local[:-1] + str(int(local[-1]) - 1)
        tunnels.append({"name": f"aws-{i}", "cloud": "vgw", "device": "cgw", "cloud_ip": ip,
                        "psk": {"env": f"TS_UNIT_AWS_PSK{i}"},
                        "routing": {"mode": "bgp", "inside": {"local": f"{local}/30", "remote": remote}}})
    return inventory.load(write(tmp_path, hosts, tunnels))


def test_aws_sheet_matches_published_generic_configuration(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    inv = aws_inventory(tmp_path, monkeypatch)
    published = sheet_blocks(body(DATA / "aws-generic-1.txt"))
    rendered = sheet_blocks(console.render_console(inv, "vgw", show_secrets=True))
    assert len(published) == len(rendered) == 2
    for n, (pub, ren) in enumerate(zip(published, rendered, strict=True), start=1):
        # Placeholders (YOUR_UPLINK_ADDRESS, YOUR_BGP_ASN) are not values; and the sample's
        # tunnel 1 repeats tunnel 2's outside address (its header says "sic"): skip that line.
        expected = [(k, v) for k, v in pub if "YOUR_" not in v
                    and not (n == 1 and k == "Virtual Private Gateway" and v == "72.21.209.193")]
        assert len(expected) >= 20
        assert is_subsequence(expected, ren), f"tunnel {n}:\nexpected {expected}\nrendered {ren}"


def test_aws_sheet_masks_keys_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = aws_inventory(tmp_path, monkeypatch)
    text = console.render_console(inv, "vgw")
    assert "plain-text-password1" not in text and "plain-text-password2" not in text
    assert text.count(secretmod.MASK) == 2
    assert "TS_UNIT_AWS_PSK1" in text  # says where the key lives


def test_generic_sheet_policy_based(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_UNIT_GEN_PSK", "Generic.key_1")
    hosts = {"gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.40"],
                             "vpc_subnets": ["198.19.64.0/24"]}},
             "dev": {"hostname": "198.18.0.2", "platform": "strongswan",
                     "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.10",
                              "lan_subnets": ["198.18.16.0/24"], "wan_mtu": 1492}}}
    t = {"name": "g1", "cloud": "gw", "device": "dev", "psk": {"env": "TS_UNIT_GEN_PSK"},
         "ike": {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800},
         "ipsec": {"encryption": "aes-256-gcm", "integrity": "sha256", "pfs_group": None, "lifetime": 3600},
         "routing": {"mode": "policy"}}
    inv = inventory.load(write(tmp_path, hosts, [t]))
    pairs = dict(sheet_blocks(console.render_console(inv, "gw"))[0])
    assert pairs["IKE version"] == "IKEv2"
    assert "Phase 1 Negotiation Mode" not in pairs  # IKEv2 has no main/aggressive mode
    assert pairs["Encryption Algorithm"] == "aes-256-gcm-16"
    assert pairs["Perfect Forward Secrecy"] == "disabled"
    assert pairs["Tunnel interface MTU"] == "1391 bytes" and pairs["TCP MSS Adjustment"] == "1351 bytes"
    assert pairs["Customer Gateway"] == "198.18.16.0/24" and pairs["Virtual Private Gateway"] == "198.19.64.0/24"
    assert "Clear Don't Fragment Bit" not in pairs  # AWS's recommendation, not the generic profile's


# --- CTyun -------------------------------------------------------------------------------------
def seed_tables(text: str) -> list[list[str]]:
    """First-column labels of each '参数/配置 说明 取值样例' table in the seed excerpt."""
    tables: list[list[str]] = []
    current: list[str] | None = None
    for ln in text.splitlines():
        if re.match(r"^(参数|配置)\t说明\t取值样例", ln):
            current = []
            tables.append(current)
            continue
        if current is None or not ln.strip():
            continue
        if "\t" not in ln:
            current = None
            continue
        label = ln.split("\t", 1)[0].strip()
        if label:
            current.append(label)
    return tables


def ctyun_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> inventory.Inventory:
    monkeypatch.setenv("TS_UNIT_CTYUN_PSK", "ctyun.key_01")
    hosts = {"ctyun-gw": {"data": {"role": "cloud", "provider": "ctyun", "public_ips": ["203.0.113.10"],
                                   "vpc_subnets": ["198.19.16.0/24", "198.19.17.0/24"]}},
             "idc": {"hostname": "198.18.0.2", "platform": "strongswan",
                     "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.113",
                              "lan_subnets": ["198.18.16.0/24"]}},
             "idc2": {"hostname": "198.18.0.6", "platform": "strongswan",
                      "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.114",
                               "lan_subnets": ["198.18.32.0/24"]}}}
    tunnels = [
        {"name": "connection-1", "cloud": "ctyun-gw", "device": "idc", "psk": {"env": "TS_UNIT_CTYUN_PSK"},
         "ike": {"version": 2, "integrity": "sha256", "dh_group": 14}, "ipsec": {"pfs_group": 14},
         "routing": {"mode": "policy"}},
        {"name": "connection-2", "cloud": "ctyun-gw", "device": "idc2", "psk": {"env": "TS_UNIT_CTYUN_PSK"},
         "initiation": "trap",
         "routing": {"mode": "static", "inside": {"local": "169.254.20.2/30", "remote": "169.254.20.1"},
                     "routes": ["198.19.16.0/24"]}},
    ]
    return inventory.load(write(tmp_path, hosts, tunnels))


def test_ctyun_console_uses_every_seed_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = seed_tables(body(DATA / "ctyun-guide-console.txt"))
    # user gateway, connection (key auth), (cert auth), (national crypto), IKE 策略, IPsec 策略, 目的路由
    assert len(tables) == 7
    wanted = [*tables[0], *tables[1], *tables[4], *tables[5], *tables[6]]
    assert "预共享密钥" in wanted and "DH 算法" in wanted and "生命周期（秒）" in wanted and "权重" in wanted
    text = console.render_console(ctyun_inventory(tmp_path, monkeypatch), "ctyun-gw")
    starts = {ln.split(" [", 1)[0] for ln in text.splitlines() if " [" in ln}
    missing = [label for label in wanted if label not in starts]
    assert not missing, f"labels of seed 001 missing from the console text: {missing}\n{text}"


def field(text: str, section: str, label: str) -> str:
    """The value after `label [...] :` in the first block that mentions `section`."""
    block = text[text.index(section):]
    m = re.search(rf"^{re.escape(label)} \[[^\]]*\]\s*:\s*(.*)$", block, flags=re.M)
    assert m, (label, block)
    return m.group(1).strip()


def test_ctyun_console_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = console.render_console(ctyun_inventory(tmp_path, monkeypatch), "ctyun-gw")
    c1 = "名称 [name]                 : connection-1"
    assert field(text, c1, "路由模式").startswith("感兴趣路由")
    assert field(text, c1, "本端子网") == "198.19.16.0/24, 198.19.17.0/24"  # VPC side
    assert field(text, c1, "对端网段") == "198.18.16.0/24"                  # on-prem side
    assert field(text, c1, "LocalId") == "203.0.113.10" and field(text, c1, "RemoteId") == "198.51.100.113"
    assert field(text, c1, "认证算法") == "SHA256" and field(text, c1, "DH 算法") == "Group 14"
    assert field(text, c1, "版本") == "v2" and field(text, c1, "加密算法") == "AES-128"  # profile default
    assert field(text, c1, "PFS") == "DH group 14" and field(text, c1, "传输协议") == "ESP"
    assert field(text, c1, "预共享密钥").startswith(secretmod.MASK)
    assert "ctyun.key_01" not in text
    c2 = "名称 [name]                 : connection-2"
    assert field(text, c2, "路由模式").startswith("目的路由")
    assert field(text, c2, "协商生效").startswith("流量触发")
    assert field(text, c2, "目标网段") == "198.18.32.0/24"  # the route to the on-prem LAN (3.1.2.2)
    assert field(text, c2, "下一跳") == "connection-2"
    assert "目标网段" not in text[:text.index(c2)]  # the policy-based connection needs no routes
    assert field(text, "IP 地址", "IP 地址") == "198.51.100.113"


def test_ctyun_console_shows_secrets_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = console.render_console(ctyun_inventory(tmp_path, monkeypatch), "ctyun-gw", show_secrets=True)
    c1 = "名称 [name]                 : connection-1"
    assert field(text, c1, "预共享密钥") == "ctyun.key_01" == field(text, c1, "确认密钥")


# --- JD Cloud ----------------------------------------------------------------------------------
def test_jdcloud_console_lab_inventory(lab_secrets: dict[str, str]) -> None:
    inv = inventory.load(Path(__file__).resolve().parents[2] / "inventory" / "lab")
    text = console.render_console(inv, "jd-gw")
    assert "公网地址 (public IP)        : 198.51.100.20" in text
    assert "启用BGP路由 (BGP routing)   : 否" in text
    assert "云端公网地址 (cloud public IPs, allocated): 203.0.113.20, 203.0.113.21" in text
    t1 = text[text.index("VPN 隧道 (VPN tunnel) 1: jd-b-1"):text.index("VPN 隧道 (VPN tunnel) 2")]
    assert "云端公网地址 (cloud public IP)   : 203.0.113.20" in t1
    assert "隧道内层IP (inside IP, cloud)   : 169.254.10.1/30" in t1
    assert "隧道内层IP (inside IP, customer): 169.254.10.2" in t1
    assert "IKE 版本 (IKE version)          : IKEv2" in t1 and "IKE 加密算法 (encryption)       : AES256" in t1
    assert "目的端 (destination): 198.18.32.0/24" in text  # border gateway static route to the IDC LAN
    for key in lab_secrets.values():
        assert key not in text


def test_jdcloud_console_bgp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_UNIT_JD_PSK", "jd.key_1")
    hosts = {"jd": {"data": {"role": "cloud", "provider": "jdcloud", "public_ips": ["203.0.113.20", "203.0.113.21"],
                             "vpc_subnets": ["198.19.32.0/24"]}},
             "idc": {"hostname": "198.18.0.2", "platform": "strongswan",
                     "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.20",
                              "lan_subnets": ["198.18.32.0/24"], "bgp_asn": 65010}}}
    tunnels = [{"name": f"jd-{i}", "cloud": "jd", "device": "idc", "cloud_ip": ip, "psk": {"env": "TS_UNIT_JD_PSK"},
                "routing": {"mode": "bgp", "inside": {"local": f"169.254.10.{4 * i - 2}/30",
                                                      "remote": f"169.254.10.{4 * i - 3}"}}}
               for i, ip in ((1, "203.0.113.20"), (2, "203.0.113.21"))]
    text = console.render_console(inventory.load(write(tmp_path, hosts, tunnels)), "jd", show_secrets=True)
    assert "BGP ASN                     : 65010" in text
    assert "启用BGP路由 (BGP routing)   : 是" in text
    assert "边界网关 (border gateway) jd, BGP ASN 65000" in text
    assert text.count("预共享密钥 (pre-shared key)     : jd.key_1") == 2
    assert "边界网关静态路由" not in text  # BGP: no static routes to enter
