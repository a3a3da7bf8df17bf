"""Which named sections of a configuration file changed (e.g. ipsec.conf `conn` blocks).

Some daemons only re-read a file and keep state negotiated under old settings (strongSwan's
starter after `ipsec update` keeps the old CHILD SAs), so a files driver takes changed sections
down before activating. How a file splits into sections is platform data:

    header:  regex whose group 1 names a section (`^conn\\s+(\\S+)`)
    inherit: regex whose group 1 names a section this one includes (`^also\\s*=\\s*(\\S+)`)
    always:  sections every section depends on (`%default`)
    skip:    regex of section names never reported themselves (`^%`)
    comment: regex of lines to ignore (`^#`)

A section changed when its own lines, or those of the sections it includes, differ (blank lines,
comments and whitespace ignored), or when it disappeared. New sections are not reported: there
is nothing running to take down.
"""

from __future__ import annotations

import re
from typing import Any


def split(text: str | None, rules: dict[str, Any]) -> dict[str, list[str]]:
    """Section name -> its normalised lines; lines before the first header are dropped."""
    header = re.compile(rules["header"])
    comment = re.compile(rules.get("comment", r"^#"))
    out: dict[str, list[str]] = {}
    current: str | None = None
    for raw in (text or "").splitlines():
        line = " ".join(raw.split())
        if not line or comment.search(line):
            continue
        m = header.search(raw.strip())
        if m:
            current = m.group(1)
            out.setdefault(current, [])
        elif raw[:1] not in (" ", "\t"):
            current = None  # a top-level line (e.g. `config setup`) ends the section
        elif current is not None:
            out[current].append(line)
    return out


def _signature(name: str, sections: dict[str, list[str]], rules: dict[str, Any]) -> tuple[str, ...]:
    inherit = re.compile(rules["inherit"]) if rules.get("inherit") else None
    seen: list[str] = []
    todo = [name, *rules.get("always", [])]
    while todo:
        s = todo.pop(0)
        if s in seen:
            continue
        seen.append(s)
        for line in sections.get(s, []):
            m = inherit.search(line) if inherit else None
            if m:
                todo.append(m.group(1))
    return tuple(f"{s}:{line}" for s in seen for line in sections.get(s, []))


def changed(old: str | None, new: str | None, rules: dict[str, Any]) -> list[str]:
    before, after = split(old, rules), split(new, rules)
    skip = re.compile(rules["skip"]) if rules.get("skip") else None
    names = [n for n in before if not (skip and skip.search(n))]
    return sorted(n for n in names
                  if n not in after or _signature(n, before, rules) != _signature(n, after, rules))
