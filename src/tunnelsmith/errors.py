"""Errors that carry where a problem is (file, host or tunnel, field) so an operator can fix it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_SHOWN = 60
# Everything that could end, fake or reorder a line of a message: C0/C1 controls, line and
# paragraph separators, bidi and zero-width formatting characters.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def safe_text(text: str) -> str:
    """`text` with every line-breaking or direction-changing character written as an escape."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as a message may quote it: repr (escapes included), shortened to `limit` characters."""
    text = safe_text(repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def char_name(ch: str) -> str:
    """U+2028 (LINE SEPARATOR): how a message names one character."""
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'control character')})"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inventory, located precisely."""

    file: str
    obj: str  # "host onprem-a", "tunnel ctyun-a", "group x" or "" for file-level problems
    field: str  # dotted path inside the object, e.g. "ike.dh_group"
    message: str
    line: int | None = None  # 1-based line in `file`, where known

    def __str__(self) -> str:
        file = f"{self.file}:{self.line}" if self.line else self.file
        where = ": ".join(p for p in (file, self.obj, self.field) if p)
        return safe_text(f"{where}: {self.message}")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "object": self.obj, "field": self.field,
                               "message": self.message}
        if self.line:
            out["line"] = self.line
        return out


class TunnelsmithError(Exception):
    """Base class; the CLI maps subclasses to exit codes."""

    exit_code = 1


class InventoryError(TunnelsmithError):
    """The inventory cannot be used; carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(TunnelsmithError):
    exit_code = 2


class PushError(TunnelsmithError):
    """A push stopped; says how far it got so nothing is left half-configured silently."""

    def __init__(self, message: str, *, line_no: int | None = None, line: str | None = None,
                 applied: int = 0, rollback_hint: str = "", change: object = None):
        self.line_no = line_no
        self.line = line
        self.applied = applied
        self.rollback_hint = rollback_hint
        self.change = change  # platforms.base.Change: what reached the device before it stopped
        super().__init__(message)


class LabError(TunnelsmithError):
    exit_code = 2
