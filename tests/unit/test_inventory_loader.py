"""Structural problems the loader reports (InventoryError), surfaced by validate.check.

One value per parameter (seed 001, 4.5: the cloud accepts exactly one value for each algorithm,
DH group and lifetime) is enforced on every parameter path; unknown hosts, duplicate names and
malformed addresses are located precisely.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import inventory, validate
from tunnelsmith.errors import InventoryError, Problem

HOSTS: dict[str, Any] = {
    "cgw": {"data": {"role": "cloud", "provider": "jdcloud", "public_ips": ["203.0.113.20", "203.0.113.21"],
                     "vpc_subnets": ["198.19.32.0/24"]}},
    "dev": {"hostname": "198.18.0.2", "platform": "strongswan",
            "data": {"role": "device", "wan_interface": "wan0", "public_ip": "198.51.100.10",
                     "lan_subnets": ["198.18.16.0/24"], "bgp_asn": 65010}},
}
TUNNEL: dict[str, Any] = {
    "name": "t1", "cloud": "cgw", "device": "dev", "cloud_ip": "203.0.113.20",
    "ike": {"version": 2, "mode": "main", "encryption": "aes-256", "integrity": "sha256", "dh_group": 14,
            "lifetime": 28800},
    "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600, "protocol": "esp",
              "dpd": {"enabled": True, "interval": 10, "retries": 3, "action": "restart"}},
    "identities": {"local": "198.51.100.10", "remote": "203.0.113.20"},
    "psk": {"env": "TS_UNIT_LOADER_PSK"},
    "routing": {"mode": "bgp", "inside": {"local": "169.254.10.2/30", "remote": "169.254.10.1"},
                "bgp": {"hold_time": 30}},
    "ping": {"source": "198.18.16.1", "target": "198.19.32.1", "count": 3},
    "initiation": "start", "mtu": 1399, "mss": 1359,
}


def write(tmp_path: Path, hosts: Any = None, tunnels: Any = None, groups: Any = None,
          raw_hosts: str | None = None) -> Path:
    d = tmp_path / "inv"
    d.mkdir(parents=True)
    (d / "hosts.yaml").write_text(raw_hosts if raw_hosts is not None else yaml.safe_dump(hosts or HOSTS))
    (d / "groups.yaml").write_text(yaml.safe_dump(groups or {}))
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": tunnels if tunnels is not None else [TUNNEL]}))
    return d


def set_path(node: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value


def get_path(node: dict[str, Any], path: str) -> Any:
    for k in path.split("."):
        node = node[k]
    return node


def only(problems: list[Problem], obj: str, field: str) -> Problem:
    hits = [p for p in problems if p.obj == obj and p.field == field]
    assert len(hits) == 1, "\n".join(map(str, problems))
    return hits[0]


@pytest.fixture(autouse=True)
def _psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_UNIT_LOADER_PSK", "Loader.key_123")


def test_full_tunnel_loads(tmp_path: Path) -> None:
    inv = inventory.load(write(tmp_path))
    t = inv.tunnels["t1"]
    assert (t.ike.dh_group, t.ipsec.pfs_group, t.routing.bgp.remote_asn) == (14, 14, 65000)
    assert validate.check(write(tmp_path / "again")) == []


TUNNEL_PARAMS = [
    "ike.version", "ike.mode", "ike.encryption", "ike.integrity", "ike.dh_group", "ike.lifetime",
    "ipsec.encryption", "ipsec.integrity", "ipsec.pfs_group", "ipsec.lifetime", "ipsec.protocol",
    "ipsec.dpd.enabled", "ipsec.dpd.interval", "ipsec.dpd.retries", "ipsec.dpd.action",
    "cloud_ip", "identities.local", "identities.remote", "initiation", "mtu", "mss", "routing.mode",
    "routing.inside.local", "routing.inside.remote", "ping.source", "ping.target", "ping.count",
]


@pytest.mark.parametrize("path", TUNNEL_PARAMS)
def test_two_values_for_one_tunnel_parameter(tmp_path: Path, path: str) -> None:
    t = copy.deepcopy(TUNNEL)
    value = get_path(t, path)
    set_path(t, path, [value, value])
    p = only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", path)
    assert "2 values" in p.message and "exactly one" in p.message


@pytest.mark.parametrize("path", ["ike.encryption", "ike.integrity", "ipsec.encryption", "ipsec.integrity",
                                  "ike.dh_group", "ipsec.pfs_group"])
def test_comma_list_for_one_parameter(tmp_path: Path, path: str) -> None:
    t = copy.deepcopy(TUNNEL)
    set_path(t, path, f"{get_path(t, path)},{get_path(t, path)}")
    p = only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", path)
    assert "several values" in p.message


def test_two_values_in_a_selector(tmp_path: Path) -> None:
    t = copy.deepcopy(TUNNEL)
    t["routing"] = {"mode": "policy", "selectors": [{"local": ["198.18.16.0/24", "198.18.17.0/24"],
                                                     "remote": "198.19.32.0/24"}]}
    p = only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "routing.selectors")
    assert "2 values" in p.message


@pytest.mark.parametrize(("path", "value"), [("data.wan_interface", ["wan0", "wan1"]),
                                             ("data.public_ip", ["198.51.100.10", "198.51.100.11"]),
                                             ("data.bgp_asn", [65010, 65011]), ("data.wan_mtu", [1500, 1492]),
                                             ("data.wan_nat", [True, False])])
def test_two_values_for_one_host_parameter(tmp_path: Path, path: str, value: Any) -> None:
    h = copy.deepcopy(HOSTS)
    set_path(h["dev"], path, value)
    p = only(validate.check(write(tmp_path, hosts=h)), "host dev", path)
    assert "2 values" in p.message or "IPv4 address" in p.message


def test_yaml_string_is_not_a_boolean(tmp_path: Path) -> None:
    t = copy.deepcopy(TUNNEL)
    t["ipsec"]["dpd"]["enabled"] = "no"
    assert "true or false" in only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1",
                                   "ipsec.dpd.enabled").message


@pytest.mark.parametrize("path", ["ike.encyption", "ipsec.pfs", "ipsec.dpd.intervall", "routing.bgp.hold",
                                  "routing.inside.locl", "ping.sorce", "identities.locl"])
def test_misspelt_key_is_reported_not_defaulted(tmp_path: Path, path: str) -> None:
    t = copy.deepcopy(TUNNEL)
    set_path(t, path, "x")
    assert "unknown field" in only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", path).message


@pytest.mark.parametrize(("key", "value", "word"), [("cloud", "nope", "unknown cloud gateway"),
                                                    ("device", "nope", "unknown device"),
                                                    ("device", "cgw", "unknown device")])
def test_unknown_hosts(tmp_path: Path, key: str, value: str, word: str) -> None:
    t = copy.deepcopy(TUNNEL)
    t[key] = value
    p = only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", key)
    assert word in p.message and p.file.endswith("tunnels.yaml")


def test_duplicate_host_name_in_hosts_file(tmp_path: Path) -> None:
    raw = yaml.safe_dump(HOSTS) + "dev:\n  hostname: 198.18.0.9\n"
    p = only(validate.check(write(tmp_path, raw_hosts=raw)), "", "dev")
    assert "duplicate name 'dev'" in p.message and p.file.endswith("hosts.yaml")


def test_duplicate_tunnel_name(tmp_path: Path) -> None:
    t2 = copy.deepcopy(TUNNEL)
    t2["cloud_ip"] = "203.0.113.21"
    p = only(validate.check(write(tmp_path, tunnels=[TUNNEL, t2])), "tunnel t1", "name")
    assert "duplicate tunnel name" in p.message


def test_host_and_group_with_one_name(tmp_path: Path) -> None:
    p = only(validate.check(write(tmp_path, groups={"dev": {"data": {}}})), "host dev", "")
    assert "both a host" in p.message


@pytest.mark.parametrize(("host", "path", "value", "word"), [
    ("dev", "data.public_ip", "198.51.100.300", "not a valid IPv4 address"),
    ("dev", "data.lan_subnets", ["198.18.16.1/24"], "host bits set"),
    ("cgw", "data.public_ips", ["203.0.113.x"], "not a valid IPv4 address"),
    ("cgw", "data.vpc_subnets", ["198.19.32.0/33"], "not a valid IPv4 network"),
])
def test_malformed_host_addresses(tmp_path: Path, host: str, path: str, value: Any, word: str) -> None:
    h = copy.deepcopy(HOSTS)
    set_path(h[host], path, value)
    assert word in only(validate.check(write(tmp_path, hosts=h)), f"host {host}", path).message


@pytest.mark.parametrize(("path", "value", "word"), [
    ("routing.inside.local", "169.254.10.2", "with prefix length"),
    ("routing.inside.remote", "169.254.11.1", "not in the inside network"),
    ("cloud_ip", "203.0.113.99", "not one of cgw's public IPs"),
    ("ping.target", "198.19.32", "not a valid IPv4 address"),
])
def test_malformed_tunnel_addresses(tmp_path: Path, path: str, value: Any, word: str) -> None:
    t = copy.deepcopy(TUNNEL)
    set_path(t, path, value)
    assert word in only(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", path).message


def test_plain_secret_refused_without_echoing_it(tmp_path: Path) -> None:
    t = copy.deepcopy(TUNNEL)
    t["psk"] = "Plain.Secret_1"
    problems = validate.check(write(tmp_path, tunnels=[t]))
    assert only(problems, "tunnel t1", "psk")
    assert "Plain.Secret_1" not in "\n".join(map(str, problems))


def test_asn_zero_refused(tmp_path: Path) -> None:
    h = copy.deepcopy(HOSTS)
    h["dev"]["data"]["bgp_asn"] = 0
    assert "out of range" in only(validate.check(write(tmp_path, hosts=h)), "host dev", "data.bgp_asn").message


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    t = copy.deepcopy(TUNNEL)
    t["ike"]["dh_group"] = [14, 19]
    t["ping"]["source"] = "nope"
    with pytest.raises(InventoryError) as exc:
        inventory.load(write(tmp_path, tunnels=[t]))
    assert {p.field for p in exc.value.problems} == {"ike.dh_group", "ping.source"}
