"""The inventory as a JSON Schema (draft 2020-12), for editors, CI and `tunnelsmith schema`.

The schema is generated from the pydantic model the loader validates with (`invmodel`), so the
schema and the validator cannot disagree on shape. One schema describes the four files as one
document `{hosts, groups, defaults, tunnels}` (see `document()`). Enumerations (providers, gateway
types, platforms and their option keys) are read at run time from the cloud profiles and platform
folders. The schema checks shape and spelling; `tunnelsmith.validate` checks meaning (algorithms a
provider or platform offers, overlaps, quotas, secrets...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunnelsmith import invmodel
from tunnelsmith.yamlio import load_strict

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def inventory_schema() -> dict[str, Any]:
    """JSON Schema of an inventory document {hosts, groups, defaults, tunnels} (see `document`).

    Generated from `tunnelsmith.invmodel`, the model `inventory.load` validates with, so the two
    accept and refuse the same documents."""
    generated = invmodel.document_model().model_json_schema()
    return {
        "$schema": DIALECT,
        "$id": "https://tunnelsmith.example.invalid/schema/inventory.json",
        **generated,
        "title": "tunnelsmith inventory",
        "description": "hosts.yaml, groups.yaml, defaults.yaml (Nornir SimpleInventory with data.role "
                       "cloud|device) and tunnels.yaml, as one document keyed by file stem",
    }


def document(directory: str | Path) -> dict[str, Any]:
    """An inventory directory as the one document the schema describes (absent files: empty)."""
    d = Path(directory)
    out: dict[str, Any] = {}
    for stem in ("hosts", "groups", "defaults", "tunnels"):
        path = d / f"{stem}.yaml"
        if path.exists():
            out[stem] = load_strict(path) or {}
    return out
