"""Errors that carry where a problem is (file, host or tunnel, field) so an operator can fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inventory, located precisely."""

    file: str
    obj: str  # "host onprem-a", "tunnel ctyun-a", "group x" or "" for file-level problems
    field: str  # dotted path inside the object, e.g. "ike.dh_group"
    message: str

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.obj, self.field) if p)
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "object": self.obj, "field": self.field, "message": self.message}


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
