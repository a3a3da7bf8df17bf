"""Parser data for huawei_vrp: every tests/parsers/huawei_vrp/<command>/<case>.raw parses to its .yml.

A local stand-in for the generic runner (tests/parsers/test_parsers.py); the templates are the
ones platform.yaml names for each command key (status parsers and ping).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tunnelsmith.parsing import parse_textfsm
from tunnelsmith.platforms import spec as pspec

PLATFORM = "huawei_vrp"
CASES = Path(__file__).resolve().parents[1] / "parsers" / PLATFORM


def templates(command: str) -> list[Path]:
    spec = pspec.load(PLATFORM)
    if command == "ping":
        return [spec.directory / spec.section("ping")["template"]]
    return [spec.directory / p["template"] for p in spec.section("status").get("parsers") or []
            if p["command"] == command]


@pytest.mark.parametrize("raw", sorted(CASES.glob("*/*.raw")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(raw: Path) -> None:
    expected = yaml.safe_load(raw.with_suffix(".yml").read_text(encoding="utf-8"))["parsed_sample"]
    (template,) = templates(raw.parent.name)
    assert parse_textfsm(template, raw.read_text(encoding="utf-8")) == expected
