"""The address-plan rule (LAB.md): checked on injected route text, on inventories, and for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tunnelsmith import inventory
from tunnelsmith.errors import LabError
from tunnelsmith.lab import plan

from .conftest import LAB_INVENTORY, REPO

# What `ip -4 route show table all` printed on this project's machine, plus lab links.
CLEAN = """\
default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2
198.18.0.0/30 dev ts-m-onprem-a proto kernel scope link src 198.18.0.1
local 198.18.0.1 dev ts-m-onprem-a table local proto kernel scope host src 198.18.0.1
local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1
local 192.0.2.2 dev eth0 table local proto kernel scope host src 192.0.2.2
"""


def test_clean_routes_and_own_links_pass() -> None:
    assert plan.route_conflicts(CLEAN) == []


@pytest.mark.parametrize("line, lab_range", [
    ("203.0.113.0/24 dev eth1 proto kernel scope link src 203.0.113.5", "203.0.113.0/24"),
    ("198.19.0.0/16 via 192.0.2.9 dev eth0 table 100", "198.18.0.0/15"),
    ("blackhole 169.254.0.0/16", "169.254.0.0/16"),
    ("local 198.51.100.7 dev eth0 table local proto kernel scope host src 198.51.100.7", "198.51.100.0/24"),
    ("198.0.0.0/8 dev wg0 scope link", "198.51.100.0/24"),  # broader route covering lab ranges
])
def test_conflicting_route_is_reported(line: str, lab_range: str) -> None:
    conflicts = plan.route_conflicts(CLEAN + line + "\n")
    assert len(conflicts) == 1
    assert line in conflicts[0] and lab_range in conflicts[0]


def test_conflict_on_a_foreign_prefix_link_is_reported() -> None:
    # only the lab's own prefix is exempt; "tscap-a" is someone else's link
    assert plan.route_conflicts("198.18.0.4/30 dev tscap-a scope link\n")


def _inventory_with(tmp_path: Path, host: str, key: str, value: object) -> Path:
    d = tmp_path / "inv"
    shutil.copytree(LAB_INVENTORY, d)
    hosts = yaml.safe_load((d / "hosts.yaml").read_text())
    if key in ("hostname",):
        hosts[host][key] = value
    else:
        hosts[host]["data"][key] = value
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    return d


@pytest.mark.parametrize("host, key, value, needle", [
    ("onprem-a", "public_ip", "192.0.2.50", "device onprem-a public IP 192.0.2.50"),
    ("ctyun-gw", "public_ips", ["10.1.1.1"], "cloud ctyun-gw public IP 10.1.1.1"),
    ("jd-gw", "vpc_subnets", ["192.168.1.0/24"], "cloud jd-gw VPC subnet 192.168.1.0/24"),
    ("onprem-b", "hostname", "192.0.2.77", "device onprem-b management address 192.0.2.77"),
])
def test_inventory_outside_lab_ranges_is_refused(tmp_path: Path, host: str, key: str, value: object,
                                                 needle: str) -> None:
    inv = inventory.load(_inventory_with(tmp_path, host, key, value))
    with pytest.raises(LabError) as exc:
        plan.build(inv)
    assert needle in str(exc.value)


def test_default_lab_plan() -> None:
    p = plan.build(inventory.load(LAB_INVENTORY))
    jd = p.node("jd-gw")
    assert [str(a) for a in jd.public_ips] == ["203.0.113.20", "203.0.113.21"]
    assert "198.19.16.1/24" in [str(a) for a in p.node("ctyun-gw").lo_addrs]
    a = p.node("onprem-a")
    assert (a.ns, str(a.mgmt.dev_addr), str(a.mgmt.root_addr)) == ("ts-d-onprem-a", "198.18.0.2/30", "198.18.0.1/30")
    assert str(p.node("onprem-b").mgmt.root_addr) == "198.18.0.5/30"
    assert all(len(n.ns) <= 15 and n.ns.startswith("ts-") for n in p.nodes)


def test_long_names_shorten_deterministically() -> None:
    a = plan.short_name("ts-d-", "branch-office-shanghai-01")
    b = plan.short_name("ts-d-", "branch-office-shanghai-02")
    assert len(a) <= 15 and len(b) <= 15 and a != b
    assert a == plan.short_name("ts-d-", "branch-office-shanghai-01")
    assert plan.short_name("ts-d-", "onprem-a") == "ts-d-onprem-a"


def test_up_refuses_when_root_namespace_routes_a_lab_range(tmp_path: Path) -> None:
    """For real: in a throwaway namespace holding a conflicting route, `up` refuses before creating anything."""
    ns = "ts-rtest"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", ns, "route", "add", "198.51.100.0/25", "dev", "lo"], check=True)
        code = ("import sys; from tunnelsmith import inventory, lab\n"
                "from tunnelsmith.errors import LabError\n"
                f"inv = inventory.load({str(LAB_INVENTORY)!r})\n"
                "try:\n"
                f"    lab.up(inv, {str(tmp_path / 'labdir')!r})\n"
                "except LabError as e:\n"
                "    print(e); sys.exit(3)\n")
        env = dict(os.environ, TUNNELSMITH_LAB_DIR=str(tmp_path / "labdir"))
        p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True,
                           text=True, env=env, cwd=REPO, timeout=60)
        assert p.returncode == 3, p.stdout + p.stderr
        assert "198.51.100.0/25 dev lo" in p.stdout and "refusing" in p.stdout
        assert not (tmp_path / "labdir").exists()
    finally:
        subprocess.run(["ip", "netns", "delete", ns], check=False)


def test_tunnel_interfaces_get_tunnel_namespaces_on_both_ends() -> None:
    """A twin's route-based tunnels: inside addresses go on the tunnel interfaces, not on lo."""
    inv = inventory.load(LAB_INVENTORY)
    p = plan.build(inv)
    ios, aws = p.node("lab-ios"), p.node("aws-ios")
    assert ios.tunnel_links is not None and ios.tunnel_links.subnet_of(plan.TUNNEL_LINKS)
    assert not any(a.network.subnet_of(plan.INSIDE) for a in ios.lo_addrs + aws.lo_addrs)
    assert aws.tunnel_ns == (("ios-rt1", 1), ("ios-rt2", 2))
    # strongSwan devices negotiate explicit pairs: their ends stay in the charons, inside on lo
    assert p.node("jd-gw").tunnel_ns == () and p.node("onprem-b").tunnel_links is None
    assert "169.254.10.2/32" in [str(a) for a in p.node("onprem-b").lo_addrs]
    blocks = [n.tunnel_links for n in p.nodes if n.tunnel_links is not None]
    assert len(blocks) == len(set(blocks)) == 10  # five twins and the five gateways they peer with


def test_a_lan_inside_the_tunnel_link_range_is_refused(tmp_path: Path) -> None:
    inv = inventory.load(_inventory_with(tmp_path, "jd-gw", "vpc_subnets", ["198.19.241.0/24"]))
    with pytest.raises(LabError, match=re.escape("198.19.240.0/20, which the lab keeps for tunnel interfaces")):
        plan.build(inv)
