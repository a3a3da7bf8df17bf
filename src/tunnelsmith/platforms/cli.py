"""Driver for platforms configured line by line in a configuration mode (IOS, Junos, VRP, Comware, StoneOS).

Everything vendor-specific comes from the platform's `config:` and `rollback:` data
(templates/platforms/README.md): the commands that enter and leave configuration mode, commit and
save, the regexes that say a line was rejected, how to undo a line. There is no platform-name
branch here; a new CLI platform is a new data folder.

The parts: `cfgtree` (configuration text as a tree of lines; what the device lacks), `dialogue`
(configuration mode, one line, questions and answers, error checks) and `rollback` (the three
rollback strategies). This module puts them together as the `cli` driver.
"""

from __future__ import annotations

import logging
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms import rollback as rollbackmod
from tunnelsmith.platforms.base import Backup, Change, Connection, PlatformDriver, PushResult
from tunnelsmith.platforms.cfgtree import CfgLine, Comparer, missing_lines
from tunnelsmith.platforms.dialogue import Dialogue, as_list, first_match
from tunnelsmith.platforms.kinds import register
from tunnelsmith.platforms.options import resolve  # re-exported: platforms/emulator.py imports it from here
from tunnelsmith.platforms.rollback import OUTPUT, ROLLBACK_METHODS
from tunnelsmith.render import RenderedConfig

__all__ = ["OUTPUT", "CliDriver", "resolve"]

log = logging.getLogger(__name__)


@register("cli")
class CliDriver(PlatformDriver):
    """NAPALM-style dialogue with a line-by-line CLI over a Netmiko connection."""

    def __init__(self, spec: Any, options: dict[str, Any] | None = None):
        super().__init__(spec, options)

    # --- data --------------------------------------------------------------------------
    @property
    def cfg(self) -> dict[str, Any]:
        """config: with option-dependent commands resolved for this device's options."""
        raw = self.spec.section("config")
        return {k: (v if k == "rollback" else resolve(v, self.options)) for k, v in raw.items()}

    @property
    def rb(self) -> dict[str, Any]:
        return dict(self.spec.section("config").get("rollback") or {})

    @property
    def talk(self) -> Dialogue:
        """The device dialogue with this platform's data (platforms/dialogue.py)."""
        return Dialogue(self.spec.name, self.cfg, self.rb)

    def comparer(self) -> Comparer:
        return Comparer(self.cfg)

    def has_commit(self) -> bool:
        return bool(self.cfg.get("commit"))

    @staticmethod
    def rendered_lines(rendered: RenderedConfig) -> list[str]:
        path = OUTPUT if OUTPUT in rendered.files else None
        return rendered.lines(path)

    def run_command(self, conn: Connection, command: str) -> str:
        return secretmod.mask(str(conn.send_command(command)))

    # --- configuration ---------------------------------------------------------------------
    def backup(self, conn: Connection, rendered: RenderedConfig) -> Backup:
        """The whole running config (config.backup); for configure_replace also a copy on the device."""
        running = self.talk.command(conn, self.cfg["backup"])
        if self.rb.get("method") == "configure_replace" and self.rb.get("prepare"):
            rollbackmod.prepare(self, conn, running)
        return Backup(host=rendered.host, platform=self.spec.name, files={OUTPUT: running})

    def missing(self, backup: Backup, rendered: RenderedConfig) -> list[CfgLine]:
        return missing_lines(self.comparer(), backup.files.get(OUTPUT) or "", self.rendered_lines(rendered),
                             rotate_secrets=self.rotate_secrets)

    def diff(self, backup: Backup, rendered: RenderedConfig) -> str:
        """The rendered lines the device does not have yet, masked; empty when nothing would change."""
        todo = self.missing(backup, rendered)
        if not todo:
            return ""
        body = "".join(f"+{ln.text}\n" for ln in todo)
        return secretmod.mask(f"--- {OUTPUT} (device)\n+++ {OUTPUT} (rendered)\n{body}")

    def _hint(self, applied: int, total: int) -> str:
        if self.has_commit():
            return (f"{applied} of {total} lines went into the candidate configuration; nothing was committed. "
                    "rollback() with the backup discards them")
        if not applied:
            return "no line was accepted; the device is unchanged"
        return (f"{applied} of {total} lines are active on the device now; rollback() with the backup "
                "removes them and restores what they replaced")

    def push(self, conn: Connection, rendered: RenderedConfig, backup: Backup) -> PushResult:
        """Send every rendered line, one at a time; stop at the first line the device rejects."""
        lines = self.rendered_lines(rendered)
        if not self.missing(backup, rendered):
            return PushResult(changed=False, diff="",
                              messages=["no change: every rendered line is already in the running config"])
        diff = self.diff(backup, rendered)
        talk = self.talk
        errors = talk.errors()
        talk.enter(conn)
        change = Change(host=rendered.host, platform=self.spec.name)
        applied = 0
        for no, line in enumerate(lines, 1):
            out = talk.send_line(conn, line)
            bad = first_match(errors, out)
            if bad:
                masked_line = secretmod.mask(line.strip())
                masked_out = secretmod.mask(out.strip())
                log.error("%s: line %d rejected: %s: %s", rendered.host, no, masked_line, masked_out)
                if not self.has_commit():
                    try:
                        talk.leave(conn)
                    except Exception as exc:  # the error below matters more than a failed exit
                        log.warning("%s: leaving configuration mode failed: %s", rendered.host,
                                    secretmod.mask(str(exc)))
                raise PushError(
                    f"{rendered.host}: line {no} rejected by the device: {masked_line}\n{masked_out}",
                    line_no=no, line=masked_line, applied=applied, rollback_hint=self._hint(applied, len(lines)),
                    change=change)
            applied += 1
            change.applied = applied
        if not self.has_commit():
            talk.leave(conn)
        log.info("%s: %d lines sent", rendered.host, applied)
        if not self.has_commit():
            change.committed = True  # each accepted line is active
        return PushResult(changed=True, diff=diff, applied=applied, change=change,
                          messages=[f"{applied} lines accepted"
                                    + (" into the candidate; commit to activate" if self.has_commit() else "")])

    def commit(self, conn: Connection, confirmed_minutes: int | None = None, *, change: Change | None = None) -> str:
        """commit_check, then commit (or commit_confirmed); a later plain commit confirms. No-op without commit."""
        if not self.has_commit():
            return ""
        talk = self.talk
        out = talk.enter(conn)
        hint = "the candidate still holds the change; fix it or rollback() to discard it"
        if self.cfg.get("commit_check"):
            chk = talk.command(conn, self.cfg["commit_check"])
            out += chk
            talk.check("commit check", chk, "commit_error_patterns", hint)
        if confirmed_minutes:
            tmpl = self.cfg.get("commit_confirmed")
            if not tmpl:
                raise PushError(f"platform {self.spec.name} has no confirmed commit")
            command = tmpl.format(minutes=int(confirmed_minutes))
        else:
            command = self.cfg["commit"]
        res = talk.command(conn, command)
        out += res
        talk.check(f"`{command}`", res, "commit_error_patterns", hint)
        if change is not None:
            change.committed = True
            change.confirm_minutes = int(confirmed_minutes) if confirmed_minutes else None
        out += talk.leave(conn)
        return secretmod.mask(out)

    def save(self, conn: Connection, *, change: Change | None = None) -> str:
        """config.save, answering config.save_confirm prompts; no-op when commit persists."""
        command = self.cfg.get("save")
        if not command:
            return ""
        out = self.talk.ask(conn, command, as_list(self.cfg.get("save_confirm")))
        self.talk.check(f"`{command}`", out, "save_error_patterns")
        if change is not None:
            change.saved = True
        return secretmod.mask(out)

    def rollback(self, conn: Connection, backup: Backup, change: Change | None = None) -> str:
        """Put back exactly what `backup` holds, per the platform's `config.rollback` data (platforms/rollback.py)."""
        method = self.rb.get("method")
        if method not in ROLLBACK_METHODS:
            raise PushError(f"platform {self.spec.name} has no usable config.rollback data (method {method!r}; "
                            f"known: {', '.join(ROLLBACK_METHODS)}); restore by hand from the backup",
                            rollback_hint="the backup holds the previous running config")
        try:
            out = rollbackmod.STRATEGIES[method](self, conn, backup, change)
        except PushError as exc:
            if method == "reapply" or self.rb.get("fallback") != "reapply":
                raise
            log.warning("%s: rollback by %s failed (%s); falling back to reapply", backup.host, method,
                        secretmod.mask(str(exc)))
            out = rollbackmod.by_reapply(self, conn, backup, change)
        return secretmod.mask(out)

    def negate(self, line: str) -> str:
        """The command that undoes one line (first matching rollback.negate rule), indentation kept."""
        return rollbackmod.negate(self, line)
