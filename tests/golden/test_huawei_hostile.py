"""Hostile values for huawei_vrp: each must give a validation problem and never a rendered config.

Written against tunnelsmith.validate.validate(inv) -> list[Problem], which reads the platform's
`safety:` data. The baseline inventory (no hostile value) is checked to validate cleanly, so
every problem below is caused by the one hostile value it sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import inventory
from tunnelsmith.validate import validate

PLATFORM = "huawei_vrp"
GOOD_WAN = "GigabitEthernet0/0/8"
FOREIGN_WAN = "ge-0/0/3"  # a real interface name of another platform


def make(tmp: Path, *, wan: str = GOOD_WAN, name: str = "tun1", local_id: str | None = None) -> Path:
    hosts: dict[str, Any] = {
        "gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10"],
                        "vpc_subnets": ["192.168.10.0/24"]}},
        "dev": {"hostname": "dev.example.invalid", "platform": PLATFORM, "username": "admin",
                "data": {"role": "device", "wan_interface": wan, "public_ip": "198.51.100.10",
                         "lan_subnets": ["172.16.10.0/24"]}},
    }
    tunnel: dict[str, Any] = {
        "name": name, "cloud": "gw", "device": "dev", "psk": {"env": "TS_HOSTILE_PSK"},
        "ike": {"version": 1, "encryption": "aes-128", "integrity": "sha1", "dh_group": 14, "lifetime": 86400},
        "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14, "lifetime": 3600},
        "routing": {"mode": "policy"},
    }
    if local_id is not None:
        tunnel["identities"] = {"local": local_id}
    (tmp / "hosts.yaml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    (tmp / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [tunnel]}), encoding="utf-8")
    return tmp


def problems(tmp: Path) -> list[str]:
    try:
        inv = inventory.load(tmp)
    except Exception as exc:  # the loader refusing the value is as good as validation refusing it
        return [str(exc)]
    return [str(p) for p in validate(inv)]


@pytest.fixture(autouse=True)
def good_psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", "Gx7-kP2q_Rm9vT4w")


def test_baseline_is_clean(tmp_path: Path) -> None:
    assert problems(make(tmp_path)) == []


@pytest.mark.parametrize("psk", [
    "abc\nsave", "abc\rdef", "abc\x7fdef", "abc\x1bdef", "what?ever1", " leading-blank", "trailing-blank ",
    'quo"ted-key', "tab\tkey",
], ids=["newline", "cr", "del", "esc", "question-mark", "leading-blank", "trailing-blank", "quote", "tab"])
def test_hostile_psk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, psk: str) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", psk)
    found = problems(make(tmp_path))
    assert found and any("psk" in p for p in found)
    assert all(psk not in p for p in found if psk.strip())  # the secret is never echoed


@pytest.mark.parametrize("wan", [FOREIGN_WAN, GOOD_WAN + "\nsave", GOOD_WAN + " ; reboot"],
                         ids=["foreign-name", "newline", "injection"])
def test_hostile_interface(tmp_path: Path, wan: str) -> None:
    found = problems(make(tmp_path, wan=wan))
    assert found and any("wan_interface" in p for p in found)


@pytest.mark.parametrize("name", ['tun"1', "tun\n1", "tun 1", "t?1", "x" * 64],
                         ids=["quote", "newline", "blank", "question-mark", "too-long"])
def test_hostile_tunnel_name(tmp_path: Path, name: str) -> None:
    assert problems(make(tmp_path, name=name))


@pytest.mark.parametrize("local_id", ['id"quote', "id\nnext", "id?help"], ids=["quote", "newline", "question-mark"])
def test_hostile_identity(tmp_path: Path, local_id: str) -> None:
    found = problems(make(tmp_path, local_id=local_id))
    assert found and any("local" in p or "identit" in p for p in found)
