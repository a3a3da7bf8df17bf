"""The shipped inventories validate clean once their secrets exist (set here, never stored)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tunnelsmith import secrets as secretmod
from tunnelsmith import validate
from tunnelsmith.platforms import spec as pspec

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "inventory" / "lab"
GUIDE = ROOT / "inventory" / "examples" / "ctyun-guide"
# inventory/examples/ctyun-guide/README.md: the tests set the guide's (masked) key values.
GUIDE_PSKS = {"TS_GUIDE_PSK_STRONGSWAN": "aa123bb****", "TS_GUIDE_PSK_JUNIPER": "aa123bb****",
              "TS_GUIDE_PSK_CISCO": "aa123bb****", "TS_GUIDE_PSK_HILLSTONE": "aa123bb****",
              "TS_GUIDE_PSK_H3C": "ctyun_h3c"}


@pytest.fixture(autouse=True)
def _fresh_secrets() -> None:
    secretmod.clear_cache()


def test_lab_inventory_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab_dir = tmp_path / "lab-state"
    lab_dir.mkdir()
    secrets_file = lab_dir / "secrets.yaml"
    names = [t["name"] for t in yaml.safe_load((LAB / "tunnels.yaml").read_text())["tunnels"]]
    secrets_file.write_text(yaml.safe_dump({n: "Lab.key_" + n.replace("-", "_") for n in names}))
    os.chmod(secrets_file, 0o600)
    monkeypatch.setenv("TUNNELSMITH_LAB_DIR", str(lab_dir))
    assert validate.check(LAB) == []


def test_lab_inventory_without_secrets_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNNELSMITH_LAB_DIR", str(tmp_path / "absent"))
    problems = validate.check(LAB)
    names = {t["name"] for t in yaml.safe_load((LAB / "tunnels.yaml").read_text())["tunnels"]}
    assert {p.obj for p in problems} == {f"tunnel {n}" for n in names} and len(names) > 3
    assert all(p.field == "psk" and "does not exist" in p.message for p in problems), problems


def test_ctyun_guide_inventory_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    needed = {yaml.safe_load((GUIDE / "hosts.yaml").read_text())[h].get("platform")
              for h in yaml.safe_load((GUIDE / "hosts.yaml").read_text())} - {None}
    missing = sorted(needed - set(pspec.available()))
    if missing:
        pytest.skip(f"platforms not added yet: {', '.join(missing)}")
    for k, v in GUIDE_PSKS.items():
        monkeypatch.setenv(k, v)
    assert validate.check(GUIDE) == []
