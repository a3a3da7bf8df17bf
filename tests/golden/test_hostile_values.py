"""Hostile values, for every platform: each must give a validation problem and never a rendered config.

Written against tunnelsmith.validate.validate(inv), which reads each platform's `safety:` data,
and the render gate `load_checked` (validate, then load) that every rendering command goes
through. Each platform's baseline inventory validates cleanly (checked below), so every problem
comes from the one hostile value a case sets. A case names the inventory field it spoils, the
problem field it must produce and a fragment of that problem's message (why it is refused).

`EVERYWHERE` holds values no platform may take (control characters, quotes, injected lines);
`PLATFORM_CASES` the ones that depend on a platform's CLI (its interface names, `?` help, blanks
around an unquoted key, name lengths). A new platform needs a row in `BASELINES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tunnelsmith.runbooks.common import load_checked

from tunnelsmith import inventory, render
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.validate import validate

PSK_ENV = "TS_HOSTILE_PSK"
GOOD_PSK = "Gx7-kP2q_Rm9vT4w"
IKEV1_AES128 = ({"version": 1, "encryption": "aes-128", "integrity": "sha1", "dh_group": 14, "lifetime": 86400},
                {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14, "lifetime": 3600})
IKEV2_AES256 = ({"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800},
                {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600})


@dataclass(frozen=True)
class Baseline:
    """A clean device for the platform: a real WAN interface name and algorithms it can do."""

    wan: str
    ike: dict[str, Any]
    ipsec: dict[str, Any]


BASELINES = {
    "cisco_ios": Baseline("GigabitEthernet0/0", *IKEV1_AES128),
    "hillstone_stoneos": Baseline("ethernet0/0", *IKEV1_AES128),
    "hp_comware": Baseline("GigabitEthernet1/0", *IKEV1_AES128),
    "huawei_vrp": Baseline("GigabitEthernet0/0/8", *IKEV1_AES128),
    "juniper_junos": Baseline("ge-0/0/3", *IKEV2_AES256),
    "strongswan": Baseline("wan0", *IKEV1_AES128),
}
PLATFORMS = pspec.available()

# inventory field a case spoils -> the Problem.field it must be reported under
FIELDS = {"psk": "psk", "wan": "data.wan_interface", "name": "name", "local_id": "identities.local"}
WAN = "<wan>"  # stands for the platform's good WAN interface name

NEWLINE, QUOTE, NOT_A_NAME = "a newline", "'\"'", "cannot become an object name"
NOT_AN_INTERFACE, SEVERAL = "is not an interface name", "looks like several values"
EDGE_BLANK = "starts or ends with a blank"

# (field, id, hostile value, message fragment): refused on every platform
EVERYWHERE = [
    ("psk", "newline", "abc\nsave", NEWLINE),
    ("psk", "cr", "abc\rdef", "a carriage return"),
    ("psk", "del", "abc\x7fdef", "U+007F"),
    ("psk", "esc", "abc\x1bdef", "U+001B"),
    ("psk", "quote", 'quo"ted-key', QUOTE),
    ("psk", "tab", "tab\tkey", "a tab"),
    ("wan", "newline", WAN + "\nsave", NEWLINE),
    ("wan", "injection", WAN + " ; reboot", SEVERAL),
    ("name", "quote", 'tun"1', NOT_A_NAME),
    ("name", "newline", "tun\n1", NEWLINE),
    ("name", "blank", "tun 1", NOT_A_NAME),
    ("name", "question-mark", "t?1", NOT_A_NAME),
    ("local_id", "quote", 'id"quote', QUOTE),
    ("local_id", "newline", "id\nnext", NEWLINE),
]

# Unquoted-key CLIs with `?` help (Comware, StoneOS, VRP): the same checks, with each one's foreign name.
_QUESTION_MARK_CLIS = [
    (platform, row)
    for platform, foreign_wan in (("hp_comware", "ge-0/0/3"), ("hillstone_stoneos", "GigabitEthernet0/0"),
                                  ("huawei_vrp", "ge-0/0/3"))
    for row in [
        ("psk", "question-mark", "what?ever1", "'?'"),
        ("psk", "leading-blank", " leading-blank", EDGE_BLANK),
        ("psk", "trailing-blank", "trailing-blank ", EDGE_BLANK),
        ("wan", "foreign-name", foreign_wan, NOT_AN_INTERFACE),  # a real interface name of another platform
        ("name", "too-long", "x" * 64, NOT_A_NAME),
        ("local_id", "question-mark", "id?help", "'?'"),
    ]
]

# (platform, (field, id, hostile value, message fragment)): refused on that platform
PLATFORM_CASES = _QUESTION_MARK_CLIS + [("cisco_ios", row) for row in [
    ("psk", "question-mark", "TsHostile?cisco1", "'?'"),  # `?` opens IOS's CLI help in the middle of the line
    ("psk", "blank", "TsHostile cisco2", "' '"),  # a blank ends the key word: the rest becomes garbage arguments
    ("psk", "leading-blank", " TsHostileLead3", EDGE_BLANK),  # leading/trailing blanks are lost by the CLI
    ("psk", "trailing-blank", "TsHostileTrail4 ", EDGE_BLANK),
    ("psk", "newline", "TsHostile5\nshutdown", NEWLINE),  # a newline would inject a second configuration line
    ("psk", "bel", "TsHostile6\x07ctl", "U+0007"),  # control character
    ("psk", "quote", 'TsHostile"quote7', QUOTE),  # IOS keeps quotes: the key would differ from the cloud's
    ("wan", "junos-name", "ge-0/0/3", NOT_AN_INTERFACE),
    ("wan", "linux-name", "wan0", NOT_AN_INTERFACE),  # the lab's Linux name (IOS reads "eth0" as Ethernet0)
    ("wan", "newline", "GigabitEthernet0/0\nshutdown", NEWLINE),
    ("wan", "cli-help", "GigabitEthernet0/0 ?", SEVERAL),
    ("wan", "semicolon", "Gi0/0;reload", NOT_AN_INTERFACE),
    ("name", "blank", "bad name", NOT_A_NAME),
    ("name", "question-mark", "x?y", NOT_A_NAME),
    ("name", "semicolon", "semi;colon", NOT_A_NAME),
    ("name", "newline", "new\nline", NEWLINE),
    ("name", "leading-dash", "-leading-dash", NOT_A_NAME),
    ("name", "too-long", "a" * 40, NOT_A_NAME),
    ("local_id", "cli-help", "vpn.example.com ?", SEVERAL),
    ("local_id", "newline", "id\nwith-newline", NEWLINE),
    ("local_id", "blank", "with blank", SEVERAL),
]] + [("juniper_junos", row) for row in [
    # Junos writes the PSK as ascii-text "...": a quote or a backslash would end or escape the string.
    ("psk", "quote", 'TsHostile"junos1', QUOTE),  # would end the quoted string: the rest becomes CLI words
    ("psk", "backslash", "TsHostile\\junos2", "'\\\\'"),  # escape character inside the quoted string
    ("psk", "leading-blank", " TsHostileLead3j", EDGE_BLANK),
    ("psk", "trailing-blank", "TsHostileTrail4j ", EDGE_BLANK),
    ("psk", "newline", "TsHostile5j\nset system root-authentication plain-text-password", NEWLINE),
    ("psk", "esc", "TsHostile6j\x1bctl", "U+001B"),
    ("wan", "ios-name", "GigabitEthernet0/0", NOT_AN_INTERFACE),
    ("wan", "ios-short-name", "g0/0", NOT_AN_INTERFACE),
    ("wan", "linux-name", "eth0", NOT_AN_INTERFACE),
    ("wan", "newline", "ge-0/0/3\ndelete security", SEVERAL),
    ("wan", "semicolon", "ge-0/0/3; delete", SEVERAL),
    ("name", "quote", 'q"uote', NOT_A_NAME),
    ("name", "blank", "bad name", NOT_A_NAME),
    ("name", "semicolon", "semi;colon", NOT_A_NAME),
    ("name", "brace", "brace{", NOT_A_NAME),
    ("name", "newline", "new\nline", NEWLINE),
    ("name", "too-long", "a" * 40, NOT_A_NAME),
    ("local_id", "quote", 'vpn"example.com', QUOTE),
    ("local_id", "newline", "id\nnext", NEWLINE),
    ("local_id", "blank", "with blank", SEVERAL),
    ("local_id", "semicolon", "semi;colon", "';'"),
]]

# Real interface names each platform must accept.
ACCEPTED_WANS = [("cisco_ios", wan) for wan in ("g0/0", "Gi0/0/1", "TenGigabitEthernet1/1/1", "Dialer1",
                                                "GigabitEthernet0/0.100")] + \
                [("juniper_junos", wan) for wan in ("ge-0/0/0.0", "xe-1/0/0", "reth0.0", "ae1.100", "irb.0")]

# Keys a platform writes quoted, so a blank inside is fine: (platform, psk, the rendered key line).
ACCEPTED_PSKS = [
    ("juniper_junos", "TsHostile two words 9Kz", 'pre-shared-key ascii-text "TsHostile two words 9Kz"\n'),
]


def make(tmp: Path, platform: str, *, wan: str | None = None, name: str = "tun1", local_id: str | None = None,
         route_based: bool = False) -> Path:
    base = BASELINES[platform]
    hosts: dict[str, Any] = {
        "gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10"],
                        "vpc_subnets": ["192.168.10.0/24"]}},
        "dev": {"hostname": "dev.example.invalid", "platform": platform, "username": "admin",
                "data": {"role": "device", "wan_interface": base.wan if wan is None else wan,
                         "public_ip": "198.51.100.10", "lan_subnets": ["172.16.10.0/24"]}},
    }
    routing: dict[str, Any] = {"mode": "policy"}
    if route_based:
        routing = {"mode": "static", "inside": {"local": "169.254.30.2/30", "remote": "169.254.30.1"},
                   "routes": ["192.168.10.0/24"]}
    tunnel: dict[str, Any] = {"name": name, "cloud": "gw", "device": "dev", "psk": {"env": PSK_ENV},
                              "ike": base.ike, "ipsec": base.ipsec, "routing": routing}
    if local_id is not None:
        tunnel["identities"] = {"local": local_id}
    (tmp / "hosts.yaml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    (tmp / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [tunnel]}), encoding="utf-8")
    return tmp


def problems(tmp: Path) -> list[Problem]:
    try:
        inv = inventory.load(tmp)
    except InventoryError as exc:  # the loader refusing the value is as good as validation refusing it
        return exc.problems
    return validate(inv)


def assert_refused(tmp: Path, monkeypatch: pytest.MonkeyPatch, platform: str, field: str, value: str,
                   why: str) -> None:
    """Set the one hostile value; it must be reported under its field, for its reason, and block rendering."""
    if field == "psk":
        monkeypatch.setenv(PSK_ENV, value)
        make(tmp, platform)
    else:
        make(tmp, platform, **{field: value.replace(WAN, BASELINES[platform].wan)})
    found = problems(tmp)
    assert any(p.field == FIELDS[field] and why in p.message for p in found), [str(p) for p in found]
    if field == "psk" and value.strip():
        assert all(value not in str(p) for p in found)  # the secret is never echoed
    with pytest.raises(InventoryError):  # the render gate: nothing is ever rendered
        load_checked(str(tmp))


def _with_baseline(platforms: list[str]) -> list[str]:
    return [p for p in platforms if p in BASELINES]


@pytest.fixture(autouse=True)
def good_psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSK_ENV, GOOD_PSK)


def test_every_platform_has_a_baseline() -> None:
    assert sorted(BASELINES) == PLATFORMS


def test_platform_cases_name_present_platforms() -> None:
    assert {row[0] for row in [*PLATFORM_CASES, *ACCEPTED_WANS, *ACCEPTED_PSKS]} <= set(PLATFORMS)


@pytest.mark.parametrize("route_based", [False, True], ids=["policy", "route-based"])
@pytest.mark.parametrize("platform", _with_baseline(PLATFORMS))
def test_baseline_is_clean(tmp_path: Path, platform: str, route_based: bool) -> None:
    assert problems(make(tmp_path, platform, route_based=route_based)) == []
    assert load_checked(str(tmp_path)).devices["dev"].platform == platform


@pytest.mark.parametrize(("platform", "field", "value", "why"), [
    pytest.param(platform, field, value, why, id=f"{platform}-{field}-{label}")
    for platform in _with_baseline(PLATFORMS) for field, label, value, why in EVERYWHERE
])
def test_refused_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str, field: str,
                            value: str, why: str) -> None:
    assert_refused(tmp_path, monkeypatch, platform, field, value, why)


@pytest.mark.parametrize(("platform", "field", "value", "why"), [
    pytest.param(platform, field, value, why, id=f"{platform}-{field}-{label}")
    for platform, (field, label, value, why) in PLATFORM_CASES
])
def test_refused_on_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str, field: str,
                             value: str, why: str) -> None:
    assert_refused(tmp_path, monkeypatch, platform, field, value, why)


@pytest.mark.parametrize(("platform", "wan"), ACCEPTED_WANS)
def test_real_interface_names_are_accepted(tmp_path: Path, platform: str, wan: str) -> None:
    assert problems(make(tmp_path, platform, wan=wan)) == []


@pytest.mark.parametrize(("platform", "psk", "line"), ACCEPTED_PSKS, ids=[p for p, _, _ in ACCEPTED_PSKS])
def test_blank_inside_a_quoted_psk_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str,
                                           psk: str, line: str) -> None:
    monkeypatch.setenv(PSK_ENV, psk)
    assert problems(make(tmp_path, platform)) == []
    text = render.render_device(load_checked(str(tmp_path)), "dev").files["cli"]
    assert line in text
