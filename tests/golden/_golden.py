"""Helpers the golden tests share: reading published samples and explaining every difference.

Each golden module keeps its own notion of a "statement" (IOS paths, Junos set lines, VRP
blocks, ipsec.conf keys); what is here is the part that is the same for all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

END_HEADER = "===== END HEADER ====="


def sample_body(path: Path) -> str:
    """A copied sample without its source/licence header (everything up to the END HEADER line)."""
    text = path.read_text(encoding="utf-8")
    return text.split(END_HEADER, 1)[1].split("\n", 1)[1]


def subst(lines: list[str], pairs: dict[str, str]) -> list[str]:
    """Apply every regex substitution in `pairs` to each line, in order."""
    out = []
    for line in lines:
        for a, b in pairs.items():
            line = re.sub(a, b, line)
        out.append(line)
    return out


def explain_differences(sample_only: set[str], ours_only: set[str], *, omitted: dict[str, str],
                        added: dict[str, str]) -> None:
    """`sample_only` must be exactly what `omitted` explains, `ours_only` what `added` explains.

    Each key is a pattern that must match at least one differing statement, so a documented
    difference that no longer occurs fails too (the lists cannot go stale).
    """
    for diff, explained, what in ((sample_only, omitted, "in the sample, not rendered"),
                                  (ours_only, added, "rendered, not in the sample")):
        unexplained = sorted(s for s in diff if not any(re.search(p, s) for p in explained))
        assert not unexplained, f"{what}, without a documented reason: {unexplained}"
        unused = [p for p in explained if not any(re.search(p, s) for s in diff)]
        assert not unused, f"documented difference that no longer occurs ({what}): {unused}"


def indented_blocks(text: str, *, closer: str, lower: bool = False) -> dict[str, list[str]]:
    """Top-level command -> its indented sub-view lines (blank lines and the view's `closer` skipped)."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.strip() == closer:
            continue
        stmt = line.strip().lower() if lower else line.strip()
        if line.startswith(" "):
            blocks[current].append(stmt)
        else:
            current = stmt
            blocks.setdefault(current, [])
    return blocks


def ipsec_conf_sections(text: str, *, strict: bool, key: Callable[[str], str] | None = None,
                        value: Callable[[str, str], str] | None = None) -> dict[str, dict[str, str]]:
    """ipsec.conf -> {"config setup" or conn name: {key: value}}, comments dropped.

    `strict`: a line that is neither a section header nor key=value fails the test; otherwise it
    is skipped. `key` renames keys, `value(key, value)` rewrites values (both after stripping).
    """
    sections: dict[str, dict[str, str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head = re.match(r"^(conn \S+|config setup)$", line)
        if head:
            current = head.group(1).removeprefix("conn ")
            sections.setdefault(current, {})
            continue
        kv = re.match(r"^([a-z_]+)=(.*)$", line)
        if not (kv and current is not None):
            assert not strict, f"not ipsec.conf syntax: {raw!r}"
            continue
        k = key(kv.group(1)) if key else kv.group(1)
        v = kv.group(2).strip()
        sections[current][k] = value(k, v) if value else v
    return sections
