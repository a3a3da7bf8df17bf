"""Per-platform knowledge as data: `templates/platforms/<name>/platform.yaml` and `algorithms.yaml`.

Generic code asks a `PlatformSpec` for spellings, commands, prompts and safety rules; it never
branches on a platform name. Adding a platform is adding a folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tunnelsmith.platforms import dataschema
from tunnelsmith.platforms.dataschema import PlatformDataError
from tunnelsmith.resources import load_yaml, platforms_root

__all__ = ["AlgorithmTable", "PlatformDataError", "PlatformSpec", "UnsupportedAlgorithm", "available", "load"]


class UnsupportedAlgorithm(KeyError):
    def __init__(self, platform: str, table: str, value: Any, variant: str | None):
        self.platform, self.table, self.value, self.variant = platform, table, value, variant
        v = f" ({variant})" if variant else ""
        super().__init__(f"platform {platform}{v} cannot do {table.replace('_', ' ')} {value!r}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


ALGORITHM_TABLES = ("ike_encryption", "ike_integrity", "ike_dh", "ipsec_encryption", "ipsec_integrity", "pfs")


@dataclass(frozen=True)
class AlgorithmTable:
    """Vendor-neutral name -> this platform's spelling. A missing entry means 'cannot do'."""

    platform: str
    variant: str | None
    tables: dict[str, dict[str, str]]

    def spell(self, table: str, value: Any) -> str:
        entries = self.tables.get(table) or {}
        key = str(value)
        if key not in entries:
            raise UnsupportedAlgorithm(self.platform, table, value, self.variant)
        return str(entries[key])

    def supports(self, table: str, value: Any) -> bool:
        return str(value) in (self.tables.get(table) or {})


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    directory: Path
    raw: dict[str, Any]
    algorithms_raw: dict[str, Any]

    @property
    def title(self) -> str:
        return self.raw.get("title", self.name)

    @property
    def driver(self) -> str:
        return self.raw["driver"]

    @property
    def netmiko_device_type(self) -> str:
        return self.raw["netmiko_device_type"]

    @property
    def variants(self) -> list[str]:
        return list(self.raw.get("variants") or [])

    @property
    def default_variant(self) -> str | None:
        return self.raw.get("default_variant")

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name) or {})

    def algorithms(self, variant: str | None = None) -> AlgorithmTable:
        variant = variant or self.default_variant
        tables: dict[str, dict[str, str]] = {}
        # The six standard tables, plus any extra table a platform defines for its own
        # templates (e.g. Cisco's IKEv2 proposal words differ from its IKEv1 policy words).
        extra = [k for k, v in self.algorithms_raw.items() if k != "variants" and isinstance(v, dict)
                 and k not in ALGORITHM_TABLES]
        for table in (*ALGORITHM_TABLES, *extra):
            tables[table] = {str(k): v for k, v in (self.algorithms_raw.get(table) or {}).items()}
        if variant:
            overrides = (self.algorithms_raw.get("variants") or {}).get(variant) or {}
            for table, entries in overrides.items():
                merged = dict(tables.get(table) or {})
                for k, v in (entries or {}).items():
                    if v is None:
                        merged.pop(str(k), None)
                    else:
                        merged[str(k)] = v
                tables[table] = merged
        return AlgorithmTable(self.name, variant, tables)

    # --- safety rules (see validation/platform_rules.py) -------------------------------------------------
    def safety(self) -> dict[str, Any]:
        return dict(self.raw.get("safety") or {})

    def interface_pattern(self) -> re.Pattern[str] | None:
        pat = self.safety().get("interface_name")
        return re.compile(pat) if pat else None


def available() -> list[str]:
    return sorted(p.parent.name for p in platforms_root().glob("*/platform.yaml"))


@cache
def load(name: str) -> PlatformSpec:
    """The platform's data, each file checked against its schema (platforms/dataschema.py).

    Raises KeyError for an unknown platform, PlatformDataError naming the file and the key for
    data that breaks the schema.
    """
    directory = platforms_root() / name
    path = directory / "platform.yaml"
    if not path.exists():
        raise KeyError(name)
    raw = dict(load_yaml(path) or {})
    dataschema.check(path, raw)
    if raw.get("name") != name:
        raise dataschema.PlatformDataError(f"{path}: name: {raw.get('name')!r} is not the folder's name {name!r}")
    algo_path = directory / "algorithms.yaml"
    algorithms = load_yaml(algo_path) if algo_path.exists() else {}
    if algo_path.exists():
        dataschema.check(algo_path, algorithms)
    # verify.yaml (optional) holds the verification and diagnosis knowledge: sections
    # `verify:` and `diagnosis:` that extend platform.yaml's.
    verify_path = directory / "verify.yaml"
    if verify_path.exists():
        extra = load_yaml(verify_path) or {}
        dataschema.check(verify_path, extra)
        for key, value in extra.items():
            if isinstance(value, dict) and isinstance(raw.get(key), dict):
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
    return PlatformSpec(name=name, directory=directory, raw=raw, algorithms_raw=algorithms or {})
