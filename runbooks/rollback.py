"""`tunnelsmith rollback`: restore the pre-change backups of an earlier run, then verify."""

from __future__ import annotations

from tunnelsmith.runbooks.common import Context, session_logs
from tunnelsmith.tasks.config import rollback_change

from tunnelsmith.nr import Progress, make_nornir
from tunnelsmith.rundir import RunDir


def run_rollback(ctx: Context, source: RunDir, *, limit: list[str] | None = None,
                 trust_on_first_use: bool = False, quiet: bool = False) -> int:
    progress = Progress(ctx.err, quiet=quiet)
    hosts = [h for h in (limit or ctx.inventory.devices) if source.has_backup(h)]
    if not hosts:
        ctx.err.write(f"run {source.run_id} holds no backups for {', '.join(limit or ctx.inventory.devices)}\n")
        return 2
    nr = make_nornir(ctx.inventory, limit=hosts, trust_on_first_use=trust_on_first_use,
                     session_logs=session_logs(ctx.run, ctx.inventory, hosts))
    try:
        agg = nr.run(task=rollback_change, inventory=ctx.inventory, source=source, run=ctx.run, progress=progress)
    finally:
        nr.close_connections()
    rc = 0
    for host, multi in sorted(agg.items()):
        r = multi[0]
        if r.failed:
            rc = 1
            ctx.err.write(f"{host}: rollback failed: {r.exception or r.result}\n")
        else:
            ctx.out.write(f"{host}: restored the backup of run {source.run_id}\n")
    return rc
