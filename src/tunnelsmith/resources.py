"""Locate shipped data (templates, platform and cloud profiles) inside the installed package."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


def templates_root() -> Path:
    return Path(str(resources.files("tunnelsmith.templates")))


def platforms_root() -> Path:
    return templates_root() / "platforms"


def clouds_root() -> Path:
    return templates_root() / "clouds"


@cache
def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # a safe loader
