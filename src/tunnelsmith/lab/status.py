"""LabStatus: what is up, per node, for the CLI (table) and for JSON output (as_dict)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class NodeStatus:
    name: str
    kind: str  # inet | cloud | device
    namespace: str
    ns_exists: bool
    pids: dict[str, int | None] = field(default_factory=dict)  # role -> pid when alive, None when dead
    vici: bool | None = None  # charon answers on its vici socket (None: not applicable)
    ssh: bool | None = None  # sshd answers with an SSH banner on the management address
    addresses: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.ns_exists and all(p is not None for p in self.pids.values())
                and self.vici is not False and self.ssh is not False and not self.problems)


@dataclass
class LabStatus:
    lab_dir: str
    nodes: list[NodeStatus] = field(default_factory=list)
    elapsed_s: float | None = None
    changed: list[str] = field(default_factory=list)  # what the last `up` had to create or repair

    @property
    def up(self) -> bool:
        return bool(self.nodes) and all(n.ok for n in self.nodes)

    def node(self, name: str) -> NodeStatus:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["up"] = self.up
        for n, raw in zip(self.nodes, d["nodes"], strict=True):
            raw["ok"] = n.ok
        return d

    def table(self) -> str:
        def flag(v: bool | None) -> str:
            return "-" if v is None else ("yes" if v else "NO")

        rows = [("NODE", "KIND", "NAMESPACE", "NETNS", "PIDS", "VICI", "SSH", "OK")]
        for n in self.nodes:
            pids = " ".join(f"{k}={v if v is not None else 'DEAD'}" for k, v in n.pids.items()) or "-"
            rows.append((n.name, n.kind, n.namespace, flag(n.ns_exists), pids, flag(n.vici), flag(n.ssh),
                         flag(n.ok)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        for n in self.nodes:
            lines.extend(f"  {n.name}: {p}" for p in n.problems)
        head = f"lab {'UP' if self.up else 'NOT UP'} ({self.lab_dir})"
        if self.elapsed_s is not None:
            head += f" in {self.elapsed_s:.1f} s"
        if self.changed:
            head += f"; changed: {', '.join(self.changed)}"
        return head + "\n" + "\n".join(lines)
