"""A vendor's configuration-mode command grammar, as data (`templates/platforms/<p>/twin/grammar.yaml`).

A twin accepts a configuration line only when it matches a rule of the mode it is typed in;
anything else gets the vendor's error, as on the device. So a typo in a tunnelsmith template is
rejected in the lab the way the real CLI would reject it. Rules are written from the vendor's
command reference, not from tunnelsmith's templates.

Format::

    tokens: {ip: '(?:\\d{1,3}\\.){3}\\d{1,3}', word: '\\S+'}   # <ip> in a rule expands to (?:...)
    modes:
      top:                                   # configuration mode itself
        - {match: 'crypto isakmp policy <num>', enter: isakmp}   # a line entering a sub-mode
        - 'hostname <word>'                  # a plain rule (a string)
      isakmp:
        - 'encr(?:yption)? (?:aes(?: (?:128|192|256))?|3des|des)'
    negation:                                # a line undoing another: accepted when `as` matches a rule
      - {match: '^no (.+)$', as: '\\1'}
    settings:                                # single-valued settings per mode: typing one again
      isakmp: ['encr(?:yption)?', 'lifetime']   # replaces it, as on the device (a line's setting
                                             # is what the regex matches at its start, up to a blank)

Every rule must match the whole line (stripped of indentation, blanks collapsed). A line's mode
is the mode its parent line (the nearest less-indented line) entered, else `top`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunnelsmith.resources import load_yaml

TOP = "top"
_TOKEN = re.compile(r"<([a-z_][a-z0-9_]*)>")


class GrammarError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    enter: str | None
    source: str


@dataclass
class Grammar:
    modes: dict[str, list[Rule]]
    negation: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    settings: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)

    def match(self, mode: str, line: str) -> Rule | None:
        """The rule accepting `line` in `mode` (negations via the rule of what they undo)."""
        text = " ".join(line.split())
        for rule in self.modes.get(mode, []):
            if rule.pattern.fullmatch(text):
                return rule
        for rx, target in self.negation:
            m = rx.fullmatch(text)
            if m:
                undone = m.expand(target)
                for rule in self.modes.get(mode, []):
                    if rule.pattern.fullmatch(undone):
                        return Rule(rule.pattern, None, f"negation of {rule.source}")
        return None

    def accepts(self, mode: str, line: str) -> bool:
        return self.match(mode, line) is not None

    def setting(self, mode: str, line: str) -> str | None:
        """The single-valued setting a line sets in `mode` (its name), or None."""
        text = " ".join(line.split())
        for rx in self.settings.get(mode, []):
            m = rx.match(text)
            if m:
                return m.group(0)
        return None

    def replaces(self, mode: str, old: str, new: str) -> bool:
        """Whether typing `new` in `mode` replaces the sibling `old`: the same single-valued setting."""
        key = self.setting(mode, new)
        return key is not None and self.setting(mode, old) == key


def compile_grammar(raw: dict[str, Any], where: str = "grammar") -> Grammar:
    tokens = {str(k): str(v) for k, v in (raw.get("tokens") or {}).items()}

    def expand(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in tokens:
                raise GrammarError(f"{where}: unknown token <{name}> in rule {text!r}")
            return f"(?:{tokens[name]})"

        return _TOKEN.sub(sub, text)

    modes: dict[str, list[Rule]] = {}
    raw_modes = raw.get("modes") or {}
    if TOP not in raw_modes:
        raise GrammarError(f"{where}: no `top` mode")
    for mode, rules in raw_modes.items():
        out: list[Rule] = []
        for r in rules or []:
            text, enter = (r, None) if isinstance(r, str) else (r["match"], r.get("enter"))
            if enter is not None and enter not in raw_modes:
                raise GrammarError(f"{where}: rule {text!r} enters unknown mode {enter!r}")
            try:
                out.append(Rule(re.compile(expand(text)), enter, text))
            except re.error as exc:
                raise GrammarError(f"{where}: mode {mode}: bad rule {text!r}: {exc}") from None
        modes[str(mode)] = out
    negation = [(re.compile(n["match"]), str(n["as"])) for n in raw.get("negation") or []]
    settings: dict[str, list[re.Pattern[str]]] = {}
    for mode, keys in (raw.get("settings") or {}).items():
        if mode not in raw_modes:
            raise GrammarError(f"{where}: settings for unknown mode {mode!r}")
        settings[str(mode)] = [re.compile(f"(?:{expand(str(k))})(?= |$)") for k in keys or []]
    return Grammar(modes=modes, negation=negation, settings=settings)


def load(path: Path) -> Grammar:
    return compile_grammar(load_yaml(path) or {}, str(path))
