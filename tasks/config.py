"""Tasks that change devices: render, prepare (backup + diff), apply, roll back."""

from __future__ import annotations

from dataclasses import dataclass

from nornir.core.task import Result, Task

from tunnelsmith import render
from tunnelsmith.errors import PushError
from tunnelsmith.model import Inventory
from tunnelsmith.nr import CONNECTION, Progress
from tunnelsmith.platforms import registry
from tunnelsmith.platforms.base import Backup, Change
from tunnelsmith.render import RenderedConfig
from tunnelsmith.rundir import RunDir
from tunnelsmith.secrets import mask


@dataclass
class ChangePlan:
    device: str
    rendered: RenderedConfig
    backup: Backup
    diff: str


def prepare_change(task: Task, inventory: Inventory, run: RunDir, progress: Progress,
                   rotate_secrets: bool = False) -> Result:
    """Render, read what is on the device (kept as the pre-change backup), and diff."""
    name = task.host.name
    device = inventory.devices[name]
    rendered = render.render_device(inventory, name)
    run.write(name, "rendered.txt", rendered.text())
    driver = registry.driver(device.platform, device.options)
    driver.rotate_secrets = rotate_secrets
    progress(name, "connect", f"{device.username}@{device.hostname}:{device.port}")
    conn = task.host.get_connection(CONNECTION, task.nornir.config)
    backup = driver.backup(conn, rendered)
    run.write_backup(backup)
    diff = driver.diff(backup, rendered)
    run.write(name, "diff.txt", diff or "(no change)\n")
    progress(name, "diff", f"{diff.count(chr(10))} diff lines" if diff else "no change")
    return Result(host=task.host, result=ChangePlan(name, rendered, backup, diff), changed=bool(diff))


def apply_change(task: Task, inventory: Inventory, run: RunDir, plans: dict[str, ChangePlan],
                 progress: Progress, confirmed_minutes: int | None = None, rotate_secrets: bool = False) -> Result:
    """Push, commit and save; a failure says how far it got and how to roll back."""
    name = task.host.name
    plan = plans[name]
    if not plan.diff:
        return Result(host=task.host, result="no change", changed=False)
    device = inventory.devices[name]
    driver = registry.driver(device.platform, device.options)
    driver.rotate_secrets = rotate_secrets
    conn = task.host.get_connection(CONNECTION, task.nornir.config)
    progress(name, "push", "")
    change: Change | None = None
    try:
        pushed = driver.push(conn, plan.rendered, plan.backup)
        change = pushed.change
        committed = driver.commit(conn, confirmed_minutes=confirmed_minutes, change=change)
        saved = driver.save(conn, change=change)
    except PushError as exc:
        change = change or (exc.change if isinstance(exc.change, Change) else None)
        if change is not None:
            run.write_change(change)
        where = f" at line {exc.line_no}: {exc.line}" if exc.line_no else ""
        text = mask(f"push failed{where}: {exc}\n{exc.rollback_hint}\n")
        run.write(name, "push-error.txt", text)
        progress(name, "FAILED", text.splitlines()[0])
        return Result(host=task.host, result=text, failed=True, changed=exc.applied > 0)
    if change is not None:
        run.write_change(change)
    run.write(name, "push.txt", "\n".join(pushed.messages) + "\n" + committed + "\n" + saved + "\n")
    progress(name, "pushed", ", ".join(pushed.messages) or "applied")
    return Result(host=task.host, result=pushed, changed=pushed.changed)


def rollback_change(task: Task, inventory: Inventory, source: RunDir, run: RunDir, progress: Progress) -> Result:
    """Put back the pre-change backup kept by the earlier run `source`; record it in `run`."""
    name = task.host.name
    device = inventory.devices[name]
    driver = registry.driver(device.platform, device.options)
    backup = source.read_backup(name)
    conn = task.host.get_connection(CONNECTION, task.nornir.config)
    progress(name, "rollback", f"restoring the backup of run {source.run_id}")
    out = driver.rollback(conn, backup, source.read_change(name))
    run.write(name, "rollback.txt", f"restored the backup of run {source.run_id}\n{out}")
    return Result(host=task.host, result=out, changed=True)

