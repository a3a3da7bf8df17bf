"""Rollback strategies of the cli driver, chosen by the platform's `config.rollback.method`.

* `commands`: the device restores by itself (Junos `rollback 1`); the driver commits afterwards.
* `configure_replace`: a copy made on the device during backup() replaces the running config
  (IOS archive, Comware `configuration replace`).
* `reapply`: undo every line the backup lacks, re-send every backup line now missing, then check
  that the configuration equals the backup (VRP V5, StoneOS; the fallback of the others).

templates/platforms/README.md ("config.rollback") documents the data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms.base import Backup, Change, Connection
from tunnelsmith.platforms.cfgtree import CfgLine, indent_of
from tunnelsmith.platforms.dialogue import as_list, first_match

if TYPE_CHECKING:
    from tunnelsmith.platforms.cli import CliDriver

OUTPUT = "cli"  # CLI platforms render one output under this name


def backup_file_name(running: str) -> str:
    """On-device copy of a backup (configure_replace): named by content, so a Backup finds its own copy."""
    return f"tunnelsmith-{hashlib.sha256(running.encode('utf-8')).hexdigest()[:12]}.cfg"


# --- commands ------------------------------------------------------------------------------------
def by_commands(drv: CliDriver, conn: Connection, backup: Backup, change: Change | None = None) -> str:
    talk = drv.talk
    pending = change is not None and change.uncommitted
    commands = as_list(drv.rb.get("uncommitted")) if pending and drv.rb.get("uncommitted") else \
        as_list(drv.rb.get("commands"))
    out = talk.enter(conn)
    for c in commands:
        c = c if isinstance(c, dict) else {"command": c}
        res = talk.ask(conn, c["command"], as_list(c.get("confirm")))
        out += res
        talk.check(f"rollback `{c['command']}`", res, "commit_error_patterns", rollback=True)
    if drv.has_commit():
        out += drv.commit(conn)
    else:
        out += talk.leave(conn)
    return out


# --- configure_replace -----------------------------------------------------------------------------
def prepare(drv: CliDriver, conn: Connection, running: str) -> None:
    """During backup(): copy the running config to a file on the device (rollback.prepare)."""
    command = drv.rb["prepare"].format(backup_file=backup_file_name(running))
    out = drv.talk.ask(conn, command, as_list(drv.rb.get("prepare_confirm")))
    drv.talk.check(f"`{command}`", out, hint="nothing was changed yet", rollback=True)


def by_configure_replace(drv: CliDriver, conn: Connection, backup: Backup, change: Change | None = None) -> str:
    talk = drv.talk
    name = backup_file_name(backup.files.get(OUTPUT) or "")
    command = str(drv.rb["command"]).format(backup_file=name)
    out = talk.leave(conn)
    res = talk.ask(conn, command, as_list(drv.rb.get("command_confirm")))
    out += res
    talk.check(f"rollback `{command}`", res, rollback=True,
               hint="the device still runs the pushed config; restore from the backup by hand")
    return out


# --- reapply -------------------------------------------------------------------------------------
def negate(drv: CliDriver, line: str) -> str:
    """The command that undoes one line (first matching rollback.negate rule), indentation kept."""
    stripped = line.strip()
    for rule in drv.rb.get("negate") or []:
        if "indented" in rule and bool(rule["indented"]) != (indent_of(line) > 0):
            continue
        rx = re.compile(rule["match"])
        if rx.search(stripped):
            return line[: indent_of(line)] + rx.sub(rule["replace"], stripped, count=1)
    raise PushError(f"platform {drv.spec.name}: no rollback.negate rule matches "
                    f"{secretmod.mask(stripped)!r}")


def _read_now(drv: CliDriver, conn: Connection) -> str:
    """The configuration as it stands mid-rollback (candidate on commit platforms)."""
    talk = drv.talk
    if drv.rb.get("read"):
        return talk.command(conn, drv.rb["read"])
    talk.leave(conn)
    text = talk.command(conn, drv.cfg["backup"])
    talk.enter(conn)
    return text


def _send_checked(drv: CliDriver, conn: Connection, line: str, what: str) -> str:
    out = drv.talk.send_line(conn, line)
    bad = first_match(drv.talk.errors(), out)
    if bad:
        raise PushError(f"rollback: {what} {secretmod.mask(line.strip())!r} rejected:\n"
                        f"{secretmod.mask(out.strip())}",
                        rollback_hint="the device is between the pushed config and the backup; "
                        "compare its running config with the backup by hand")
    return out


def _send_in_context(drv: CliDriver, conn: Connection, items: list[tuple[list[str], str]], what: str) -> str:
    """Send lines, each after the parent lines that enter its sub-mode (exit data between blocks)."""
    out = ""
    context: list[str] = []
    leave = drv.rb.get("exit")
    for parents, line in items:
        if context != parents:
            common = 0
            while common < min(len(context), len(parents)) and context[common] == parents[common]:
                common += 1
            if leave:
                for _ in range(len(context) - common):
                    out += drv.talk.send_line(conn, leave)
            else:
                common = 0  # the CLI leaves sub-modes by itself when a parent line is sent again
            for p in parents[common:]:
                out += _send_checked(drv, conn, p, "entering")
            context = list(parents)
        out += _send_checked(drv, conn, line, what)
    if leave:
        for _ in context:
            out += drv.talk.send_line(conn, leave)
    return out


def parents(lines: list[CfgLine], target: CfgLine) -> list[str]:
    """The text of the lines that enter `target`'s sub-mode, outermost first."""
    out: list[str] = []
    for depth in range(target.depth):
        want = target.path[: depth + 1]
        match = [ln for ln in lines if ln.path == want and ln.no < target.no]
        out.append(match[-1].text if match else want[-1])
    return out


def by_reapply(drv: CliDriver, conn: Connection, backup: Backup, change: Change | None = None) -> str:
    cmp = drv.comparer()
    before = backup.files.get(OUTPUT) or ""
    before_lines = cmp.parse(before)
    before_paths = {ln.path for ln in before_lines if not ln.ignored}
    out = drv.talk.enter(conn)
    # 1. undo what the backup does not have, last block first, whole new blocks by their head line
    now_lines = [ln for ln in cmp.parse(_read_now(drv, conn)) if not ln.ignored]
    added = [ln for ln in now_lines if ln.path not in before_paths]
    added_paths = {ln.path for ln in added}
    undo: list[tuple[list[str], str]] = []
    for ln in reversed(added):
        if any(ln.path[:k] in added_paths for k in range(1, len(ln.path))):
            continue  # its parent is new too: undoing the parent removes it
        undo.append((parents(now_lines, ln), negate(drv, ln.text)))
    out += _send_in_context(drv, conn, undo, "undo")
    # 2. put back what the backup has and the device lost (lines the push replaced)
    now_paths = {ln.path for ln in cmp.parse(_read_now(drv, conn)) if not ln.ignored}
    restore = [(parents(before_lines, ln), ln.text) for ln in before_lines
               if not ln.ignored and ln.path not in now_paths]
    out += _send_in_context(drv, conn, restore, "restore")
    # 3. it must now match the backup
    final_paths = {ln.path for ln in cmp.parse(_read_now(drv, conn)) if not ln.ignored}
    if drv.has_commit():
        out += drv.commit(conn)
    else:
        out += drv.talk.leave(conn)
    if final_paths != before_paths:
        extra = sorted(" / ".join(p) for p in final_paths - before_paths)
        lost = sorted(" / ".join(p) for p in before_paths - final_paths)
        raise PushError(secretmod.mask(f"rollback incomplete: still present {extra}, still missing {lost}"),
                        rollback_hint="compare the running config with the backup by hand")
    return out


Strategy = Callable[["CliDriver", Connection, Backup, "Change | None"], str]
STRATEGIES: dict[str, Strategy] = {
    "commands": by_commands,
    "configure_replace": by_configure_replace,
    "reapply": by_reapply,
}
ROLLBACK_METHODS = tuple(STRATEGIES)
