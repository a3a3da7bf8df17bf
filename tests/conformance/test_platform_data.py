"""Every platform folder carries the data sections the generic code needs, and its parsers compile."""

from __future__ import annotations

import io

import pytest
import textfsm

from tunnelsmith import reader
from tunnelsmith.platforms import registry
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.rollback import ROLLBACK_METHODS

REQUIRED_READER_KEYS = ("ike_encryption", "ike_integrity", "ike_dh", "ipsec_encryption", "ipsec_integrity", "peer")


def test_there_are_platforms() -> None:
    assert "strongswan" in pspec.available()


def test_required_sections(platform: str) -> None:
    s = pspec.load(platform)
    problems = []
    if s.raw.get("driver") not in ("cli", "files"):
        problems.append(f"driver {s.raw.get('driver')!r} is not cli or files")
    elif registry._load_builtin() or s.raw["driver"] not in registry.DRIVERS:
        problems.append(f"no registered driver of kind {s.raw['driver']!r}")
    if not s.raw.get("netmiko_device_type"):
        problems.append("netmiko_device_type missing")
    outputs = (s.section("sides").get("device") or {}).get("outputs") or []
    if not outputs:
        problems.append("sides.device.outputs missing")
    for out in outputs:
        if not (s.directory / out["template"]).is_file():
            problems.append(f"template {out['template']} does not exist")
    if not s.section("status").get("commands"):
        problems.append("status.commands missing")
    ping = s.section("ping")
    if not ping.get("unsupported") and (not ping.get("command") or not ping.get("template")):
        problems.append("ping.command / ping.template missing (or ping.unsupported with the reason)")
    if not s.section("safety"):
        problems.append("safety missing")
    missing_keys = [k for k in REQUIRED_READER_KEYS if k not in s.section("reader")]
    if missing_keys:
        problems.append(f"reader lacks {missing_keys}")
    if s.raw.get("driver") == "cli":
        cfg = s.section("config")
        for key in ("enter", "exit", "backup", "error_patterns"):
            if not cfg.get(key):
                problems.append(f"config.{key} missing")
        method = (cfg.get("rollback") or {}).get("method")
        if method not in ROLLBACK_METHODS:
            problems.append(f"config.rollback.method {method!r} is not one of {ROLLBACK_METHODS}")
        if cfg.get("commit_confirmed") and "{minutes}" not in str(cfg["commit_confirmed"]):
            problems.append("config.commit_confirmed must contain {minutes}")
    assert not problems, f"{platform}: " + "; ".join(problems)


def test_textfsm_templates_exist_and_compile(platform: str) -> None:
    s = pspec.load(platform)
    named = [p["template"] for p in s.section("status").get("parsers") or []]
    if s.section("ping").get("template"):
        named.append(s.section("ping")["template"])
    commands = s.section("status").get("commands") or {}
    for p in s.section("status").get("parsers") or []:
        assert p["command"] in commands, f"{platform}: parser {p['template']} names unknown command {p['command']!r}"
        assert p["kind"] in ("ike", "child"), f"{platform}: parser kind {p['kind']!r}"
    if not named:
        pytest.skip(f"{platform} names no TextFSM template")
    for rel in named:
        path = s.directory / rel
        assert path.is_file(), f"{platform}: {rel} does not exist"
        textfsm.TextFSM(io.StringIO(path.read_text(encoding="utf-8")))  # raises on a broken template


def test_reader_data_is_usable(platform: str) -> None:
    s = pspec.load(platform)
    if not s.section("reader"):
        pytest.skip(f"{platform} has no reader: section (test_required_sections reports it)")
    assert reader.read(s, "") == {k: [] for k in s.section("reader")}  # regexes compile, keys known, tables exist
    for key, entry in s.section("reader").items():
        for one in [entry, *(entry.get("alternatives") or [])] if isinstance(entry, dict) else []:
            if one.get("table"):
                assert reader.reverse_table(s, one["table"]), f"{platform}: reader {key}: table {one['table']} empty"


def test_cli_error_patterns_compile_and_catch_the_emulated_error(cli_platform: str, emulation_of: object) -> None:
    import re

    s = pspec.load(cli_platform)
    emu = emulation_of(cli_platform)  # type: ignore[operator]
    pats = [re.compile(p, re.M) for p in s.section("config").get("error_patterns") or []]
    assert emu, f"{cli_platform}: platform.yaml has no `emulation:` section"
    assert any(p.search(emu["error"]) for p in pats), \
        f"{cli_platform}: no config.error_patterns entry matches the device's error text {emu['error']!r}"
