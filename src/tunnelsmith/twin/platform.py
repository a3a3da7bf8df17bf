"""A platform's twin pieces (`templates/platforms/<name>/twin/`), loaded once: data, grammar, interpreter, templates."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2

from tunnelsmith.platforms import spec as pspec
from tunnelsmith.resources import load_yaml
from tunnelsmith.twin import grammar as grammarmod
from tunnelsmith.twin.model import Interpretation

REQUIRED = ("twin.yaml", "grammar.yaml", "interpret.py", "base.j2", "ping.j2")


def twin_dir(platform: str) -> Path:
    return pspec.load(platform).directory / "twin"


def has_twin(platform: str) -> bool:
    """A platform runs as a twin in the lab when its folder has the twin pieces."""
    try:
        return (twin_dir(platform) / "twin.yaml").exists()
    except KeyError:
        return False


@dataclass(frozen=True)
class Command:
    pattern: re.Pattern[str]
    entry: dict[str, Any]


@dataclass
class TwinPlatform:
    name: str
    directory: Path
    data: dict[str, Any]
    grammar: grammarmod.Grammar
    interpret: Callable[[list[str]], Interpretation]
    env: jinja2.Environment

    def commands(self, key: str) -> list[Command]:
        return [Command(re.compile(e["match"]), e) for e in self.data.get(key) or []]

    def spell(self, table: str, neutral: Any) -> str:
        """The twin's own vendor spelling of a neutral algorithm name (first spelling listed)."""
        for spelling, value in ((self.data.get("algorithms") or {}).get(table) or {}).items():
            if str(value) == str(neutral):
                return str(spelling)
        return str(neutral)

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(spell=self.spell, **context)


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"tunnelsmith_twin_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses and typing look their module up there
    spec.loader.exec_module(mod)
    return mod


@cache
def load(platform: str) -> TwinPlatform:
    d = twin_dir(platform)
    missing = [f for f in REQUIRED if not (d / f).exists()]
    if missing:
        raise FileNotFoundError(f"platform {platform}: twin pieces missing in {d}: {', '.join(missing)}")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(d)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return TwinPlatform(name=platform, directory=d, data=load_yaml(d / "twin.yaml") or {},
                        grammar=grammarmod.load(d / "grammar.yaml"),
                        interpret=_module(d / "interpret.py", platform).interpret, env=env)
