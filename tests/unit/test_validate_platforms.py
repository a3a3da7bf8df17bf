"""Platform safety rules and algorithm support, driven by each platform's own data.

Every test is parametrised over every platform folder present (`platforms.spec.available()`), so
a platform added later is covered without touching this file. Expectations come from the
platform's `safety:` section and `algorithms.yaml`, never from a platform name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import secrets as secretmod
from tunnelsmith import validate
from tunnelsmith.errors import Problem
from tunnelsmith.platforms import spec as pspec

PSK_ENV = "TS_UNIT_PLATFORM_PSK"
PLATFORMS = pspec.available()
VARIANTS = [(p, v) for p in PLATFORMS for v in [None, *pspec.load(p).variants]]
# The vendor-neutral names of templates/platforms/README.md.
UNIVERSE: dict[str, list[Any]] = {
    "ike_encryption": ["des", "3des", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm", "sm4"],
    "ike_integrity": ["md5", "sha1", "sha256", "sha384", "sha512", "sm3"],
    "ike_dh": list(range(1, 33)),
    "ipsec_encryption": ["des", "3des", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm", "sm4"],
    "ipsec_integrity": ["md5", "sha1", "sha256", "sha384", "sha512", "sm3"],
    "pfs": list(range(1, 33)),
}
FIELDS = {"ike_encryption": ("ike", "encryption"), "ike_integrity": ("ike", "integrity"),
          "ike_dh": ("ike", "dh_group"), "ipsec_encryption": ("ipsec", "encryption"),
          "ipsec_integrity": ("ipsec", "integrity"), "pfs": ("ipsec", "pfs_group")}


def inventory(tmp_path: Path, platform: str, *, wan: str = "wan0", name: str = "t1",
              options: dict[str, Any] | None = None, **tunnel: Any) -> Path:
    d = tmp_path / "inv"
    d.mkdir(parents=True)
    data: dict[str, Any] = {"role": "device", "wan_interface": wan, "public_ip": "198.51.100.10",
                            "lan_subnets": ["198.18.16.0/24"]}
    if options:
        data[platform] = options
    hosts = {"gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10"],
                             "vpc_subnets": ["198.19.16.0/24"]}},
             "dev": {"hostname": "198.18.0.2", "platform": platform, "data": data}}
    t = {"name": name, "cloud": "gw", "device": "dev", "psk": {"env": PSK_ENV},
         "ike": {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14,
                 "lifetime": 28800},
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600},
         "routing": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"}]}}
    for k, v in tunnel.items():
        t[k] = {**t[k], **v} if isinstance(v, dict) and isinstance(t.get(k), dict) else v
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": [t]}))
    return d


def at(problems: list[Problem], obj: str, field: str, *words: str) -> list[Problem]:
    return [p for p in problems if p.obj == obj and p.field == field and all(w in p.message for w in words)]


@pytest.fixture(autouse=True)
def _psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSK_ENV, "Platform1Key")
    secretmod.clear_cache()


def safety(platform: str) -> dict[str, Any]:
    return pspec.load(platform).safety()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_wan_interface_pattern(tmp_path: Path, platform: str) -> None:
    pat = pspec.load(platform).interface_pattern()
    if pat is None:
        pytest.skip(f"{platform} declares no interface_name pattern")
    probs = validate.check(inventory(tmp_path, platform, wan="wan0;reload"))
    assert at(probs, "host dev", "data.wan_interface", "wan0;reload", pat.pattern), probs


@pytest.mark.parametrize("platform", PLATFORMS)
def test_psk_forbidden_characters(tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    chars = safety(platform).get("psk_forbidden") or ""
    if safety(platform).get("quote") == "double":
        chars += '"'
    if not chars:
        pytest.skip(f"{platform} forbids no PSK character")
    for i, c in enumerate(chars):
        value = f"Ab{c}cd1234"
        monkeypatch.setenv(PSK_ENV, value)
        probs = validate.check(inventory(tmp_path / str(i), platform))
        assert at(probs, "tunnel t1", "psk", repr(c)), (c, probs)
        assert value not in "\n".join(map(str, probs))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_psk_edge_blanks(tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not safety(platform).get("psk_no_edge_blanks"):
        pytest.skip(f"{platform} keeps leading/trailing blanks")
    monkeypatch.setenv(PSK_ENV, "Abcd1234 ")
    assert at(validate.check(inventory(tmp_path, platform)), "tunnel t1", "psk", "blank")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_psk_max_length(tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    max_len = safety(platform).get("psk_max_length")
    if not max_len:
        pytest.skip(f"{platform} declares no PSK length limit")
    monkeypatch.setenv(PSK_ENV, "A" * max_len)
    assert not at(validate.check(inventory(tmp_path / "ok", platform)), "tunnel t1", "psk")
    monkeypatch.setenv(PSK_ENV, "A" * (max_len + 1))
    assert at(validate.check(inventory(tmp_path / "long", platform)), "tunnel t1", "psk", str(max_len + 1))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_tunnel_name_pattern(tmp_path: Path, platform: str) -> None:
    pattern = safety(platform).get("name_pattern") or validate.DEFAULT_NAME_PATTERN
    probs = validate.check(inventory(tmp_path, platform, name="no{good}!"))
    assert at(probs, "tunnel no{good}!", "name", pattern), probs


@pytest.mark.parametrize("platform", PLATFORMS)
def test_forbidden_in_identities(tmp_path: Path, platform: str) -> None:
    s = safety(platform)
    chars = (s.get("forbidden_in_strings") or "") + ('"\\' if s.get("quote") == "double" else "")
    chars = "".join(c for c in dict.fromkeys(chars) if c not in " ,")  # the loader refuses those itself
    if not chars:
        pytest.skip(f"{platform} forbids no character in identities")
    for i, c in enumerate(chars):
        probs = validate.check(inventory(tmp_path / str(i), platform, identities={"remote": f"peer{c}x"}))
        assert at(probs, "tunnel t1", "identities.remote", repr(c)), (c, probs)


@pytest.mark.parametrize(("platform", "variant"), VARIANTS)
@pytest.mark.parametrize("table", list(UNIVERSE))
def test_algorithm_support(tmp_path: Path, platform: str, variant: str | None, table: str) -> None:
    """Unsupported names are reported as 'platform X cannot do Y'; supported ones are not."""
    algo = pspec.load(platform).algorithms(variant)
    options = {"os_version": variant} if variant else None
    section, key = FIELDS[table]
    unsupported = [v for v in UNIVERSE[table] if not algo.supports(table, v)]
    supported = [v for v in UNIVERSE[table] if algo.supports(table, v)]
    for i, value in enumerate(unsupported[:2] + supported[:2]):
        probs = validate.check(inventory(tmp_path / str(i), platform, options=options, **{section: {key: value}}))
        hits = at(probs, "tunnel t1", f"{section}.{key}", f"platform {platform}", "cannot do", repr(value))
        assert bool(hits) == (value in unsupported), (table, value, probs)


def _guide_psk_problems(tmp_path, monkeypatch, **keys: str) -> list:  # type: ignore[no-untyped-def]
    """PSK problems of a copy of the ctyun-guide inventory, with good keys except `keys`."""
    import shutil

    from tunnelsmith import validate

    from ..conftest import INVENTORY

    d = tmp_path / "inv"
    if not d.exists():
        shutil.copytree(INVENTORY / "examples" / "ctyun-guide", d)
    for name in ("STRONGSWAN", "JUNIPER", "CISCO", "HILLSTONE", "H3C"):
        monkeypatch.setenv(f"TS_GUIDE_PSK_{name}", keys.get(name, "a-good-key-1234"))
    return [p for p in validate.check(str(d)) if p.field == "psk"]


def test_strongswan_refuses_keys_it_would_decode(tmp_path, monkeypatch) -> None:
    """A quoted swanctl secret starting with 0x/0s is decoded as hex/base64: refuse such text keys."""
    problems = _guide_psk_problems(tmp_path, monkeypatch, STRONGSWAN="0sSGVsbG8=")
    assert len(problems) == 1 and "tomyidc" in problems[0].obj and "'0s'" in problems[0].message
    assert not _guide_psk_problems(tmp_path, monkeypatch, STRONGSWAN="fine-0s-inside")


def test_short_psk_is_refused(tmp_path, monkeypatch) -> None:
    problems = _guide_psk_problems(tmp_path, monkeypatch, H3C="abc123")
    assert len(problems) == 1 and problems[0].obj == "tunnel ctyun" and "at least 8" in problems[0].message
