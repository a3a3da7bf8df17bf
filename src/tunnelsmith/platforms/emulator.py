"""A data-driven vendor CLI: in memory for the conformance suite, and behind the SSH twins.

`CliEmulator(spec)` behaves like a Netmiko connection to the platform (the subset the `cli`
driver uses: `find_prompt`, `config_mode`, `exit_config_mode`, `check_config_mode`,
`send_command`, `send_command_timing`, `send_config_set`, `disconnect`). It knows a platform only
through its data: the `config:` commands, the `rollback:` negation and the `emulation:` section
(prompts, the device's real error and confirmation texts; README.md lists the keys).

Simplifications, on purpose: a configuration line lands where its indentation puts it (the way
the device prints its running config); lines matching `emulation.structural` (exit, quit, !) are
accepted and not stored; a line replaces an existing sibling only when the test's `replaces`
predicate says so; whether a line is valid is decided by the test's `invalid` predicate, or
by the platform's command grammar (`grammar=`, tunnelsmith.twin.grammar), which also names the
sub-mode a line enters (used in prompts).

The vendor twins (tunnelsmith.twin) drive the same object through `execute()`, the terminal's
view: the reply to one typed line without its echo, and whether the device now waits for an
answer instead of showing its prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tunnelsmith.platforms.cli import resolve
from tunnelsmith.platforms.spec import PlatformSpec

DEFAULT_EMULATION: dict[str, Any] = {
    "hostname": "dev1",
    "prompts": {"exec": "{hostname}#", "config": "{hostname}(config)#", "submode": "{hostname}(config-{context})#"},
    "error": "% Invalid input detected at '^' marker.",
    "caret": True,
    "structural": [],
    "negate": [],
    "running_header": [],
    "running_footer": [],
    "show_candidate": None,
    "commit_ok": "",
    "commit_check_ok": "",
    "commit_confirmed_ok": "",
    "commit_error": "error: configuration check-out failed",
    "commit_leaves_config_mode": False,
    "rollback_command": None,
    "rollback_ok": "",
    "save_prompts": [],
    "save_ok": "",
    "save_abort": "",
    "prepare": None,  # {match: regex capturing the file name, prompts: [...]}: copy running config to a file
    "replace": None,  # {match: regex capturing the file name, prompts: [...]}: running config := that file
    "sample_running": [],
}


@dataclass
class Node:
    text: str  # as sent, indentation kept
    children: list[Node] = field(default_factory=list)
    mode: str | None = None  # the sub-mode this line enters (grammar), if any

    @property
    def key(self) -> str:
        return " ".join(self.text.split())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def parse_tree(lines: Iterable[str]) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for raw in lines:
        raw = raw.rstrip()
        if not raw.strip():
            continue
        ind = _indent(raw)
        while stack and stack[-1][0] >= ind:
            stack.pop()
        node = Node(raw)
        (stack[-1][1].children if stack else root).append(node)
        stack.append((ind, node))
    return root


def dump_tree(nodes: list[Node]) -> list[str]:
    out: list[str] = []
    for n in nodes:
        out.append(n.text)
        out.extend(dump_tree(n.children))
    return out


def _copy(nodes: list[Node]) -> list[Node]:
    return [Node(n.text, _copy(n.children), n.mode) for n in nodes]


class CliEmulator:
    """One device's CLI session; `sent` records every line received in configuration mode."""

    def __init__(self, spec: PlatformSpec, running: str | Iterable[str] | None = None, *,
                 invalid: Callable[[str], bool] | None = None,
                 replaces: Callable[[str, str], bool] | None = None,
                 commit_fails: bool = False, emulation: dict[str, Any] | None = None,
                 options: dict[str, Any] | None = None, grammar: Any = None,
                 exec_hook: Callable[[str], str | None] | None = None,
                 on_change: Callable[[], None] | None = None):
        self.spec = spec
        opts = {**(spec.raw.get("option_defaults") or {}), **(options or {})}
        self.cfg = {k: resolve(v, opts) for k, v in spec.section("config").items()}
        self.emu = {**DEFAULT_EMULATION, **(spec.section("emulation") or {}), **(emulation or {})}
        self.emu["prompts"] = {**DEFAULT_EMULATION["prompts"], **(self.emu.get("prompts") or {})}
        if running is None:
            running = list(self.emu.get("sample_running") or [])
        lines = running.splitlines() if isinstance(running, str) else list(running)
        self.active: list[Node] = parse_tree(lines)
        self.candidate: list[Node] = _copy(self.active)
        self.history: list[list[Node]] = []  # previous committed configs, newest first
        self.saved: list[str] | None = None  # startup config after a save
        self.files: dict[str, list[Node]] = {}  # on-device copies (checkpoint / configure replace)
        self.invalid = invalid or (lambda line: False)
        self.replaces = replaces or (lambda old, new: False)
        self.commit_fails = commit_fails
        self.confirm_pending: int | None = None  # minutes of an unconfirmed `commit confirmed`
        self.mode = "exec"
        self.context: list[tuple[int, Node]] = []
        self.sent: list[str] = []  # configuration lines received, in order
        self.commands: list[str] = []  # every command received, in order
        self._dialogue: list[dict[str, str]] = []  # prompts still to answer
        self._on_done: Callable[[], str] = lambda: ""
        self.commit_mode = bool(self.cfg.get("commit"))
        self._structural = [re.compile(p) for p in self.emu.get("structural") or []]
        self._negate = [(re.compile(n["match"]), n["target"]) for n in self.emu.get("negate") or []]
        self.grammar = grammar  # tunnelsmith.twin.grammar.Grammar, or None: `invalid` decides
        self.exec_hook = exec_hook  # exec commands the platform's config data does not cover (show, ping)
        self.on_change = on_change or (lambda: None)  # the active configuration changed
        self.echo = True  # Netmiko-style returns include the echoed line; a terminal echoes by itself
        if grammar is not None:
            _assign_modes(grammar, self.active, "top")
            self.candidate = _copy(self.active)

    # --- what tests look at --------------------------------------------------------------
    def running_lines(self) -> list[str]:
        return dump_tree(self.active)

    def candidate_lines(self) -> list[str]:
        return dump_tree(self.candidate)

    def running_config(self) -> str:
        body = list(self.emu.get("running_header") or []) + self.running_lines() + \
            list(self.emu.get("running_footer") or [])
        return "\n".join(body) + "\n"

    @property
    def hostname(self) -> str:
        return str(self.emu.get("hostname") or "dev1")

    @property
    def username(self) -> str:
        return str(self.emu.get("username") or "admin")

    def _prompt(self, key: str, **kw: str) -> str:
        return self.emu["prompts"][key].format(hostname=self.hostname, username=self.username, **kw)

    # --- the terminal's view (SSH twins) -----------------------------------------------------
    def execute(self, line: str) -> tuple[str, bool]:
        """One typed line: (the device's reply without the echo, True when it now waits for an answer)."""
        self.echo = False
        try:
            cmd = " ".join(line.split())
            if self._dialogue:
                return self._answer(cmd), bool(self._dialogue)
            if not cmd:
                return "", False
            if self.mode == "exec" and cmd == " ".join(str(self.cfg.get("enter") or "").split()):
                return self._enter_reply(self.config_mode(cmd)), False
            leave = " ".join(str(self.cfg.get("exit") or "").split())
            if self.mode == "config" and leave and cmd == leave:
                ask = self.emu.get("exit_uncommitted")
                if ask and self.commit_mode and dump_tree(self.candidate) != dump_tree(self.active):
                    return self._ask([ask], self._discard_and_leave), True
                self.exit_config_mode(cmd)
                return "", False
            out = self._command(line)
            return out, bool(self._dialogue)
        finally:
            self.echo = True

    def _enter_reply(self, out: str) -> str:
        if out.startswith(self.emu["error"]) or self.emu["error"] in out:
            return out
        return str(self.emu.get("config_banner") or "")

    def prompt(self) -> str:
        """The prompt as the terminal shows it (Junos prints `[edit]` above it in configuration mode)."""
        prefix = self.emu.get("config_prompt_prefix") if self.mode == "config" else None
        return f"{prefix}\n{self.find_prompt()}" if prefix else self.find_prompt()

    def _discard_and_leave(self) -> str:
        """Leaving an exclusive configuration session discards what was not committed."""
        self.candidate = _copy(self.active)
        self.exit_config_mode(str(self.cfg.get("exit") or ""))
        return ""

    # --- the Netmiko subset --------------------------------------------------------------
    def find_prompt(self, *args: Any, **kwargs: Any) -> str:
        if self.mode == "exec":
            return self._prompt("exec")
        if self.context:
            node = self.context[-1][1]
            word = node.mode or (node.key.split()[0] if node.key else "")
            return self._prompt("submode", context=word)
        return self._prompt("config")

    def check_config_mode(self, *args: Any, **kwargs: Any) -> bool:
        return self.mode == "config"

    def config_mode(self, config_command: str = "", pattern: str = "", re_flags: int = 0) -> str:
        if self.mode == "config":
            return ""
        expected = self.cfg.get("enter")
        if config_command and expected and config_command != expected:
            return self._error(config_command)
        self.commands.append(config_command or str(expected or ""))
        self.mode = "config"
        self.context = []
        return f"{config_command}\n{self.find_prompt()}"

    def exit_config_mode(self, exit_config: str = "", pattern: str = "") -> str:
        if self.mode != "config":
            return ""
        self.commands.append(exit_config or str(self.cfg.get("exit") or ""))
        self.mode = "exec"
        self.context = []
        return f"{exit_config}\n{self.find_prompt()}"

    def send_config_set(self, config_commands: Any = None, *, enter_config_mode: bool = True,
                        exit_config_mode: bool = True, **kwargs: Any) -> str:
        if isinstance(config_commands, str):
            config_commands = [config_commands]
        out = self.config_mode(str(self.cfg.get("enter") or "")) if enter_config_mode else ""
        for line in config_commands or []:
            out += self._config_line(line)
        if exit_config_mode:
            out += self.exit_config_mode(str(self.cfg.get("exit") or ""))
        return out

    def send_command(self, command_string: str, **kwargs: Any) -> str:
        return self._command(command_string)

    def send_command_timing(self, command_string: str, **kwargs: Any) -> str:
        return self._command(command_string)

    def disconnect(self) -> None:
        self.mode = "exec"

    # --- behaviour ---------------------------------------------------------------------
    def _error(self, line: str) -> str:
        caret = " " * (len(self.find_prompt()) + _indent(line)) + "^\n" if self.emu.get("caret") else ""
        return f"{self._echo(line)}{caret}{self.emu['error']}\n"

    def _echo(self, line: str) -> str:
        return f"{self.find_prompt()}{line}\n" if self.echo else ""

    def _tree(self) -> list[Node]:
        return self.candidate if self.commit_mode else self.active

    def _command(self, command: str) -> str:
        self.commands.append(command)
        cmd = " ".join(command.split())
        if self._dialogue:
            return self._answer(cmd)
        if self.mode == "config":
            return self._config_command(command, cmd)
        if cmd == self.cfg.get("backup"):
            return self.running_config()
        if self.cfg.get("save") and cmd == self.cfg["save"]:
            return self._save()
        for key, action in (("prepare", self._copy_to), ("replace", self._replace_from)):
            spec = self.emu.get(key)
            m = re.fullmatch(spec["match"], cmd) if spec else None
            if m:
                name = m.group(1)
                return self._ask(spec.get("prompts") or [], lambda a=action, n=name: a(n))
        if self.exec_hook is not None:
            reply = self.exec_hook(cmd)
            if reply is not None:
                return reply
        return self._error(command)

    def _copy_to(self, name: str) -> str:
        self.files[name] = _copy(self.active)
        return str((self.emu.get("prepare") or {}).get("ok", "")) + "\n"

    def _replace_from(self, name: str) -> str:
        if name not in self.files:
            return self.emu["error"] + "\n"
        self.active = _copy(self.files[name])
        self.candidate = _copy(self.active)
        self.on_change()
        return str((self.emu.get("replace") or {}).get("ok", "")) + "\n"

    def _match(self, key: str, cmd: str) -> re.Match[str] | None:
        pat = self.emu.get(key)
        return re.fullmatch(pat, cmd) if pat else None

    def _config_command(self, command: str, cmd: str) -> str:
        if self.commit_mode and cmd == self.cfg.get("commit_check"):
            return self.emu["commit_error"] + "\n" if self.commit_fails else self.emu["commit_check_ok"] + "\n"
        tmpl = self.cfg.get("commit_confirmed")
        if self.commit_mode and tmpl:
            rx = re.escape(tmpl).replace(re.escape("{minutes}"), r"(\d+)")
            m = re.fullmatch(rx, cmd)
            if m:
                return self._commit(int(m.group(1)))
        if self.commit_mode and cmd == self.cfg.get("commit"):
            return self._commit(None)
        if self.emu.get("show_candidate") and cmd == self.emu["show_candidate"]:
            return "\n".join(self.candidate_lines()) + "\n"
        m = self._match("rollback_command", cmd)
        if m:
            n = int(m.group(1))
            if n == 0:
                self.candidate = _copy(self.active)
            elif n <= len(self.history):
                self.candidate = _copy(self.history[n - 1])
            else:
                return self._error(command)
            return self.emu["rollback_ok"] + "\n"
        return self._config_line(command)

    def _commit(self, minutes: int | None) -> str:
        if self.commit_fails:
            return self.emu["commit_error"] + "\n"
        if dump_tree(self.candidate) != dump_tree(self.active):
            self.history.insert(0, _copy(self.active))
            self.active = _copy(self.candidate)
            self.on_change()
        self.confirm_pending = minutes
        if self.emu.get("commit_leaves_config_mode") and minutes is None:
            self.mode = "exec"
            self.context = []
        if minutes is not None:
            return self.emu["commit_confirmed_ok"].format(minutes=minutes) + "\n"
        return self.emu["commit_ok"] + "\n"

    def _save(self) -> str:
        def done() -> str:
            self.saved = self.running_lines()
            return self.emu["save_ok"] + "\n"

        return self._ask(self.emu.get("save_prompts") or [], done)

    def _ask(self, prompts: list[Any], on_done: Callable[[], str]) -> str:
        """Ask each prompt in turn; go on only on an answer the device accepts."""
        steps = [p if isinstance(p, dict) else {"prompt": p} for p in prompts]
        if not steps:
            return on_done()
        self._dialogue = [{"prompt": p["prompt"], "accept": p.get("accept", r"(?i)y(es)?")} for p in steps]
        self._on_done = on_done
        return self._dialogue[0]["prompt"]

    def _answer(self, cmd: str) -> str:
        step = self._dialogue.pop(0)
        if not re.fullmatch(step["accept"], cmd):
            self._dialogue = []
            return self.emu["save_abort"] + "\n"
        if self._dialogue:
            return self._dialogue[0]["prompt"]
        return self._on_done()

    def _config_line(self, line: str) -> str:
        line = line.rstrip()
        self.sent.append(line)
        stripped = line.strip()
        if not stripped:
            return ""
        if self.invalid(stripped):
            return self._error(line)
        if any(rx.search(stripped) for rx in self._structural):
            return self._echo(line)
        ind = _indent(line)
        context = list(self.context)
        while context and context[-1][0] >= ind:
            context.pop()
        entered: str | None = None
        mode_of_line = "top"
        if self.grammar is not None:
            mode = mode_of_line = (context[-1][1].mode if context else "top") or "top"
            rule = self.grammar.match(mode, stripped)
            if rule is None:
                return self._error(line)
            entered = rule.enter
        echo = self._echo(line)
        self.context = context
        siblings = self.context[-1][1].children if self.context else self._tree()
        for rx, target in self._negate:
            m = rx.fullmatch(stripped)
            if m:
                gone = " ".join(m.expand(target).split())
                before = len(siblings)
                siblings[:] = [n for n in siblings if n.key != gone and not n.key.startswith(gone + " ")]
                if len(siblings) != before:
                    if not self.commit_mode:
                        self.on_change()
                    return echo
                # Nothing to remove: on platforms that show such lines (`undo version 2` on VRP)
                # the line turns off something on by default and stays as a statement.
                if not self.emu.get("keep_unmatched_negations"):
                    return echo
                break
        key = " ".join(stripped.split())
        node = next((n for n in siblings if n.key == key), None)
        if node is None:
            old = next((n for n in siblings if self.replaces(n.key, key)
                        or (self.grammar is not None and self.grammar.replaces(mode_of_line, n.key, key))), None)
            if old is not None:
                old.text = line
                node = old
            else:
                node = Node(line)
                siblings.append(node)
            if not self.commit_mode:
                self.on_change()
        if entered is not None:
            node.mode = entered
        self.context.append((ind, node))
        return echo


def _assign_modes(grammar: Any, nodes: list[Node], mode: str) -> None:
    """Give a loaded configuration's block heads the sub-modes the grammar says they enter."""
    for n in nodes:
        rule = grammar.match(mode, n.text.strip())
        n.mode = rule.enter if rule is not None else None
        _assign_modes(grammar, n.children, n.mode or mode)
