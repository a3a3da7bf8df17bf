"""The verdict document (JSON contract) and its table rendering."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from tunnelsmith.secrets import mask
from tunnelsmith.verify import TunnelVerdict


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def document(run_id: str, started: str, verdicts: list[TunnelVerdict], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"run_id": run_id, "started": started, "finished": now(),
                           "ok": bool(verdicts) and all(v.ok for v in verdicts),
                           "tunnels": [v.as_dict() for v in sorted(verdicts, key=lambda v: v.name)]}
    doc.update(extra)
    return doc


def to_json(doc: dict[str, Any]) -> str:
    return mask(json.dumps(doc, indent=2, default=str))


def _p2(t: dict[str, Any]) -> str:
    p2 = t["phase2"]
    up = sum(1 for c in p2 if c["state"] == "up")
    return f"{up}/{len(p2)} up"


def _ping(t: dict[str, Any]) -> str:
    p = t.get("ping")
    if not p:
        return "-"
    rtt = f" {p['rtt_ms']:.1f}ms" if p.get("rtt_ms") is not None else ""
    return f"{p['received']}/{p['sent']}{rtt}"


def to_table(doc: dict[str, Any]) -> str:
    rows = [("TUNNEL", "DEVICE", "CLOUD", "PHASE1", "PHASE2", "PING", "RESULT")]
    for t in doc["tunnels"]:
        p1 = t["phase1"]
        p1s = f"{p1['state']} (IKEv{p1.get('version')})"
        rows.append((t["name"], t["device"], t["cloud"], p1s, _p2(t), _ping(t), "OK" if t["ok"] else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for t in doc["tunnels"]:
        if t.get("diagnosis"):
            d = t["diagnosis"]
            lines.append(f"  {t['name']}: {d['class']}: {d['message']}")
    verdict = "all tunnels pass" if doc["ok"] else "some tunnels FAIL"
    lines.append(f"run {doc['run_id']}: {verdict}")
    return mask("\n".join(lines))
