"""The session-end check (tests/conftest.py) finds a generated key in a run directory or an output."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunnelsmith.secrets import cisco_type7

from ..conftest import _OUTPUTS, _leaks


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory outside pytest's base temp: the leaks planted here must not fail the session."""
    with tempfile.TemporaryDirectory(prefix="ts-leakcheck-") as d:
        yield Path(d)


def test_the_suite_check_finds_a_key_in_a_run_directory_but_not_in_a_backup(outside: Path) -> None:
    tmp_path = outside
    key = "k0a1b2c3d4e5f6a7b8c9d0e1f"
    (tmp_path / "labstate").mkdir()
    (tmp_path / "labstate" / "secrets.yaml").write_text(f"t1: '{key}'\n")
    run = tmp_path / "runs" / "20261202T063110Z-040ada" / "r1"
    (run / "backup").mkdir(parents=True)
    (run / "backup" / "backup.json").write_text(key)  # the device's own config: kept for rollback
    (run / "diff.txt").write_text("pre-shared-key ********\n")
    assert _leaks(tmp_path) == []
    (run / "session.log").write_text(f"crypto isakmp key 7 {cisco_type7(key, 9)} address 203.0.113.1\n")
    assert _leaks(tmp_path) == [f"run directory file {run / 'session.log'}"]


def test_the_suite_check_finds_a_key_in_captured_output(outside: Path) -> None:
    tmp_path = outside
    key = "k9f8e7d6c5b4a39281706f5e4d"
    (tmp_path / "secrets.yaml").write_text(f"t1: {key}\n")
    _OUTPUTS.append(("tests/x.py::y", f"Captured stdout call\nsecret = {key}\n"))
    try:
        assert _leaks(tmp_path) == ["captured output of tests/x.py::y"]
    finally:
        _OUTPUTS.pop()
