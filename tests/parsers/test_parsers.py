"""Data-driven parser tests for every platform, ntc-templates style.

For each `tests/parsers/<platform>/<command_key>/<case>.raw` the platform's parsers for that
command key (`status.parsers` in its platform.yaml; for `ping`, its ping template) parse the raw
text and the rows must equal `<case>.yml`'s `parsed_sample:` list. When a command has parsers of
several kinds (e.g. `ike` and `child` over `swanctl --list-sas`), every expected row carries a
`kind:` key saying which parser produced it; an expectation without `kind:` keys is for a
command with exactly one parser. Expected rows are written from the raw text and compare
exactly: TextFSM returns strings (and lists of strings), so numbers in the .yml are quoted.
Status rows go through the parser's `state_map` as the driver does (tunnelsmith.status.map_states):
`state` is the neutral word (up | connecting | down), `vendor_state` the device's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith.parsing import parse_textfsm
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.status import map_states

HERE = Path(__file__).parent


def _cases() -> list[Any]:
    out = []
    for raw in sorted(HERE.glob("*/*/*.raw")):
        platform, key = raw.parent.parent.name, raw.parent.name
        out.append(pytest.param(platform, key, raw, id=f"{platform}/{key}/{raw.stem}"))
    return out


def _parsers(platform: str, key: str) -> list[tuple[str, Path, dict[str, str] | None]]:
    """(kind, template path, state_map) of every parser the platform declares for this command key."""
    spec = pspec.load(platform)
    if key == "ping":
        return [("ping", spec.directory / spec.section("ping")["template"], None)]
    return [(p["kind"], spec.directory / p["template"], p.get("state_map") or {})
            for p in spec.section("status").get("parsers") or [] if p["command"] == key]


@pytest.mark.parametrize(("platform", "key", "raw"), _cases())
def test_parser_case(platform: str, key: str, raw: Path) -> None:
    expected_file = raw.with_suffix(".yml")
    assert expected_file.exists(), f"{raw} has no {expected_file.name}"
    expected = (yaml.safe_load(expected_file.read_text(encoding="utf-8")) or {}).get("parsed_sample")
    assert isinstance(expected, list), f"{expected_file}: parsed_sample must be a list of rows"
    parsers = _parsers(platform, key)
    assert parsers, f"platform {platform} declares no parser for command key {key!r}"
    tagged = any("kind" in row for row in expected)
    if expected and not tagged:  # untagged rows could come from any of several parsers
        assert len(parsers) == 1, f"{expected_file}: {key!r} has {len(parsers)} parsers; tag rows with kind:"
    text = raw.read_text(encoding="utf-8")
    actual: list[dict[str, Any]] = []
    for kind, template, state_map in parsers:
        rows = parse_textfsm(template, text)
        if state_map is not None:
            assert all("state" in row for row in rows), f"{template.name}: a status row needs a state"
            rows = map_states(rows, state_map)
        actual.extend({"kind": kind, **row} if tagged else row for row in rows)
    assert actual == expected
