"""Driver for platforms configured by files (strongSwan on Linux).

Push writes each rendered output over SFTP to a temporary name next to its target and renames
it into place (atomic on POSIX), with the mode from the platform data; commit runs the
platform's activation commands (`swanctl --load-all`), checking both exit status and output.
A file whose content already matches is not touched, so a second rollout changes nothing.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import secrets as pysecrets
import shlex
import time
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms import sections
from tunnelsmith.platforms.base import Backup, Change, Connection, PlatformDriver, PushResult, open_sftp
from tunnelsmith.platforms.kinds import register
from tunnelsmith.render import RenderedConfig

RC_MARK = "__tunnelsmith_rc="


def run(conn: Connection, command: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run a shell command on a Linux device; returns (exit status, output)."""
    out = conn.send_command(f"{command}; echo {RC_MARK}$?", read_timeout=timeout)
    text = str(out)
    m = re.search(re.escape(RC_MARK) + r"(\d+)", text)
    rc = int(m.group(1)) if m else 255
    text = re.sub(r"\n?" + re.escape(RC_MARK) + r"\d+\s*$", "", text.rstrip())
    return rc, text


@register("files")
class FilesDriver(PlatformDriver):
    def _files_cfg(self) -> dict[str, Any]:
        return self.spec.section("files")

    def backup(self, conn: Connection, rendered: RenderedConfig) -> Backup:
        sftp = open_sftp(conn)
        files: dict[str, str | None] = {}
        try:
            for path in rendered.files:
                try:
                    with sftp.open(path, "r") as fh:
                        files[path] = fh.read().decode("utf-8")
                except FileNotFoundError:
                    files[path] = None
                except OSError as exc:
                    if getattr(exc, "errno", None) == 2:
                        files[path] = None
                    else:
                        raise
        finally:
            sftp.close()
        return Backup(host=rendered.host, platform=self.spec.name, files=files)

    def push(self, conn: Connection, rendered: RenderedConfig, backup: Backup) -> PushResult:
        change = Change(host=rendered.host, platform=self.spec.name, rendered=rendered, before=backup)
        changed = {p: c for p, c in rendered.files.items() if backup.files.get(p) != c}
        diff = self.diff(backup, rendered)
        if not changed:
            return PushResult(changed=False, diff="", messages=["no change: device files already match"],
                              change=change)
        mode = int(str(self._files_cfg().get("mode", "0600")), 8)
        sftp = open_sftp(conn)
        written = 0
        try:
            for path, content in changed.items():
                directory = posixpath.dirname(path)
                rc, out = run(conn, f"mkdir -p {shlex.quote(directory)}")
                if rc != 0:
                    raise PushError(f"cannot create {directory}: {secretmod.mask(out)}", applied=written,
                                    rollback_hint=self._hint(written), change=change)
                tmp = f"{path}.tunnelsmith-{pysecrets.token_hex(4)}"
                try:
                    with sftp.open(tmp, "w") as fh:
                        fh.write(content.encode("utf-8"))
                    sftp.chmod(tmp, mode)
                    sftp.posix_rename(tmp, path)
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        sftp.remove(tmp)
                    raise PushError(f"writing {path} failed: {exc}", applied=written,
                                    rollback_hint=self._hint(written), change=change) from None
                written += 1
                change.applied = written
        finally:
            sftp.close()
        return PushResult(changed=True, diff=diff, applied=written, change=change,
                          messages=[f"wrote {p}" for p in changed])

    def _hint(self, written: int) -> str:
        if not written:
            return "nothing was written; the device is unchanged"
        return f"{written} file(s) were replaced; run `tunnelsmith rollback` with this run id to restore them"

    def _activate(self, conn: Connection) -> str:
        outputs = []
        cfg = self._files_cfg()
        patterns = [re.compile(p, re.M) for p in cfg.get("error_patterns") or []]
        for step in cfg.get("activate") or []:
            if not self._when(step):
                continue
            rc, out = run(conn, step["command"])
            outputs.append(f"$ {step['command']}\n{out}")
            bad = next((p for p in patterns if p.search(out)), None)
            if rc != 0 or bad:
                why = f"exit status {rc}" if rc != 0 else f"output matches {bad.pattern!r}"
                raise PushError(f"`{step['command']}` failed ({why}):\n{secretmod.mask(out)}",
                                rollback_hint="the new files are in place but not active; roll back or fix "
                                "and re-run")
        return secretmod.mask("\n".join(outputs))

    def _take_down(self, conn: Connection, before: dict[str, str | None], after: dict[str, str | None]) -> str:
        """Take down the sections (e.g. ipsec.conf conns) that change, before activation (platform data)."""
        notes = []
        for rule in self._files_cfg().get("take_down") or []:
            if not self._when(rule):
                continue
            for name in sections.changed(before.get(rule["path"]), after.get(rule["path"]), rule["sections"]):
                run(conn, rule["command"].format(name=shlex.quote(name)), timeout=float(rule.get("timeout", 30)))
                notes.append(f"took down {name} (changed)")
        return "\n".join(notes)

    def commit(self, conn: Connection, confirmed_minutes: int | None = None, *, change: Change | None = None) -> str:
        """Activate the written files; with the push's `change`, first take down what changed."""
        out = ""
        if change is not None and change.rendered is not None and change.before is not None:
            out = self._take_down(conn, change.before.files, dict(change.rendered.files))
        out += self._activate(conn)
        if change is not None and change.rendered is not None:
            out += self._ensure_up(conn, change.rendered)
            change.committed = True
        return out

    def _ensure_up(self, conn: Connection, rendered: RenderedConfig) -> str:
        """Initiate every CHILD the rendered config says must be up and that is not (platform data)."""
        cfg = self._files_cfg().get("ensure_up") or {}
        if not cfg or not self._when(cfg):
            return ""
        rx = re.compile(cfg["marker"], re.M)
        wanted = [c for text in rendered.files.values() for m in rx.finditer(text) for c in m.group(1).split()]
        notes = []
        for _ in range(int(cfg.get("rounds", 3))):
            if not wanted:
                break
            time.sleep(float(cfg.get("settle", 1.5)))
            outputs = {k: run(conn, cmd)[1] for k, cmd in self.status_commands().items()}
            up = {c.name for c in self.device_status(outputs).children if c.up}
            wanted = [c for c in wanted if c not in up]
            for child in wanted:
                run(conn, cfg["initiate"].format(child=child), timeout=30)
                notes.append(f"initiated {child} (not up after activation)")
        return secretmod.mask("\n" + "\n".join(notes)) if notes else ""

    def save(self, conn: Connection, *, change: Change | None = None) -> str:
        if change is not None:
            change.saved = True
        return ""  # files persist by themselves

    def rollback(self, conn: Connection, backup: Backup, change: Change | None = None) -> str:
        current = self.backup(conn, RenderedConfig(host=backup.host, platform=self.spec.name, side="device",
                                                   files={p: "" for p in backup.files})).files
        sftp = open_sftp(conn)
        mode = int(str(self._files_cfg().get("mode", "0600")), 8)
        try:
            for path, content in backup.files.items():
                if content is None:
                    with contextlib.suppress(OSError):
                        sftp.remove(path)
                    continue
                tmp = f"{path}.tunnelsmith-{pysecrets.token_hex(4)}"
                with sftp.open(tmp, "w") as fh:
                    fh.write(content.encode("utf-8"))
                sftp.chmod(tmp, mode)
                sftp.posix_rename(tmp, path)
        finally:
            sftp.close()
        taken = self._take_down(conn, current, backup.files)
        return "\n".join(x for x in (taken, self._activate(conn)) if x)
