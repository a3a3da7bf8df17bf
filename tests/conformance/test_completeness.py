"""Every platform folder is complete: these tests fail, never skip, while a piece is missing.

For every platform: a parser test case (`tests/parsers/<p>/<command_key>/<case>.raw` + `.yml`)
for each command key its status parsers read and for its ping parser (a platform without a ping
parser says why in `ping.unsupported`), and golden test data under `tests/data/<p>/`. For every
`cli` platform also: `emulation:` data in platform.yaml, and the vendor twin pieces TWIN.md
lists (twin/twin.yaml, grammar.yaml, interpret.py, base.j2, ping.j2, and a twin.yaml `show:`
entry with an existing template for every status command).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tunnelsmith.platforms import spec as pspec

TESTS = Path(__file__).resolve().parents[1]
TWIN_FILES = ("twin.yaml", "grammar.yaml", "interpret.py", "base.j2", "ping.j2")


def _command_texts(value: Any) -> list[str]:
    """Every command text a status command entry can stand for (whatever the options)."""
    if isinstance(value, dict):
        return [str(value["command"])]
    return [str(value)] if value else []


def _cases(platform: str, key: str) -> list[str]:
    d = TESTS / "parsers" / platform / key
    return sorted(p.stem for p in d.glob("*.raw") if p.with_suffix(".yml").exists())


def test_parser_cases_for_every_parser(platform: str) -> None:
    s = pspec.load(platform)
    keys = sorted({p["command"] for p in s.section("status").get("parsers") or []})
    missing = [k for k in keys if not _cases(platform, k)]
    ping = s.section("ping")
    if ping.get("template"):
        if not _cases(platform, "ping"):
            missing.append("ping")
    else:
        assert ping.get("unsupported"), f"{platform}: ping has no template and no `unsupported:` reason"
    assert not missing, (f"{platform}: no parser test case (tests/parsers/{platform}/<key>/<case>.raw + .yml) "
                         f"for {', '.join(missing)}")


def test_golden_test_data(platform: str) -> None:
    d = TESTS / "data" / platform
    files = [p for p in d.rglob("*") if p.is_file()] if d.is_dir() else []
    assert files, f"{platform}: no golden test data under tests/data/{platform}/"


def test_emulation_data(cli_platform: str) -> None:
    platform = cli_platform
    emu = pspec.load(platform).section("emulation")
    missing = [k for k in ("hostname", "prompts", "error") if not emu.get(k)]
    assert not missing, f"{platform}: platform.yaml `emulation:` lacks {', '.join(missing)} (README.md, emulation)"


def test_twin_pieces(cli_platform: str) -> None:
    platform = cli_platform
    s = pspec.load(platform)
    twin = s.directory / "twin"
    missing = [f"twin/{f}" for f in TWIN_FILES if not (twin / f).is_file()]
    assert not missing, f"{platform}: twin pieces missing (TWIN.md): {', '.join(missing)}"
    data = yaml.safe_load((twin / "twin.yaml").read_text(encoding="utf-8")) or {}
    shows = data.get("show") or []
    problems = []
    for key, value in (s.section("status").get("commands") or {}).items():
        for command in _command_texts(value):
            entry = next((e for e in shows if re.fullmatch(e["match"], command)), None)
            if entry is None:
                problems.append(f"no twin.yaml show: entry matches {key} {command!r}")
            elif not (twin / entry["template"]).is_file():
                problems.append(f"{key} {command!r}: twin/{entry['template']} does not exist")
    assert not problems, f"{platform}: " + "; ".join(problems)
