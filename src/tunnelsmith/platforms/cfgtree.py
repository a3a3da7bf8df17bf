"""Configuration text as a tree of lines, and what a device's configuration lacks (cli driver).

The structure of a configuration (which line belongs to which sub-mode) is read from its
indentation, the way devices show their running config: a line belongs to the nearest line above
it that is indented less. Rendered CLI templates indent sub-mode lines the same way. How two
lines compare is platform data (`config.diff_ignore`, `normalize`, `compare_prefix`, `compare`,
`negation`; templates/platforms/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CfgLine:
    """One configuration line with where it sits: `path` = normalised ancestors + itself."""

    no: int  # 1-based position in its text
    text: str  # as written, indentation kept
    path: tuple[str, ...]
    ignored: bool = False  # matches config.diff_ignore: sent on push, never compared or undone
    negates: tuple[str, ...] | None = None  # config.negation: the path this line removes

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


class Comparer:
    """Turns a config line into the key two configs are compared by (normalise, compare_prefix)."""

    def __init__(self, cfg: dict[str, Any]):
        self.ignore = [re.compile(p) for p in cfg.get("diff_ignore") or []]
        self.normalize = [(re.compile(n["match"]), n.get("replace", "")) for n in cfg.get("normalize") or []]
        self.prefixes = [re.compile(p) for p in cfg.get("compare_prefix") or []]
        self.flat = cfg.get("compare", "path") == "line"
        self.negation = [re.compile(p) for p in cfg.get("negation") or []]

    def key(self, stripped: str) -> str:
        s = " ".join(stripped.split())
        for rx, repl in self.normalize:
            s = rx.sub(repl, s)
        for rx in self.prefixes:
            m = rx.search(s)
            if m:
                return m.group(1)
        return s

    def is_secret(self, stripped: str) -> bool:
        """A line compared by prefix only because the device shows its value encrypted."""
        s = " ".join(stripped.split())
        return any(rx.search(s) for rx in self.prefixes)

    def is_ignored(self, stripped: str) -> bool:
        return any(rx.search(stripped) for rx in self.ignore)

    def parse(self, text: str | Iterable[str]) -> list[CfgLine]:
        lines = text.splitlines() if isinstance(text, str) else list(text)
        out: list[CfgLine] = []
        stack: list[tuple[int, str]] = []
        for no, raw in enumerate(lines, 1):
            raw = raw.rstrip()
            stripped = raw.strip()
            if not stripped:
                continue
            ind = indent_of(raw)
            while stack and stack[-1][0] >= ind:
                stack.pop()
            key = self.key(stripped)
            ignored = self.is_ignored(stripped)
            parents = () if self.flat else tuple(k for _, k in stack)
            neg = next((m for m in (rx.search(stripped) for rx in self.negation) if m), None)
            negates = (*parents, self.key(neg.group(1))) if neg else None
            out.append(CfgLine(no, raw, (*parents, key), ignored, negates))
            if not ignored and negates is None:
                stack.append((ind, key))
        return out

    def paths(self, text: str) -> set[tuple[str, ...]]:
        return {ln.path for ln in self.parse(text) if not ln.ignored}


def missing_lines(cmp: Comparer, device_text: str, lines: list[str], rotate_secrets: bool = False
                  ) -> list[CfgLine]:
    """Rendered lines whose (path) key is not in the device's configuration.

    A secret line is compared by its prefix only (the device shows the key encrypted), so a new
    key would look present: `rotate_secrets` counts every secret line as missing, to push it.
    """
    have = cmp.paths(device_text)

    def present(ln: CfgLine) -> bool:
        if rotate_secrets and cmp.is_secret(ln.text.strip()):
            return False
        if ln.path in have:
            return True
        if ln.negates is None:
            return False
        # a `no X` line is satisfied when X (or anything below or beginning with X) is absent
        target, depth = ln.negates, len(ln.negates)
        return not any(p[: depth - 1] == target[:-1] and (p[depth - 1] == target[-1] or
                       p[depth - 1].startswith(target[-1] + " ")) for p in have if len(p) >= depth)

    return [ln for ln in cmp.parse(lines) if not ln.ignored and not present(ln)]
