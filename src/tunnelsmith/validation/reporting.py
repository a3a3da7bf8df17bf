"""Where the checks put their problems, and the one list formatter every message uses.

Each check module reports through `Report` so file names and object labels are spelt one way.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tunnelsmith.errors import Problem
from tunnelsmith.model import Inventory, Tunnel


class Report:
    """Where problems go, with the inventory's file names at hand."""

    def __init__(self, inv: Inventory):
        self.inv = inv
        d = Path(inv.directory)
        self.hosts_file = str(d / "hosts.yaml")
        self.tunnels_file = str(d / "tunnels.yaml")
        self.problems: list[Problem] = []

    def host(self, name: str, field: str, message: str) -> None:
        self.problems.append(Problem(self.hosts_file, f"host {name}", field, message))

    def tunnel(self, t: Tunnel, field: str, message: str) -> None:
        self.problems.append(Problem(t.source_file or self.tunnels_file, f"tunnel {t.name}", field, message))


def fmt(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)
