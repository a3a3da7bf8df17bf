"""`pip install .` ships one `tunnelsmith` namespace with its templates; no generic top-level names."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # Build from a copy so the checkout's build/ and egg-info are never touched.
    src = build / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "runs", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", "tests"))
    out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "--target", str(target), str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return target


def test_only_tunnelsmith_is_installed(installed: Path) -> None:
    tops = {p.name for p in installed.iterdir() if not p.name.endswith((".dist-info", ".egg-info"))}
    tops.discard("bin")
    assert tops == {"tunnelsmith"}


def test_templates_and_subpackages_work_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = (
        "import tunnelsmith, tunnelsmith.tasks.config, tunnelsmith.runbooks.rollout;"
        "from tunnelsmith.platforms import spec; from tunnelsmith import clouds;"
        "assert 'site' in tunnelsmith.__file__ or 'pytest' in tunnelsmith.__file__, tunnelsmith.__file__;"
        "print(','.join(spec.available())); print(','.join(clouds.available()))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    platforms, provs = out.stdout.strip().splitlines()
    assert "strongswan" in platforms.split(",")
    assert {"ctyun", "jdcloud", "generic"} <= set(provs.split(","))


def test_every_twin_loads_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    """The twins' grammar, interpreter and show templates ship as package data and load."""
    code = (
        "from tunnelsmith.platforms import spec; from tunnelsmith.twin import platform as tp;"
        "names = [p for p in spec.available() if tp.has_twin(p)];"
        "[tp.load(p).render('base.j2', hostname='r1', username='admin', wan={'interface': 'w', 'address': "
        "'198.51.100.10/24'}, mgmt={'interface': 'm', 'address': '198.18.0.2/30'}, lan=[]) for p in names];"
        "print(','.join(names))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert set(out.stdout.strip().split(",")) == {"cisco_ios", "juniper_junos", "huawei_vrp", "hp_comware",
                                                  "hillstone_stoneos"}
