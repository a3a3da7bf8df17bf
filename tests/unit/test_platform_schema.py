"""The platform data schema (tunnelsmith.platforms.dataschema): shipped data passes, misspelt keys fail at load."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from tunnelsmith import reader
from tunnelsmith.platforms import dataschema
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.resources import load_yaml, platforms_root


@pytest.mark.parametrize("platform", pspec.available())
@pytest.mark.parametrize("kind", ["platform.yaml", "verify.yaml", "algorithms.yaml"])
def test_shipped_data_matches_the_schema(platform: str, kind: str) -> None:
    path = platforms_root() / platform / kind
    if path.exists():
        assert dataschema.errors(kind, load_yaml(path)) == []


def test_reader_keys_are_the_readers() -> None:
    assert tuple(dataschema.READER_KEYS) == tuple(reader.KEYS)


@pytest.mark.parametrize(("where", "key"), [
    ((), "bogus"),
    (("config",), "comit"),
    (("config", "rollback"), "negat"),
    (("status",), "parser"),
    (("safety",), "psk_max_len"),
    (("emulation",), "prompt"),
    (("emulation", "prompts"), "exce"),
    (("diagnosis",), "log_comand"),
])
def test_unknown_keys_are_rejected_with_their_path(where: tuple[str, ...], key: str) -> None:
    raw = copy.deepcopy(load_yaml(platforms_root() / "cisco_ios" / "platform.yaml"))
    node = raw
    for w in where:
        node = node[w]
    node[key] = "x"
    problems = dataschema.errors("platform.yaml", raw)
    assert len(problems) == 1
    assert problems[0].startswith(".".join(where) or "(top level)") and key in problems[0]


def test_state_map_takes_neutral_words_only() -> None:
    raw = copy.deepcopy(load_yaml(platforms_root() / "cisco_ios" / "platform.yaml"))
    raw["status"]["parsers"][0]["state_map"] = {"^Active$": "ACTIVE"}
    assert any("state_map" in p for p in dataschema.errors("platform.yaml", raw))
    del raw["status"]["parsers"][0]["state_map"]
    assert any("state_map" in p for p in dataschema.errors("platform.yaml", raw))


def test_verify_yaml_is_checked_too() -> None:
    data = copy.deepcopy(load_yaml(platforms_root() / "strongswan" / "verify.yaml"))
    data["diagnosis"]["patterns"][0]["clas"] = "x"
    assert any("diagnosis.patterns.0" in p and "clas" in p for p in dataschema.errors("verify.yaml", data))


def test_load_names_the_file_and_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "platforms"
    shutil.copytree(platforms_root() / "juniper_junos", root / "juniper_junos")
    path = root / "juniper_junos" / "platform.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["config"]["rollback"]["comands"] = raw["config"]["rollback"].pop("commands")
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setattr(pspec, "platforms_root", lambda: root)
    pspec.load.cache_clear()
    try:
        with pytest.raises(pspec.PlatformDataError) as info:
            pspec.load("juniper_junos")
    finally:
        pspec.load.cache_clear()
    assert str(path) in str(info.value) and "config.rollback" in str(info.value) and "comands" in str(info.value)
