"""Shared fixtures: repository paths and a lab-inventory secrets file made at test time."""

from __future__ import annotations

import os
import secrets as pysecrets
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INVENTORY = REPO / "inventory"


@pytest.fixture
def lab_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point ${TUNNELSMITH_LAB_DIR} at a temp dir holding fresh PSKs for the lab inventory."""
    import yaml

    names = [t["name"] for t in yaml.safe_load((INVENTORY / "lab" / "tunnels.yaml").read_text())["tunnels"]]
    keys = {name: "k" + pysecrets.token_hex(12) for name in names}  # valid for every cloud (AWS: no leading 0)
    lab_dir = tmp_path / "labstate"
    lab_dir.mkdir()
    f = lab_dir / "secrets.yaml"
    f.write_text("".join(f"{k}: '{v}'\n" for k, v in keys.items()))
    os.chmod(f, 0o600)
    monkeypatch.setenv("TUNNELSMITH_LAB_DIR", str(lab_dir))
    from tunnelsmith import secrets

    secrets.clear_cache()
    return keys
