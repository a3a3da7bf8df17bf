"""Driver for platforms configured line by line in a configuration mode (IOS, Junos, VRP, Comware, StoneOS).

Everything vendor-specific comes from the platform's `config:` and `rollback:` data
(templates/platforms/README.md): the commands that enter and leave configuration mode, commit and
save, the regexes that say a line was rejected, how to undo a line. There is no platform-name
branch here; a new CLI platform is a new data folder.

The structure of a configuration (which line belongs to which sub-mode) is read from its
indentation, the way devices show their running config: a line belongs to the nearest line above
it that is indented less. Rendered CLI templates indent sub-mode lines the same way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms.base import Backup, Connection, PlatformDriver, PushResult
from tunnelsmith.platforms.registry import register
from tunnelsmith.render import RenderedConfig

log = logging.getLogger(__name__)

OUTPUT = "cli"  # CLI platforms render one output under this name
MAX_PROMPTS = 6  # save/prepare dialogues answered at most this many times
ROLLBACK_METHODS = ("commands", "configure_replace", "reapply")


# --- configuration text as a tree of lines ------------------------------------------------------
@dataclass(frozen=True)
class CfgLine:
    """One configuration line with where it sits: `path` = normalised ancestors + itself."""

    no: int  # 1-based position in its text
    text: str  # as written, indentation kept
    path: tuple[str, ...]
    ignored: bool = False  # matches config.diff_ignore: sent on push, never compared or undone
    negates: tuple[str, ...] | None = None  # config.negation: the path this line removes

    @property
    def depth(self) -> int:
        return len(self.path) - 1


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


class Comparer:
    """Turns a config line into the key two configs are compared by (normalise, compare_prefix)."""

    def __init__(self, cfg: dict[str, Any]):
        self.ignore = [re.compile(p) for p in cfg.get("diff_ignore") or []]
        self.normalize = [(re.compile(n["match"]), n.get("replace", "")) for n in cfg.get("normalize") or []]
        self.prefixes = [re.compile(p) for p in cfg.get("compare_prefix") or []]
        self.flat = cfg.get("compare", "path") == "line"
        self.negation = [re.compile(p) for p in cfg.get("negation") or []]

    def key(self, stripped: str) -> str:
        s = " ".join(stripped.split())
        for rx, repl in self.normalize:
            s = rx.sub(repl, s)
        for rx in self.prefixes:
            m = rx.search(s)
            if m:
                return m.group(1)
        return s

    def is_secret(self, stripped: str) -> bool:
        """A line compared by prefix only because the device shows its value encrypted."""
        s = " ".join(stripped.split())
        return any(rx.search(s) for rx in self.prefixes)

    def is_ignored(self, stripped: str) -> bool:
        return any(rx.search(stripped) for rx in self.ignore)

    def parse(self, text: str | Iterable[str]) -> list[CfgLine]:
        lines = text.splitlines() if isinstance(text, str) else list(text)
        out: list[CfgLine] = []
        stack: list[tuple[int, str]] = []
        for no, raw in enumerate(lines, 1):
            raw = raw.rstrip()
            stripped = raw.strip()
            if not stripped:
                continue
            ind = indent_of(raw)
            while stack and stack[-1][0] >= ind:
                stack.pop()
            key = self.key(stripped)
            ignored = self.is_ignored(stripped)
            parents = () if self.flat else tuple(k for _, k in stack)
            neg = next((m for m in (rx.search(stripped) for rx in self.negation) if m), None)
            negates = (*parents, self.key(neg.group(1))) if neg else None
            out.append(CfgLine(no, raw, (*parents, key), ignored, negates))
            if not ignored and negates is None:
                stack.append((ind, key))
        return out

    def paths(self, text: str) -> set[tuple[str, ...]]:
        return {ln.path for ln in self.parse(text) if not ln.ignored}


def missing_lines(cmp: Comparer, device_text: str, lines: list[str], rotate_secrets: bool = False
                  ) -> list[CfgLine]:
    """Rendered lines whose (path) key is not in the device's configuration.

    A secret line is compared by its prefix only (the device shows the key encrypted), so a new
    key would look present: `rotate_secrets` counts every secret line as missing, to push it.
    """
    have = cmp.paths(device_text)

    def present(ln: CfgLine) -> bool:
        if rotate_secrets and cmp.is_secret(ln.text.strip()):
            return False
        if ln.path in have:
            return True
        if ln.negates is None:
            return False
        # a `no X` line is satisfied when X (or anything below or beginning with X) is absent
        target, depth = ln.negates, len(ln.negates)
        return not any(p[: depth - 1] == target[:-1] and (p[depth - 1] == target[-1] or
                       p[depth - 1].startswith(target[-1] + " ")) for p in have if len(p) >= depth)

    return [ln for ln in cmp.parse(lines) if not ln.ignored and not present(ln)]


def _first_match(patterns: list[re.Pattern[str]], text: str) -> re.Pattern[str] | None:
    return next((p for p in patterns if p.search(text)), None)


def resolve(value: Any, options: dict[str, Any]) -> Any:
    """A command that may depend on platform options: `{command: ..., when: {option: value}}`."""
    if isinstance(value, dict) and "command" in value:
        when = value.get("when") or {}
        return value["command"] if all(options.get(k) == v for k, v in when.items()) else None
    return value


def backup_file_name(running: str) -> str:
    """On-device copy of a backup (configure_replace): named by content, so a Backup finds its own copy."""
    return f"tunnelsmith-{hashlib.sha256(running.encode('utf-8')).hexdigest()[:12]}.cfg"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@register("cli")
class CliDriver(PlatformDriver):
    """NAPALM-style dialogue with a line-by-line CLI over a Netmiko connection."""

    def __init__(self, spec: Any, options: dict[str, Any] | None = None):
        super().__init__(spec, options)
        self._uncommitted: set[int] = set()  # connections holding pushed, uncommitted lines

    # --- data --------------------------------------------------------------------------
    @property
    def cfg(self) -> dict[str, Any]:
        """config: with option-dependent commands resolved for this device's options."""
        raw = self.spec.section("config")
        return {k: (v if k == "rollback" else resolve(v, self.options)) for k, v in raw.items()}

    @property
    def rb(self) -> dict[str, Any]:
        return dict(self.spec.section("config").get("rollback") or {})

    def comparer(self) -> Comparer:
        return Comparer(self.cfg)

    def _errors(self, extra_key: str | None = None, rollback: bool = False) -> list[re.Pattern[str]]:
        pats = list(self.cfg.get("error_patterns") or [])
        if extra_key:
            pats += list(self.cfg.get(extra_key) or [])
        if rollback:
            pats += list(self.rb.get("error_patterns") or [])
        return [re.compile(p, re.M) for p in pats]

    def has_commit(self) -> bool:
        return bool(self.cfg.get("commit"))

    @staticmethod
    def rendered_lines(rendered: RenderedConfig) -> list[str]:
        path = OUTPUT if OUTPUT in rendered.files else None
        return rendered.lines(path)

    # --- small dialogue helpers ------------------------------------------------------------
    def _enter(self, conn: Any) -> str:
        enter = self.cfg.get("enter")
        return str(conn.config_mode(config_command=enter) if enter else conn.config_mode())

    def _leave(self, conn: Any) -> str:
        leave = self.cfg.get("exit")
        return str(conn.exit_config_mode(exit_config=leave) if leave else conn.exit_config_mode())

    def _send_line(self, conn: Any, line: str) -> str:
        out = conn.send_config_set([line], enter_config_mode=False, exit_config_mode=False)
        return str(out)

    def _dialogue(self, conn: Any, command: str, confirms: list[dict[str, str]]) -> str:
        """Send a command that may ask questions; answer each prompt its `expect` regex matches."""
        if not confirms:
            return str(conn.send_command(command, read_timeout=float(self.cfg.get("timeout", 120))))
        chunk = str(conn.send_command_timing(command))
        out = chunk
        for _ in range(MAX_PROMPTS):
            step = next((c for c in confirms if re.search(c["expect"], chunk)), None)
            if step is None:
                break
            chunk = str(conn.send_command_timing(str(step.get("answer", ""))))
            out += chunk
        return out

    def _check(self, what: str, output: str, extra_key: str | None = None, hint: str = "",
               rollback: bool = False) -> None:
        bad = _first_match(self._errors(extra_key, rollback), output)
        if bad:
            masked = secretmod.mask(output.strip())
            log.error("%s: %s failed: %s", self.spec.name, what, masked)
            raise PushError(f"{what} failed (output matches {bad.pattern!r}):\n{masked}", rollback_hint=hint)

    def run_command(self, conn: Connection, command: str) -> str:
        return secretmod.mask(str(conn.send_command(command)))

    # --- configuration ---------------------------------------------------------------------
    def backup(self, conn: Connection, rendered: RenderedConfig) -> Backup:
        """The whole running config (config.backup); for configure_replace also a copy on the device."""
        running = str(conn.send_command(self.cfg["backup"], read_timeout=float(self.cfg.get("timeout", 120))))
        if self.rb.get("method") == "configure_replace" and self.rb.get("prepare"):
            command = self.rb["prepare"].format(backup_file=backup_file_name(running))
            out = self._dialogue(conn, command, _as_list(self.rb.get("prepare_confirm")))
            self._check(f"`{command}`", out, hint="nothing was changed yet", rollback=True)
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
        errors = self._errors()
        self._enter(conn)
        if self.has_commit():
            self._uncommitted.add(id(conn))
        applied = 0
        for no, line in enumerate(lines, 1):
            out = self._send_line(conn, line)
            bad = _first_match(errors, out)
            if bad:
                masked_line = secretmod.mask(line.strip())
                masked_out = secretmod.mask(out.strip())
                log.error("%s: line %d rejected: %s: %s", rendered.host, no, masked_line, masked_out)
                if not self.has_commit():
                    try:
                        self._leave(conn)
                    except Exception as exc:  # the error below matters more than a failed exit
                        log.warning("%s: leaving configuration mode failed: %s", rendered.host,
                                    secretmod.mask(str(exc)))
                raise PushError(
                    f"{rendered.host}: line {no} rejected by the device: {masked_line}\n{masked_out}",
                    line_no=no, line=masked_line, applied=applied, rollback_hint=self._hint(applied, len(lines)))
            applied += 1
        if not self.has_commit():
            self._leave(conn)
        log.info("%s: %d lines sent", rendered.host, applied)
        return PushResult(changed=True, diff=diff, applied=applied,
                          messages=[f"{applied} lines accepted"
                                    + (" into the candidate; commit to activate" if self.has_commit() else "")])

    def commit(self, conn: Connection, confirmed_minutes: int | None = None) -> str:
        """commit_check, then commit (or commit_confirmed); a later plain commit confirms. No-op without commit."""
        if not self.has_commit():
            return ""
        out = self._enter(conn)
        hint = "the candidate still holds the change; fix it or rollback() to discard it"
        if self.cfg.get("commit_check"):
            chk = str(conn.send_command(self.cfg["commit_check"], read_timeout=float(self.cfg.get("timeout", 120))))
            out += chk
            self._check("commit check", chk, "commit_error_patterns", hint)
        if confirmed_minutes:
            tmpl = self.cfg.get("commit_confirmed")
            if not tmpl:
                raise PushError(f"platform {self.spec.name} has no confirmed commit")
            command = tmpl.format(minutes=int(confirmed_minutes))
        else:
            command = self.cfg["commit"]
        res = str(conn.send_command(command, read_timeout=float(self.cfg.get("timeout", 120))))
        out += res
        self._check(f"`{command}`", res, "commit_error_patterns", hint)
        self._uncommitted.discard(id(conn))
        out += self._leave(conn)
        return secretmod.mask(out)

    def save(self, conn: Connection) -> str:
        """config.save, answering config.save_confirm prompts; no-op when commit persists."""
        command = self.cfg.get("save")
        if not command:
            return ""
        out = self._dialogue(conn, command, _as_list(self.cfg.get("save_confirm")))
        self._check(f"`{command}`", out, "save_error_patterns")
        return secretmod.mask(out)

    def rollback(self, conn: Connection, backup: Backup) -> str:
        """Put back exactly what `backup` holds, per the platform's `config.rollback` data."""
        method = self.rb.get("method")
        if method not in ROLLBACK_METHODS:
            raise PushError(f"platform {self.spec.name} has no usable config.rollback data (method {method!r}; "
                            f"known: {', '.join(ROLLBACK_METHODS)}); restore by hand from the backup",
                            rollback_hint="the backup holds the previous running config")
        try:
            if method == "commands":
                out = self._rollback_commands(conn)
            elif method == "configure_replace":
                out = self._rollback_replace(conn, backup)
            else:
                out = self._rollback_reapply(conn, backup)
        except PushError as exc:
            if method == "reapply" or self.rb.get("fallback") != "reapply":
                raise
            log.warning("%s: rollback by %s failed (%s); falling back to reapply", backup.host, method,
                        secretmod.mask(str(exc)))
            out = self._rollback_reapply(conn, backup)
        return secretmod.mask(out)

    # --- rollback ------------------------------------------------------------------------
    def _rollback_commands(self, conn: Connection) -> str:
        pending = id(conn) in self._uncommitted
        commands = _as_list(self.rb.get("uncommitted")) if pending and self.rb.get("uncommitted") else \
            _as_list(self.rb.get("commands"))
        out = self._enter(conn)
        for c in commands:
            c = c if isinstance(c, dict) else {"command": c}
            res = self._dialogue(conn, c["command"], _as_list(c.get("confirm")))
            out += res
            self._check(f"rollback `{c['command']}`", res, "commit_error_patterns", rollback=True)
        if self.has_commit():
            out += self.commit(conn)
        else:
            out += self._leave(conn)
        self._uncommitted.discard(id(conn))
        return out

    def _rollback_replace(self, conn: Connection, backup: Backup) -> str:
        name = backup_file_name(backup.files.get(OUTPUT) or "")
        command = str(self.rb["command"]).format(backup_file=name)
        out = self._leave(conn)
        res = self._dialogue(conn, command, _as_list(self.rb.get("command_confirm")))
        out += res
        self._check(f"rollback `{command}`", res, rollback=True,
                    hint="the device still runs the pushed config; restore from the backup by hand")
        self._uncommitted.discard(id(conn))
        return out

    def _read_now(self, conn: Any) -> str:
        """The configuration as it stands mid-rollback (candidate on commit platforms)."""
        if self.rb.get("read"):
            return str(conn.send_command(self.rb["read"], read_timeout=float(self.cfg.get("timeout", 120))))
        self._leave(conn)
        text = str(conn.send_command(self.cfg["backup"], read_timeout=float(self.cfg.get("timeout", 120))))
        self._enter(conn)
        return text

    def negate(self, line: str) -> str:
        """The command that undoes one line (first matching rollback.negate rule), indentation kept."""
        stripped = line.strip()
        for rule in self.rb.get("negate") or []:
            rx = re.compile(rule["match"])
            if rx.search(stripped):
                return line[: indent_of(line)] + rx.sub(rule["replace"], stripped, count=1)
        raise PushError(f"platform {self.spec.name}: no rollback.negate rule matches "
                        f"{secretmod.mask(stripped)!r}")

    def _send_checked(self, conn: Any, line: str, what: str) -> str:
        out = self._send_line(conn, line)
        bad = _first_match(self._errors(), out)
        if bad:
            raise PushError(f"rollback: {what} {secretmod.mask(line.strip())!r} rejected:\n"
                            f"{secretmod.mask(out.strip())}",
                            rollback_hint="the device is between the pushed config and the backup; "
                            "compare its running config with the backup by hand")
        return out

    def _send_in_context(self, conn: Any, items: list[tuple[list[str], str]], what: str) -> str:
        """Send lines, each after the parent lines that enter its sub-mode (exit data between blocks)."""
        out = ""
        context: list[str] = []
        leave = self.rb.get("exit")
        for parents, line in items:
            if context != parents:
                common = 0
                while common < min(len(context), len(parents)) and context[common] == parents[common]:
                    common += 1
                if leave:
                    for _ in range(len(context) - common):
                        out += self._send_line(conn, leave)
                else:
                    common = 0  # the CLI leaves sub-modes by itself when a parent line is sent again
                for p in parents[common:]:
                    out += self._send_checked(conn, p, "entering")
                context = list(parents)
            out += self._send_checked(conn, line, what)
        if leave:
            for _ in context:
                out += self._send_line(conn, leave)
        return out

    def _rollback_reapply(self, conn: Connection, backup: Backup) -> str:
        cmp = self.comparer()
        before = backup.files.get(OUTPUT) or ""
        before_lines = cmp.parse(before)
        before_paths = {ln.path for ln in before_lines if not ln.ignored}
        out = self._enter(conn)
        # 1. undo what the backup does not have, last block first, whole new blocks by their head line
        now_lines = [ln for ln in cmp.parse(self._read_now(conn)) if not ln.ignored]
        added = [ln for ln in now_lines if ln.path not in before_paths]
        added_paths = {ln.path for ln in added}
        undo: list[tuple[list[str], str]] = []
        for ln in reversed(added):
            if any(ln.path[:k] in added_paths for k in range(1, len(ln.path))):
                continue  # its parent is new too: undoing the parent removes it
            undo.append((self._parents(now_lines, ln), self.negate(ln.text)))
        out += self._send_in_context(conn, undo, "undo")
        # 2. put back what the backup has and the device lost (lines the push replaced)
        now_paths = {ln.path for ln in cmp.parse(self._read_now(conn)) if not ln.ignored}
        restore = [(self._parents(before_lines, ln), ln.text) for ln in before_lines
                   if not ln.ignored and ln.path not in now_paths]
        out += self._send_in_context(conn, restore, "restore")
        # 3. it must now match the backup
        final_paths = {ln.path for ln in cmp.parse(self._read_now(conn)) if not ln.ignored}
        if self.has_commit():
            out += self.commit(conn)
        else:
            out += self._leave(conn)
        self._uncommitted.discard(id(conn))
        if final_paths != before_paths:
            extra = sorted(" / ".join(p) for p in final_paths - before_paths)
            lost = sorted(" / ".join(p) for p in before_paths - final_paths)
            raise PushError(secretmod.mask(f"rollback incomplete: still present {extra}, still missing {lost}"),
                            rollback_hint="compare the running config with the backup by hand")
        return out

    @staticmethod
    def _parents(lines: list[CfgLine], target: CfgLine) -> list[str]:
        """The text of the lines that enter `target`'s sub-mode, outermost first."""
        parents: list[str] = []
        for depth in range(target.depth):
            want = target.path[: depth + 1]
            match = [ln for ln in lines if ln.path == want and ln.no < target.no]
            parents.append(match[-1].text if match else want[-1])
        return parents
