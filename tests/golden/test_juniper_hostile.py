"""Hostile values for juniper_junos: each must give a validation problem and never a rendered config.

Written against tunnelsmith.validate.validate(inv), which reads juniper_junos's `safety:` data,
and the render gate `load_checked`. Junos writes the PSK as ascii-text "...": a quote or a
backslash in it would end or escape the string, so they are refused; blanks inside are fine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tunnelsmith.runbooks.common import load_checked

from tunnelsmith import inventory, render
from tunnelsmith.errors import InventoryError
from tunnelsmith.validate import validate

PLATFORM = "juniper_junos"
GOOD_WAN = "ge-0/0/3"


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
        "ike": {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800},
        "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600},
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
    except InventoryError as exc:
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


def test_baseline_is_clean(tmp_path: Path) -> None:
    assert problems(make(tmp_path)) == []


def test_blank_inside_the_quoted_psk_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", "TsHostile two words 9Kz")
    assert problems(make(tmp_path)) == []
    text = render.render_device(load_checked(str(tmp_path)), "dev").files["cli"]
    assert 'pre-shared-key ascii-text "TsHostile two words 9Kz"\n' in text


@pytest.mark.parametrize("wan", ["ge-0/0/0.0", "xe-1/0/0", "reth0.0", "ae1.100", "irb.0"])
def test_real_junos_interface_names_are_accepted(tmp_path: Path, wan: str) -> None:
    assert problems(make(tmp_path, wan=wan)) == []


@pytest.mark.parametrize("psk", [
    'TsHostile"junos1',          # would end the quoted string: the rest becomes CLI words
    "TsHostile\\junos2",         # escape character inside the quoted string
    " TsHostileLead3j",
    "TsHostileTrail4j ",
    "TsHostile5j\nset system root-authentication plain-text-password",
    "TsHostile6j\x1bctl",
])
def test_hostile_psk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, psk: str) -> None:
    monkeypatch.setenv("TS_HOSTILE_PSK", psk)
    assert_refused(make(tmp_path), "psk")


@pytest.mark.parametrize("wan", [
    "GigabitEthernet0/0",          # an IOS interface name
    "g0/0",
    "eth0",
    "ge-0/0/3\ndelete security",   # newline injection
    "ge-0/0/3; delete",
])
def test_hostile_interface(tmp_path: Path, wan: str) -> None:
    assert_refused(make(tmp_path, wan=wan), "wan_interface")


@pytest.mark.parametrize("name", ['q"uote', "bad name", "semi;colon", "brace{", "new\nline", "a" * 40])
def test_hostile_tunnel_name(tmp_path: Path, name: str) -> None:
    assert_refused(make(tmp_path, name=name), "name")


@pytest.mark.parametrize("local_id", ['vpn"example.com', "id\nnext", "with blank", "semi;colon"])
def test_hostile_identity(tmp_path: Path, local_id: str) -> None:
    assert_refused(make(tmp_path, local_id=local_id), "identities.local")
