"""Shared fixtures: repository paths and a lab-inventory secrets file made at test time."""

from __future__ import annotations

import os
import re
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


# --- no PSK in any output of the whole suite -------------------------------------------------------
# Every PSK the suite generates lives in a `secrets.yaml` under pytest's base temp directory (the
# lab's keys, the `lab_secrets` fixture's). At the end of the session, every run directory there
# (except `backup/`, the device's own configuration, kept 0600 for rollback) and every test's
# captured output and failure report must hold none of them, nor their Cisco type 7 forms.
_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_OUTPUTS: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    texts = [text for _, text in report.sections]
    if report.longrepr is not None:
        texts.append(str(report.longrepr))
    joined = "\n".join(texts)
    if joined.strip():
        _OUTPUTS.append((report.nodeid, joined[:2_000_000]))


def _suite_psks(base: Path) -> set[str]:
    """Generated keys: long, mixed letters and digits (test payloads such as config words excluded)."""
    import yaml

    out: set[str] = set()
    for f in base.rglob("secrets.yaml"):
        try:
            data = yaml.load(f.read_text(), Loader=yaml.BaseLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            out |= {v for v in data.values() if isinstance(v, str) and len(v) >= 12
                    and re.search(r"\d", v) and re.search(r"[A-Za-z]", v)}
    return out


def _leaks(base: Path) -> list[str]:
    from tunnelsmith.secrets import cisco_type7

    psks = _suite_psks(base)
    if not psks:
        return []
    forms = psks | {cisco_type7(v, s) for v in psks if v.isascii() for s in range(16)}
    rx = re.compile("|".join(re.escape(v) for v in sorted(forms, key=len, reverse=True)))
    found: list[str] = []
    for f in base.rglob("*"):
        parts = f.relative_to(base).parts
        if not f.is_file() or "backup" in parts or not any(_RUN_ID.match(p) for p in parts):
            continue
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        if rx.search(text):
            found.append(f"run directory file {f}")
    found += [f"captured output of {nodeid}" for nodeid, text in _OUTPUTS if rx.search(text)]
    return found


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or getattr(session.config.option, "collectonly", False):
        return
    try:
        base = factory.getbasetemp()
    except (OSError, ValueError):
        return
    leaks = _leaks(Path(base))
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["a generated pre-shared key (or its type 7 form) appears in:", *(f"  {x}" for x in leaks[:50])]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
