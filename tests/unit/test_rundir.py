"""Run directories: masked artifacts, backups that can never be overwritten."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tunnelsmith import secrets
from tunnelsmith.platforms.base import Backup
from tunnelsmith.rundir import RunDir


def test_artifacts_are_masked(tmp_path: Path) -> None:
    secrets.MASKER.add("run-dir-psk-123")
    run = RunDir.create(tmp_path)
    p = run.write("dev1", "diff.txt", "+ secret = run-dir-psk-123\n")
    assert "run-dir-psk-123" not in p.read_text()
    assert secrets.MASK in p.read_text()


def test_backup_is_exclusive_and_private(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path)
    b = Backup(host="dev1", platform="strongswan", files={"/etc/x": "old", "/etc/y": None})
    path = run.write_backup(b)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        run.write_backup(Backup(host="dev1", platform="strongswan", files={"/etc/x": "new"}))
    assert json.loads(path.read_text())["files"]["/etc/x"] == "old"
    again = RunDir.open(tmp_path, run.run_id).read_backup("dev1")
    assert again.files == {"/etc/x": "old", "/etc/y": None}


def test_run_ids_are_unique(tmp_path: Path) -> None:
    ids = {RunDir.create(tmp_path).run_id for _ in range(20)}
    assert len(ids) == 20
