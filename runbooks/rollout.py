"""`tunnelsmith rollout`: render, show per device what will change, ask, push, then verify."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tunnelsmith.runbooks.common import Context, session_logs
from tunnelsmith.runbooks.verify import run_verify
from tunnelsmith.tasks.config import ChangePlan, apply_change, prepare_change

from tunnelsmith import report
from tunnelsmith.nr import Progress, make_nornir

Confirm = Callable[[str], bool]


def tty_confirm(question: str) -> bool:
    sys.stderr.write(question + " [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def run_rollout(ctx: Context, *, limit: list[str] | None = None, yes: bool = False,
                confirm: Confirm | None = None, interactive: bool | None = None, fmt: str = "table",
                trust_on_first_use: bool = False, confirmed_minutes: int | None = None,
                settle: float = 30.0, quiet: bool = False, rotate_secrets: bool = False) -> int:
    started = report.now()
    progress = Progress(ctx.err, quiet=quiet)
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not yes and not interactive:
        ctx.err.write("refusing to push: no --yes and no terminal to ask on\n")
        return 2
    logs = session_logs(ctx.run, ctx.inventory, limit)
    nr = make_nornir(ctx.inventory, limit=limit, trust_on_first_use=trust_on_first_use, session_logs=logs)
    try:
        agg = nr.run(task=prepare_change, inventory=ctx.inventory, run=ctx.run, progress=progress,
                     rotate_secrets=rotate_secrets)
        plans: dict[str, ChangePlan] = {}
        failed = []
        for host, multi in sorted(agg.items()):
            r = multi[0]
            if r.failed or not isinstance(r.result, ChangePlan):
                failed.append(host)
                ctx.err.write(f"{host}: cannot prepare the change: {r.exception or r.result}\n")
                continue
            plans[host] = r.result
        if failed:
            ctx.err.write(f"nothing pushed: {len(failed)} device(s) could not be read ({', '.join(failed)})\n")
            return 1
        changing = {h: p for h, p in plans.items() if p.diff}
        info = ctx.err if fmt == "json" else ctx.out  # with --format json, stdout is the verdict only
        for host, plan in sorted(plans.items()):
            if plan.diff:
                info.write(f"=== {host}: changes ===\n{plan.diff}\n")
            else:
                info.write(f"=== {host}: no change ===\n")
        if not changing:
            info.write("nothing to change on any device; not pushing\n")
        else:
            if not yes:
                ask = confirm or tty_confirm
                if not ask(f"push these changes to {len(changing)} device(s): {', '.join(sorted(changing))}?"):
                    ctx.err.write("aborted: nothing pushed\n")
                    return 2
            agg = nr.filter(filter_func=lambda h: h.name in changing).run(
                task=apply_change, inventory=ctx.inventory, run=ctx.run, plans=plans, progress=progress,
                confirmed_minutes=confirmed_minutes, rotate_secrets=rotate_secrets)
            bad = {h: m[0] for h, m in agg.items() if m[0].failed}
            for host, r in sorted(bad.items()):
                ctx.err.write(f"{host}: {r.result or r.exception}\n"
                              f"  the device may be half-configured; to restore it: tunnelsmith rollback -i "
                              f"{ctx.inventory.directory} --run {ctx.run.run_id} --limit {host}\n")
            if bad:
                ctx.run.write(None, "rollout-failed.txt", "\n".join(sorted(bad)) + "\n")
                return 1
            info.write(f"pushed to {len(changing)} device(s); verifying\n")
    finally:
        nr.close_connections()
    return run_verify(ctx, limit=limit, wait=settle if changing else 0.0, fmt=fmt,
                      trust_on_first_use=trust_on_first_use, quiet=quiet, started=started)
