"""Secret references resolve only from safe places, and every resolved value is masked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tunnelsmith import secrets
from tunnelsmith.model import SecretRef


def test_env_reference_resolves_and_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_TEST_PSK", "s3cr3t-Value-42")
    assert secrets.resolve(SecretRef(env="TS_TEST_PSK")) == "s3cr3t-Value-42"
    assert secrets.mask("key is s3cr3t-Value-42 here") == f"key is {secrets.MASK} here"


def test_missing_env_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TS_TEST_ABSENT", raising=False)
    with pytest.raises(secrets.SecretError, match="TS_TEST_ABSENT is not set"):
        secrets.resolve(SecretRef(env="TS_TEST_ABSENT"))


def _secrets_file(path: Path, mode: int) -> Path:
    path.write_text("t1: 'file-secret-77'\n")
    os.chmod(path, mode)
    return path


def test_file_reference_needs_mode_0600(tmp_path: Path) -> None:
    secrets.clear_cache()
    f = _secrets_file(tmp_path / "s.yaml", 0o644)
    with pytest.raises(secrets.SecretError, match="0644"):
        secrets.resolve(SecretRef(file=str(f), key="t1"))
    os.chmod(f, 0o600)
    assert secrets.resolve(SecretRef(file=str(f), key="t1")) == "file-secret-77"


def test_file_reference_inside_inventory_is_refused(tmp_path: Path) -> None:
    secrets.clear_cache()
    inv = tmp_path / "inv"
    inv.mkdir()
    f = _secrets_file(inv / "s.yaml", 0o600)
    with pytest.raises(secrets.SecretError, match="inside the inventory"):
        secrets.resolve(SecretRef(file=str(f), key="t1"), inventory_dir=inv)


def test_missing_key_in_file(tmp_path: Path) -> None:
    secrets.clear_cache()
    f = _secrets_file(tmp_path / "s.yaml", 0o600)
    with pytest.raises(secrets.SecretError, match="'nope' not found"):
        secrets.resolve(SecretRef(file=str(f), key="nope"))


def test_masker_masks_longest_first() -> None:
    m = secrets.Masker()
    m.add("abcd")
    m.add("abcdefgh")
    assert m.mask("x abcdefgh y abcd") == f"x {secrets.MASK} y {secrets.MASK}"


def test_masker_ignores_values_too_short_to_mask() -> None:
    m = secrets.Masker()
    m.add("x")
    assert m.mask("does not exist") == "does not exist"


def test_lab_dir_variable_expands_with_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNNELSMITH_LAB_DIR", raising=False)
    assert str(secrets.expand_path("${TUNNELSMITH_LAB_DIR}/x")) == f"{secrets.LAB_DIR_DEFAULT}/x"
    monkeypatch.setenv("TUNNELSMITH_LAB_DIR", "/tmp/elsewhere")
    assert str(secrets.expand_path("${TUNNELSMITH_LAB_DIR}/x")) == "/tmp/elsewhere/x"


def test_masking_stream_masks_every_write() -> None:
    import io

    secrets.MASKER.add("stream-secret-991")
    buf = io.StringIO()
    out = secrets.MaskingStream(buf)
    out.write("error: line 'crypto isakmp key stream-secret-991 address 1.2.3.4' rejected\n")
    assert "stream-secret-991" not in buf.getvalue() and secrets.MASK in buf.getvalue()
