"""Run a shipped TextFSM template over raw output; rows come back as dicts with lower-case keys."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import textfsm


@cache
def _template_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def parse_textfsm(template: Path, output: str) -> list[dict[str, Any]]:
    import io

    fsm = textfsm.TextFSM(io.StringIO(_template_text(template)))
    rows = fsm.ParseText(output)
    keys = [h.lower() for h in fsm.header]
    return [dict(zip(keys, row, strict=True)) for row in rows]
