"""The device dialogue of the cli driver: entering and leaving configuration mode, sending one line,
answering a command's questions, and checking output against the platform's error patterns.

Everything comes from the platform's `config:` data (already resolved for the device's options)
and its `config.rollback:` data; nothing here knows a vendor.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms.base import Connection

log = logging.getLogger("tunnelsmith.platforms.cli")

MAX_PROMPTS = 6  # save/prepare dialogues answered at most this many times


def first_match(patterns: list[re.Pattern[str]], text: str) -> re.Pattern[str] | None:
    return next((p for p in patterns if p.search(text)), None)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_GLOBAL_FLAGS = re.compile(r"^\(\?([aiLmsux]+)\)")


def _scoped(pattern: str) -> str:
    """A regex as one alternative: leading global flags `(?i)x` become a scoped group `(?i:x)`."""
    m = _GLOBAL_FLAGS.match(pattern)
    return f"(?{m.group(1)}:{pattern[m.end():]})" if m else f"(?:{pattern})"


@dataclass(frozen=True)
class Dialogue:
    """One platform's CLI conversation rules: `cfg` = resolved `config:`, `rb` = `config.rollback:`."""

    platform: str
    cfg: dict[str, Any]
    rb: dict[str, Any]

    @property
    def timeout(self) -> float:
        return float(self.cfg.get("timeout", 120))

    def errors(self, extra_key: str | None = None, rollback: bool = False) -> list[re.Pattern[str]]:
        """config.error_patterns, plus config.<extra_key>, plus rollback.error_patterns."""
        pats = list(self.cfg.get("error_patterns") or [])
        if extra_key:
            pats += list(self.cfg.get(extra_key) or [])
        if rollback:
            pats += list(self.rb.get("error_patterns") or [])
        return [re.compile(p, re.M) for p in pats]

    def enter(self, conn: Connection) -> str:
        enter = self.cfg.get("enter")
        return str(conn.config_mode(config_command=enter) if enter else conn.config_mode())

    def leave(self, conn: Connection) -> str:
        leave = self.cfg.get("exit")
        return str(conn.exit_config_mode(exit_config=leave) if leave else conn.exit_config_mode())

    def send_line(self, conn: Connection, line: str) -> str:
        """One configuration line and the device's answer.

        Netmiko verifies each line's echo, except on drivers that switch that off (Comware: no
        terminal width to set, long lines wrap); there it waits for 2 s of silence per line. A
        platform's `config.line_prompt` (a regex for the prompt that ends the answer) reads up to
        the prompt instead, as fast as echo verification and still stopping at the first error.
        """
        prompt = self.cfg.get("line_prompt")
        if prompt:
            return str(conn.send_command(line, expect_string=prompt, cmd_verify=False, strip_prompt=False,
                                         strip_command=False, read_timeout=self.timeout))
        return str(conn.send_config_set([line], enter_config_mode=False, exit_config_mode=False))

    def command(self, conn: Connection, command: str) -> str:
        """An exec (or config-mode) command whose whole output is read, up to config.timeout."""
        return str(conn.send_command(command, read_timeout=self.timeout))

    def ask(self, conn: Connection, command: str, confirms: list[dict[str, str]]) -> str:
        """Send a command that may ask questions; answer each prompt its `expect` regex matches."""
        if not confirms:
            return self.command(conn, command)
        # Read each answer up to one of the questions or back to the prompt: as exact as waiting
        # for silence (send_command_timing), without its 2 s per step.
        prompt = str(conn.find_prompt()).strip()
        expect = "|".join([*(_scoped(c["expect"]) for c in confirms), *([re.escape(prompt)] if prompt else [])])

        def send(text: str) -> str:
            return str(conn.send_command(text, expect_string=expect, strip_prompt=False, strip_command=False,
                                         read_timeout=self.timeout))

        chunk = send(command)
        out = chunk
        for _ in range(MAX_PROMPTS):
            step = next((c for c in confirms if re.search(c["expect"], chunk)), None)
            if step is None:
                break
            chunk = send(str(step.get("answer", "")))
            out += chunk
        return out

    def check(self, what: str, output: str, extra_key: str | None = None, hint: str = "",
              rollback: bool = False) -> None:
        """Raise PushError (masked) when `output` matches an error pattern."""
        bad = first_match(self.errors(extra_key, rollback), output)
        if bad:
            masked = secretmod.mask(output.strip())
            log.error("%s: %s failed: %s", self.platform, what, masked)
            raise PushError(f"{what} failed (output matches {bad.pattern!r}):\n{masked}", rollback_hint=hint)
