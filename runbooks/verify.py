"""`tunnelsmith verify`: read-only post-change verification of every tunnel."""

from __future__ import annotations

from tunnelsmith.runbooks.common import Context, peer_log_provider, session_logs
from tunnelsmith.tasks.check import verify_device

from tunnelsmith import report
from tunnelsmith.nr import Progress, make_nornir
from tunnelsmith.verify import TunnelVerdict


def run_verify(ctx: Context, *, limit: list[str] | None = None, wait: float = 0.0, fmt: str = "table",
               trust_on_first_use: bool = False, quiet: bool = False, started: str | None = None) -> int:
    started = started or report.now()
    progress = Progress(ctx.err, quiet=quiet)
    nr = make_nornir(ctx.inventory, limit=limit, trust_on_first_use=trust_on_first_use,
                     session_logs=session_logs(ctx.run, ctx.inventory, limit))
    try:
        agg = nr.run(task=verify_device, inventory=ctx.inventory, run=ctx.run, progress=progress, wait=wait,
                     peer_log=peer_log_provider(ctx.inventory))
    finally:
        nr.close_connections()
    verdicts: list[TunnelVerdict] = []
    errors: list[str] = []
    for host, multi in agg.items():
        r = multi[0]
        if isinstance(r.result, list):
            verdicts.extend(r.result)
        else:
            errors.append(f"{host}: {r.exception or r.result}")
    for e in errors:
        ctx.err.write(f"error: {e}\n")
    doc = report.document(ctx.run.run_id, started, verdicts, errors=errors)
    doc["ok"] = doc["ok"] and not errors
    ctx.run.write_json(None, "verdict.json", doc)
    ctx.out.write((report.to_json(doc) if fmt == "json" else report.to_table(doc)) + "\n")
    return 0 if doc["ok"] else 1
