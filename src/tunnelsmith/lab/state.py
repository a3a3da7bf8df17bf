"""The lab's state directory and its record of everything it created.

`down` trusts only this record (never the inventory, never process names), so it is written
after every change, atomically, and lists namespaces, root-namespace links and pids (with
their start times, so a recycled pid is never mistaken for ours).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tunnelsmith import secrets as secretmod

STATE_FILE = "state.json"


def lab_path(lab_dir: str | Path | None = None) -> Path:
    """`lab_dir`, else ${TUNNELSMITH_LAB_DIR}, else the default /var/lib/tunnelsmith-lab."""
    if lab_dir is not None:
        return Path(lab_dir)
    return secretmod.expand_path("${TUNNELSMITH_LAB_DIR}")


@dataclass
class Proc:
    """A process the lab started: pid plus kernel start time (field 22 of /proc/<pid>/stat)."""

    pid: int
    start: int
    argv: list[str]

    def alive(self) -> bool:
        info = proc_stat(self.pid)
        return info is not None and info[1] == self.start and info[0] != "Z"


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of a pid, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2 :].split()
    return rest[0], int(rest[19])


@dataclass
class NodeState:
    name: str
    kind: str
    ns: str
    dir: str
    procs: dict[str, Proc] = field(default_factory=dict)  # holder, charon, sshd

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "ns": self.ns, "dir": self.dir,
                "procs": {k: asdict(v) for k, v in self.procs.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> NodeState:
        return cls(name=d["name"], kind=d["kind"], ns=d["ns"], dir=d["dir"],
                   procs={k: Proc(**v) for k, v in (d.get("procs") or {}).items()})


@dataclass
class LabState:
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # links in the root namespace
    nodes: dict[str, NodeState] = field(default_factory=dict)
    router: str | None = None

    def add_ns(self, ns: str) -> None:
        if ns not in self.namespaces:
            self.namespaces.append(ns)

    def add_link(self, link: str) -> None:
        if link not in self.links:
            self.links.append(link)

    def as_json(self) -> dict[str, Any]:
        return {"version": 1, "namespaces": self.namespaces, "links": self.links, "router": self.router,
                "nodes": {k: v.as_json() for k, v in self.nodes.items()}}


def load(lab_dir: Path) -> LabState:
    path = lab_dir / STATE_FILE
    if not path.exists():
        return LabState()
    d = json.loads(path.read_text())
    return LabState(namespaces=list(d.get("namespaces") or []), links=list(d.get("links") or []),
                    router=d.get("router"),
                    nodes={k: NodeState.from_json(v) for k, v in (d.get("nodes") or {}).items()})


def save(lab_dir: Path, st: LabState) -> None:
    lab_dir.mkdir(parents=True, exist_ok=True)
    write_private(lab_dir / STATE_FILE, json.dumps(st.as_json(), indent=2) + "\n")


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Atomic write with the final mode set before the content is visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
