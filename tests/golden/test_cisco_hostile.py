"""Hostile values for cisco_ios: each must give a validation problem and never a rendered config.

Written against tunnelsmith.validate.validate(inv), which reads cisco_ios's `safety:` data, and
the render gate `load_checked` (validate, then load) that every rendering command goes through.
The baseline inventory validates cleanly, so each problem comes from the one hostile value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tunnelsmith.runbooks.common import load_checked

from tunnelsmith import inventory
from tunnelsmith.errors import InventoryError
from tunnelsmith.validate import validate

PLATFORM = "cisco_ios"
GOOD_WAN = "GigabitEthernet0/0"


def make(tmp: Path, *, wan: str = GOOD_WAN, name: str = "tun1", local_id: str | None = None,
         route_based: bool = False) -> Path:
    hosts: dict[str, Any] = {
        "gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10"],
                        "vpc_subnets": ["192.168.10.0/24"]}},
        "dev": {"hostname": "dev.example.invalid", "platform": PLATFORM, "username": "admin",
                "data": {"role": "device", "wan_interface": wan, "public_ip": "198.51.100.10",
                         "lan_subnets": ["172.16.10.0/24"]}},
    }
    routing: dict[str, Any] = {"mode": "policy"}
    if route_based:
        routing = {"mode": "static", "inside": {"local": "169.254.30.2/30", "remote": "169.254.30.1"},
                   "routes": ["192.168.10.0/24"]}
    tunnel: dict[str, Any] = {
        "name": name, "cloud": "gw", "device": "dev", "psk": {"env": "TS_HOSTILE_PSK"},
        "ike": {"version": 1, "encryption": "aes-128", "integrity": "sha1", "dh_group": 14, "lifetime": 86400},
        "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14, "lifetime": 3600},
        "routing": routing,
    }
    if local_id is not None:
        tunnel["identities"] = {"local": local_id}
    (tmp / "hosts.yaml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    (tmp / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [tunnel]}), encoding="utf-8")
    return tmp


def problems(tmp: Path) -> list[str]:
    try:
        inv = inventory.load(tmp)
    except InventoryError as exc:  # the loader refusing the value is as good as validation refusing it
        return [str(p) for p in exc.problems]
    return [str(p) for p in validate(inv)]


def assert_refused(tmp: Path, field: str) -> None:
    found = problems(tmp)
    assert any(field in p for p in found), found
    with pytest.raises(InventoryError):  # the render gate: nothing is ever rendered
        load_checked(str(tmp))


@pytest.fixture(autouse=True)
def good_psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", "Gx7-kP2q_Rm9vT4w")


@pytest.mark.parametrize("route_based", [False, True])
def test_baseline_is_clean(tmp_path: Path, route_based: bool) -> None:
    assert problems(make(tmp_path, route_based=route_based)) == []
    assert load_checked(str(tmp_path)).devices["dev"].platform == PLATFORM


@pytest.mark.parametrize("wan", ["g0/0", "Gi0/0/1", "TenGigabitEthernet1/1/1", "Dialer1", "GigabitEthernet0/0.100"])
def test_real_ios_interface_names_are_accepted(tmp_path: Path, wan: str) -> None:
    assert problems(make(tmp_path, wan=wan)) == []


@pytest.mark.parametrize("psk", [
    "TsHostile?cisco1",          # `?` opens IOS's CLI help in the middle of the line
    "TsHostile cisco2",          # a blank ends the key word: the rest becomes garbage arguments
    " TsHostileLead3",      # leading/trailing blanks are lost by the CLI
    "TsHostileTrail4 ",
    "TsHostile5\nshutdown",     # a newline would inject a second configuration line
    "TsHostile6\x07ctl",        # control character
    'TsHostile"quote7',         # quotes are not stripped by IOS: the key would differ from the cloud's
])
def test_hostile_psk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, psk: str) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", psk)
    assert_refused(make(tmp_path), "psk")


@pytest.mark.parametrize("wan", [
    "ge-0/0/3",                       # a Junos interface name
    "wan0",                           # the lab's Linux name (IOS itself reads "eth0" as Ethernet0)
    "GigabitEthernet0/0\nshutdown",   # newline injection
    "GigabitEthernet0/0 ?",           # CLI help
    "Gi0/0;reload",
])
def test_hostile_interface(tmp_path: Path, wan: str) -> None:
    assert_refused(make(tmp_path, wan=wan), "wan_interface")


@pytest.mark.parametrize("name", ["bad name", "x?y", "semi;colon", "new\nline", "-leading-dash", "a" * 40])
def test_hostile_tunnel_name(tmp_path: Path, name: str) -> None:
    assert_refused(make(tmp_path, name=name), "name")


@pytest.mark.parametrize("local_id", ["vpn.example.com ?", "id\nwith-newline", "with blank"])
def test_hostile_identity(tmp_path: Path, local_id: str) -> None:
    assert_refused(make(tmp_path, local_id=local_id), "identities.local")
