"""validate.check / validate.validate: one small bad inventory per rule, built in tmp_path.

Each test starts from BASE (a clean CTyun + strongSwan inventory, checked clean first) and
changes one thing; it asserts the exact file, object and field and the reason.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import secrets as secretmod
from tunnelsmith import validate
from tunnelsmith.errors import Problem

PSK_ENV = "TS_UNIT_PSK"
PSK = "Unit.Test_key42"

BASE_HOSTS: dict[str, Any] = {
    "cgw": {"data": {"role": "cloud", "provider": "ctyun", "public_ips": ["203.0.113.10"],
                     "vpc_subnets": ["198.19.16.0/24"]}},
    "dev-a": {"hostname": "198.18.0.2", "platform": "strongswan", "username": "root",
              "data": {"role": "device", "wan_interface": "wan0", "public_ip": "198.51.100.10",
                       "lan_subnets": ["198.18.16.0/24"]}},
}
BASE_TUNNEL: dict[str, Any] = {
    "name": "t1", "cloud": "cgw", "device": "dev-a",
    "ike": {"version": 1, "mode": "main", "encryption": "aes-128", "integrity": "sha1", "dh_group": 2,
            "lifetime": 86400},
    "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 2, "lifetime": 3600},
    "psk": {"env": PSK_ENV},
    "routing": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"}]},
    "ping": {"source": "198.18.16.1", "target": "198.19.16.1"},
}
JD_HOST = {"data": {"role": "cloud", "provider": "jdcloud", "public_ips": ["203.0.113.20", "203.0.113.21"],
                    "vpc_subnets": ["198.19.32.0/24"]}}
AWS_HOST = {"data": {"role": "cloud", "provider": "aws", "public_ips": ["203.0.113.30", "203.0.113.31"],
                     "vpc_subnets": ["198.19.48.0/24"]}}


def route_tunnel(name: str, cloud: str, inside: str, remote: str, routes: list[str], mode: str = "static",
                 **extra: Any) -> dict[str, Any]:
    t = copy.deepcopy(BASE_TUNNEL)
    t.update(name=name, cloud=cloud, routing={"mode": mode, "inside": {"local": inside, "remote": remote},
                                              "routes": routes})
    t["ike"] = {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800}
    t["ipsec"] = {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600}
    t.pop("ping")
    t.update(extra)
    return t


def write(tmp_path: Path, hosts: dict[str, Any] | None = None, tunnels: list[dict[str, Any]] | None = None,
          groups: dict[str, Any] | None = None, name: str = "inv") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts if hosts is not None else copy.deepcopy(BASE_HOSTS)))
    (d / "groups.yaml").write_text(yaml.safe_dump(groups or {}))
    (d / "tunnels.yaml").write_text(yaml.safe_dump(
        {"tunnels": tunnels if tunnels is not None else [copy.deepcopy(BASE_TUNNEL)]}))
    return d


def hosts(**changes: Any) -> dict[str, Any]:
    h = copy.deepcopy(BASE_HOSTS)
    h.update(copy.deepcopy(changes))
    return h


def tunnel(**changes: Any) -> dict[str, Any]:
    t = copy.deepcopy(BASE_TUNNEL)
    t.update(copy.deepcopy(changes))
    return t


def at(problems: list[Problem], obj: str, field: str) -> list[Problem]:
    return [p for p in problems if p.obj == obj and p.field == field]


def one(problems: list[Problem], obj: str, field: str, *words: str) -> Problem:
    """The problem at obj/field whose message has every word; fails listing what was found."""
    found = [p for p in at(problems, obj, field) if all(w in p.message for w in words)]
    assert found, f"no problem at {obj}/{field} with {words}; got:\n" + "\n".join(map(str, problems))
    return found[0]


@pytest.fixture(autouse=True)
def _psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSK_ENV, PSK)
    secretmod.clear_cache()


def test_base_inventory_is_clean(tmp_path: Path) -> None:
    assert validate.check(write(tmp_path)) == []


# --- subnets ---------------------------------------------------------------------------------
def test_selector_local_contains_remote(tmp_path: Path) -> None:
    t = tunnel(routing={"mode": "policy", "selectors": [{"local": "198.18.0.0/15", "remote": "198.19.16.0/24"}]})
    probs = validate.check(write(tmp_path, tunnels=[t]))
    p = one(probs, "tunnel t1", "routing.selectors[0]", "198.18.0.0/15", "contains", "198.19.16.0/24")
    assert p.file == str(tmp_path / "inv" / "tunnels.yaml")
    assert "must not overlap or contain" in p.message


def test_selector_identical_networks(tmp_path: Path) -> None:
    t = tunnel(routing={"mode": "policy", "selectors": [{"local": "198.19.16.0/24", "remote": "198.19.16.0/24"}]})
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "routing.selectors[0]", "same network")


def test_device_lan_overlapping_vpc(tmp_path: Path) -> None:
    h = hosts()
    h["dev-a"]["data"]["lan_subnets"] = ["198.18.16.0/24", "198.19.16.128/25"]
    p = one(validate.check(write(tmp_path, hosts=h)), "host dev-a", "data.lan_subnets", "198.19.16.128/25",
            "198.19.16.0/24", "cgw")
    assert p.file.endswith("hosts.yaml")


def test_route_overlapping_own_lan(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    t = route_tunnel("r1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24", "198.18.0.0/16"])
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel r1", "routing.routes", "198.18.0.0/16",
        "own LAN 198.18.16.0/24")


# --- provider profile ------------------------------------------------------------------------
@pytest.mark.parametrize(("section", "key", "value", "field"), [
    ("ike", "dh_group", 19, "ike.dh_group"),
    ("ike", "encryption", "aes-128-gcm", "ike.encryption"),
    ("ike", "integrity", "md5", "ike.integrity"),
    ("ipsec", "encryption", "aes-256-gcm", "ipsec.encryption"),
    ("ipsec", "integrity", "md5", "ipsec.integrity"),
    ("ipsec", "pfs_group", 20, "ipsec.pfs_group"),
    ("ipsec", "protocol", "ah", "ipsec.protocol"),
])
def test_value_ctyun_does_not_accept(tmp_path: Path, section: str, key: str, value: Any, field: str) -> None:
    t = tunnel()
    t[section][key] = value
    p = one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", field, "does not accept", repr(value))
    assert "CTyun" in p.message


def test_ikev1_aggressive_mode_on_aws(tmp_path: Path) -> None:
    h = hosts(aws=AWS_HOST)
    t = route_tunnel("a1", "aws", "169.254.100.2/30", "169.254.100.1", ["198.19.48.0/24"])
    t["ike"] = {"version": 1, "mode": "aggressive", "encryption": "aes-128", "integrity": "sha1", "dh_group": 2,
                "lifetime": 28800}
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "ike.mode", "aggressive", "main")


def test_lifetime_outside_aws_range(tmp_path: Path) -> None:
    h = hosts(aws=AWS_HOST)
    t = route_tunnel("a1", "aws", "169.254.100.2/30", "169.254.100.1", ["198.19.48.0/24"])
    t["ike"]["lifetime"] = 86400
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "ike.lifetime", "900-28800", "86400")


def test_bgp_on_ctyun(tmp_path: Path) -> None:
    h = hosts()
    h["dev-a"]["data"]["bgp_asn"] = 65010
    t = route_tunnel("t1", "cgw", "169.254.10.2/30", "169.254.10.1", [], mode="bgp",
                     ping={"source": "198.18.16.1", "target": "198.19.16.1"})
    t["routing"]["bgp"] = {"remote_asn": 65001}
    p = one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel t1", "routing.mode", "bgp")
    assert "policy, static" in p.message


def test_default_route_forbidden_on_ctyun(tmp_path: Path) -> None:
    t = route_tunnel("t1", "cgw", "169.254.10.2/30", "169.254.10.1", ["0.0.0.0/0"])
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "routing.routes", "0.0.0.0/0",
        "does not support")


def test_default_route_as_cloud_route_on_ctyun(tmp_path: Path) -> None:
    h = hosts()
    h["dev-a"]["data"]["lan_subnets"] = ["0.0.0.0/0"]
    t = route_tunnel("t1", "cgw", "169.254.10.2/30", "169.254.10.1", ["198.19.16.0/24"])
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel t1", "routing", "cannot add a route",
        "0.0.0.0/0")


def test_sm_gateway_has_no_psk_authentication(tmp_path: Path) -> None:
    h = hosts()
    h["cgw"]["data"]["gateway_type"] = "sm"
    t = tunnel(ike={**BASE_TUNNEL["ike"], "encryption": "sm4", "integrity": "sm3"},
               ipsec={**BASE_TUNNEL["ipsec"], "encryption": "sm4", "integrity": "sm3"})
    probs = validate.check(write(tmp_path, hosts=h, tunnels=[t]))
    one(probs, "tunnel t1", "psk", "pre-shared key", "certificate")
    one(probs, "tunnel t1", "ike.encryption", "platform strongswan cannot do", "sm4")


def test_jdcloud_connection_uses_one_routing_mode(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    h["dev-a"]["data"]["bgp_asn"] = 65010
    t1 = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    t2 = route_tunnel("j2", "jd", "169.254.10.6/30", "169.254.10.5", [], mode="bgp", cloud_ip="203.0.113.21")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t1, t2])), "tunnel j2", "routing.mode",
        "one routing mode", "bgp, static")


def test_aws_psk_constraints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSK_ENV, "0starts-with-zero")
    h = hosts(aws=AWS_HOST)
    t = route_tunnel("a1", "aws", "169.254.100.2/30", "169.254.100.1", ["198.19.48.0/24"])
    p = one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "psk", "AWS", "must not start with 0")
    assert "0starts-with-zero" not in p.message


def test_aws_dpd_timeout_minimum(tmp_path: Path) -> None:
    h = hosts(aws=AWS_HOST)
    t = route_tunnel("a1", "aws", "169.254.100.2/30", "169.254.100.1", ["198.19.48.0/24"])
    t["ipsec"]["dpd"] = {"interval": 5, "retries": 3}
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "ipsec.dpd", "at least 30", "15 s")


# --- quotas ----------------------------------------------------------------------------------
def test_ctyun_more_than_five_vpc_subnets(tmp_path: Path) -> None:
    vpcs = [f"198.19.{i}.0/24" for i in range(16, 22)]
    h = hosts()
    h["cgw"]["data"]["vpc_subnets"] = vpcs
    t = tunnel(routing={"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": v} for v in vpcs]})
    probs = validate.check(write(tmp_path, hosts=h, tunnels=[t]))
    p = one(probs, "tunnel t1", "routing.selectors", "at most 5", "VPC-side", "has 6")
    assert "198.19.21.0/24" in p.message
    assert not [q for q in at(probs, "tunnel t1", "routing.selectors") if "on-prem" in q.message]


def test_ctyun_more_than_five_onprem_subnets(tmp_path: Path) -> None:
    lans = [f"198.18.{i}.0/24" for i in range(16, 22)]
    h = hosts()
    h["dev-a"]["data"]["lan_subnets"] = lans
    t = tunnel(routing={"mode": "policy", "selectors": [{"local": lan, "remote": "198.19.16.0/24"} for lan in lans]})
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel t1", "routing.selectors", "at most 5",
        "on-prem", "has 6")


def test_ctyun_five_subnets_is_fine(tmp_path: Path) -> None:
    lans = [f"198.18.{i}.0/24" for i in range(16, 21)]
    h = hosts()
    h["dev-a"]["data"]["lan_subnets"] = lans
    t = tunnel(routing={"mode": "policy", "selectors": [{"local": lan, "remote": "198.19.16.0/24"} for lan in lans]})
    assert validate.check(write(tmp_path, hosts=h, tunnels=[t])) == []


def test_aws_policy_based_single_selector(tmp_path: Path) -> None:
    h = hosts(aws=AWS_HOST)
    h["aws"]["data"]["vpc_subnets"] = ["198.19.48.0/24", "198.19.49.0/24"]
    t = tunnel(name="a1", cloud="aws", ike={**BASE_TUNNEL["ike"], "lifetime": 28800},
               routing={"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.48.0/24"},
                                                        {"local": "198.18.16.0/24", "remote": "198.19.49.0/24"}]},
               ping={"source": "198.18.16.1", "target": "198.19.48.1"})
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "routing.selectors", "at most 1",
        "has 2")


def test_ctyun_routes_quota_per_gateway(tmp_path: Path) -> None:
    lans = [f"198.18.{i}.0/24" for i in range(100, 121)]  # 21 destination routes on the gateway
    h = hosts()
    h["dev-a"]["data"]["lan_subnets"] = lans
    t = route_tunnel("t1", "cgw", "169.254.10.2/30", "169.254.10.1", ["198.19.16.0/24"])
    p = one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "host cgw", "data.vpc_subnets", "at most 20",
            "need 21")
    assert "t1" in p.message


def test_too_many_public_ips(tmp_path: Path) -> None:
    h = hosts()
    h["cgw"]["data"]["public_ips"] = ["203.0.113.10", "203.0.113.11"]
    one(validate.check(write(tmp_path, hosts=h)), "host cgw", "data.public_ips", "1 public IP", "2 are listed")


# --- ASNs ------------------------------------------------------------------------------------
def jd_bgp(tmp_path: Path, device_asn: int, cloud_asn: int | None = None) -> list[Problem]:
    h = hosts(jd=JD_HOST)
    h["dev-a"]["data"]["bgp_asn"] = device_asn
    if cloud_asn is not None:
        h["jd"]["data"]["bgp_asn"] = cloud_asn
    t = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", [], mode="bgp", cloud_ip="203.0.113.20")
    return validate.check(write(tmp_path, hosts=h, tunnels=[t]))


def test_device_asn_equal_to_jdcloud(tmp_path: Path) -> None:
    one(jd_bgp(tmp_path, 65000), "tunnel j1", "routing.bgp.local_asn", "65000", "equals the cloud's")


def test_jdcloud_asn_is_fixed(tmp_path: Path) -> None:
    probs = jd_bgp(tmp_path, 65010, cloud_asn=65001)
    one(probs, "host jd", "data.bgp_asn", "fixed at 65000", "65001")


@pytest.mark.parametrize("asn", [23456, 65535, 4294967295, 65552])
def test_reserved_asns(tmp_path: Path, asn: int) -> None:
    probs = jd_bgp(tmp_path, asn)
    one(probs, "host dev-a", "data.bgp_asn", str(asn), "reserved")
    one(probs, "tunnel j1", "routing.bgp.local_asn", str(asn), "reserved")


def test_private_asn_is_fine(tmp_path: Path) -> None:
    assert jd_bgp(tmp_path, 64512) == []


def test_aws_reserved_customer_asn(tmp_path: Path) -> None:
    h = hosts(aws=copy.deepcopy(AWS_HOST))
    h["aws"]["data"]["bgp_asn"] = 64512
    h["dev-a"]["data"]["bgp_asn"] = 7224
    t = route_tunnel("a1", "aws", "169.254.100.2/30", "169.254.100.1", [], mode="bgp")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "routing.bgp.local_asn",
        "reserves ASN 7224")


# --- inside addresses ------------------------------------------------------------------------
@pytest.mark.parametrize(("inside", "remote", "words"), [
    ("10.255.0.2/30", "10.255.0.1", ("169.254.0.0/16", "outside")),
    ("169.254.5.2/30", "169.254.5.1", ("169.254.5.0/30", "reserves")),
    ("169.254.169.254/30", "169.254.169.253", ("169.254.169.252/30", "reserves")),
    ("169.254.100.2/29", "169.254.100.1", ("/30", "not /29")),
])
def test_aws_inside_rules(tmp_path: Path, inside: str, remote: str, words: tuple[str, ...]) -> None:
    h = hosts(aws=AWS_HOST)
    t = route_tunnel("a1", "aws", inside, remote, ["198.19.48.0/24"])
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel a1", "routing.inside.local", *words)


def test_inside_networks_of_one_device_overlap(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    t1 = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    t2 = route_tunnel("j2", "jd", "169.254.10.1/30", "169.254.10.2", ["198.19.32.0/24"], cloud_ip="203.0.113.21")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t1, t2])), "tunnel j2", "routing.inside.local",
        "overlaps", "j1", "device dev-a")


# --- cloud IPs -------------------------------------------------------------------------------
def test_two_tunnels_of_one_device_same_cloud_ip(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    t1 = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    t2 = route_tunnel("j2", "jd", "169.254.10.6/30", "169.254.10.5", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t1, t2])), "tunnel j2", "cloud_ip", "j1", "203.0.113.20")


def second_device(public_ip: str) -> dict[str, Any]:
    d = copy.deepcopy(BASE_HOSTS["dev-a"])
    d["hostname"] = "198.18.0.6"
    d["data"].update(public_ip=public_ip, lan_subnets=["198.18.32.0/24"])
    return d


def test_per_connection_cloud_ip_shared_by_two_devices(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST, **{"dev-b": second_device("198.51.100.20")})
    t1 = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    t2 = route_tunnel("j2", "jd", "169.254.10.6/30", "169.254.10.5", ["198.19.32.0/24"], cloud_ip="203.0.113.20",
                      device="dev-b")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t1, t2])), "tunnel j2", "cloud_ip", "its own outside IPs",
        "dev-a")


def test_ctyun_gateway_ip_shared_by_two_devices_is_fine(tmp_path: Path) -> None:
    h = hosts(**{"dev-b": second_device("198.51.100.20")})
    t2 = tunnel(name="t2", device="dev-b",
                routing={"mode": "policy", "selectors": [{"local": "198.18.32.0/24", "remote": "198.19.16.0/24"}]},
                ping={"source": "198.18.32.1", "target": "198.19.16.1"})
    assert validate.check(write(tmp_path, hosts=h, tunnels=[tunnel(), t2])) == []


def test_ctyun_two_devices_behind_one_public_ip(tmp_path: Path) -> None:
    h = hosts(**{"dev-b": second_device("198.51.100.10")})
    t2 = tunnel(name="t2", device="dev-b",
                routing={"mode": "policy", "selectors": [{"local": "198.18.32.0/24", "remote": "198.19.16.0/24"}]},
                ping={"source": "198.18.32.1", "target": "198.19.16.1"})
    one(validate.check(write(tmp_path, hosts=h, tunnels=[tunnel(), t2])), "tunnel t2", "cloud_ip",
        "share public IP 198.51.100.10")


# --- ping ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("source", "target", "field", "ip"), [
    ("198.18.17.1", "198.19.16.1", "ping.source", "198.18.17.1"),
    ("198.18.16.1", "198.19.17.1", "ping.target", "198.19.17.1"),
])
def test_ping_outside_protected_ranges(tmp_path: Path, source: str, target: str, field: str, ip: str) -> None:
    t = tunnel(ping={"source": source, "target": target})
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", field, ip, "not inside")


def test_ping_route_based_inside_addresses_count(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    t = route_tunnel("j1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"],
                     ping={"source": "169.254.10.2", "target": "169.254.10.1"})
    assert validate.check(write(tmp_path, hosts=h, tunnels=[t])) == []
    t["ping"] = {"source": "169.254.10.3", "target": "169.254.10.1"}
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t], name="inv2")), "tunnel j1", "ping.source",
        "169.254.10.3")


# --- secrets ---------------------------------------------------------------------------------
def test_env_secret_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PSK_ENV)
    one(validate.check(write(tmp_path)), "tunnel t1", "psk", PSK_ENV, "not set")


def secrets_file(path: Path, mode: int, values: dict[str, str]) -> Path:
    path.write_text(yaml.safe_dump(values))
    os.chmod(path, mode)
    return path


def test_secrets_file_readable_by_others(tmp_path: Path) -> None:
    f = secrets_file(tmp_path / "s.yaml", 0o644, {"t1": "A.Secret_value9"})
    t = tunnel(psk={"file": str(f), "key": "t1"})
    probs = validate.check(write(tmp_path, tunnels=[t]))
    p = one(probs, "tunnel t1", "psk", "0644", "0600")
    assert "A.Secret_value9" not in "\n".join(map(str, probs))
    assert p.file.endswith("tunnels.yaml")


def test_secrets_file_inside_inventory(tmp_path: Path) -> None:
    d = write(tmp_path)
    f = secrets_file(d / "secrets.yaml", 0o600, {"t1": "A.Secret_value9"})
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [tunnel(psk={"file": str(f), "key": "t1"})]}))
    one(validate.check(d), "tunnel t1", "psk", "inside the inventory directory")


def test_secrets_file_missing_key(tmp_path: Path) -> None:
    f = secrets_file(tmp_path / "s.yaml", 0o600, {"other": "A.Secret_value9"})
    one(validate.check(write(tmp_path, tunnels=[tunnel(psk={"file": str(f), "key": "t1"})])), "tunnel t1", "psk",
        "'t1' not found")


def test_device_password_reference_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = hosts()
    h["dev-a"]["data"]["password_ref"] = {"env": "TS_UNIT_NO_SUCH_PASSWORD"}
    monkeypatch.delenv("TS_UNIT_NO_SUCH_PASSWORD", raising=False)
    one(validate.check(write(tmp_path, hosts=h)), "host dev-a", "data.password_ref", "TS_UNIT_NO_SUCH_PASSWORD")


# --- control characters ----------------------------------------------------------------------
def test_newline_in_identity(tmp_path: Path) -> None:
    t = tunnel(identities={"local": "198.51.100.10\nleftid=evil"})
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "identities.local", "newline")


@pytest.mark.parametrize(("value", "what"), [("k\ney_1234567", "newline"), ("key_12\r34567", "carriage return"),
                                             ("key\x00_1234567", "NUL"), ("key\x1b_1234567", "U+001B")])
def test_control_character_in_psk_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str,
                                         what: str) -> None:
    if "\x00" in value:  # environment variables cannot hold NUL: use a secrets file
        f = secrets_file(tmp_path / "s.yaml", 0o600, {"t1": value})
        d = write(tmp_path, tunnels=[tunnel(psk={"file": str(f), "key": "t1"})])
    else:
        monkeypatch.setenv(PSK_ENV, value)
        d = write(tmp_path)
    probs = validate.check(d)
    p = one(probs, "tunnel t1", "psk", what)
    assert value not in p.message and value.strip() not in "\n".join(map(str, probs))


@pytest.mark.parametrize(("where", "field"), [
    (("dev-a", "username"), "username"),
    (("dev-a", "data", "wan_interface"), "data.wan_interface"),
    (("dev-a", "data", "strongswan"), "data.strongswan.format"),
    (("cgw", "data", "description"), "data.description"),
])
def test_control_character_in_host_strings(tmp_path: Path, where: tuple[str, ...], field: str) -> None:
    h = hosts()
    node = h
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = {"format": "swanctl\n"} if where[-1] == "strongswan" else "x\ny"
    one(validate.check(write(tmp_path, hosts=h)), f"host {where[0]}", field, "newline")


def test_tunnel_names_differing_in_case(tmp_path: Path) -> None:
    h = hosts(jd=JD_HOST)
    t1 = route_tunnel("Jd-1", "jd", "169.254.10.2/30", "169.254.10.1", ["198.19.32.0/24"], cloud_ip="203.0.113.20")
    t2 = route_tunnel("jd-1", "jd", "169.254.10.6/30", "169.254.10.5", ["198.19.32.0/24"], cloud_ip="203.0.113.21")
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t1, t2])), "tunnel jd-1", "name", "letter case")


# --- MTU -------------------------------------------------------------------------------------
def test_derived_mtu_below_minimum(tmp_path: Path) -> None:
    h = hosts()
    h["dev-a"]["data"]["wan_mtu"] = 600
    one(validate.check(write(tmp_path, hosts=h)), "tunnel t1", "mtu", "499", "576")


def test_mss_not_coherent_with_mtu(tmp_path: Path) -> None:
    t = tunnel(mtu=1300, mss=1280)
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "mss", "1280", "1260")


def test_explicit_mtu_above_underlay(tmp_path: Path) -> None:
    h = hosts()
    h["dev-a"]["data"]["wan_mtu"] = 1492
    t = tunnel(mtu=1500, mss=1400)
    one(validate.check(write(tmp_path, hosts=h, tunnels=[t])), "tunnel t1", "mtu", "1500", "1492")


def test_coherent_explicit_mtu_and_mss(tmp_path: Path) -> None:
    assert validate.check(write(tmp_path, tunnels=[tunnel(mtu=1300, mss=1260)])) == []


# --- all at once -----------------------------------------------------------------------------
DATA = Path(__file__).resolve().parent.parent / "data" / "invalid"


def test_many_problems_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/data/invalid/many: one inventory, nine distinct semantic problems, all reported."""
    monkeypatch.delenv("TS_INVALID_MANY_PSK_B", raising=False)
    monkeypatch.setenv("TS_INVALID_MANY_PSK_A", "Many.problems_1")
    probs = validate.check(DATA / "many")
    expected = {
        ("host lan-clash", "data.lan_subnets"),          # LAN overlaps the VPC it talks to
        ("tunnel overlap", "routing.selectors[0]"),     # local contains remote
        ("tunnel overlap", "ike.dh_group"),             # CTyun: DH 19 not accepted
        ("tunnel overlap", "ping.target"),              # ping target outside the protected range
        ("tunnel no-secret", "psk"),                    # env var not set
        ("tunnel no-secret", "routing.mode"),           # BGP on CTyun
        ("tunnel no-secret", "identities.local"),       # newline in an identity
        ("tunnel no-secret", "mss"),                    # MSS > MTU - 40
        ("host jd", "data.bgp_asn"),                    # JD Cloud's ASN is fixed at 65000
    }
    got = {(p.obj, p.field) for p in probs}
    assert expected <= got, "\n".join(map(str, probs))
    assert all(p.message for p in probs)
    assert all(p.file.endswith(("hosts.yaml", "tunnels.yaml")) for p in probs)
