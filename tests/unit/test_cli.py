"""The `tunnelsmith` command: exit codes (0 pass, 1 check failed, 2 usage/inventory error), masking."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import INVENTORY

TS = str(Path(sys.executable).parent / "tunnelsmith")
GUIDE = INVENTORY / "examples" / "ctyun-guide"
GUIDE_KEYS = {"TS_GUIDE_PSK_STRONGSWAN": "aa123bb-guide-key", "TS_GUIDE_PSK_JUNIPER": "aa123bb-guide-key",
              "TS_GUIDE_PSK_CISCO": "aa123bb-guide-key", "TS_GUIDE_PSK_HILLSTONE": "aa123bb-guide-key",
              "TS_GUIDE_PSK_H3C": "ctyun_h3c_guide"}


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run([TS, *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_validate_clean_inventory_exits_0() -> None:
    out = run("validate", "-i", str(GUIDE), env=GUIDE_KEYS)
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    d = tmp_path / "inv"
    shutil.copytree(GUIDE, d)
    tunnels = (d / "tunnels.yaml").read_text()
    tunnels = tunnels.replace("dh_group: 5, lifetime: 86400}", "dh_group: 7, lifetime: 86400}", 1)  # not CTyun's
    tunnels = tunnels.replace("remote: 192.168.10.0/24}]", "remote: 172.16.2.0/25}]", 1)  # overlaps the LAN
    (d / "tunnels.yaml").write_text(tunnels)
    out = run("validate", "-i", str(d), "--format", "json", env=GUIDE_KEYS)
    assert out.returncode == 2
    problems = json.loads(out.stdout)["problems"]
    fields = {(p["object"], p["field"]) for p in problems}
    assert ("tunnel ctyun", "ike.dh_group") in fields
    assert any(p["object"] == "tunnel tomyidc" and "overlap" in p["message"] for p in problems)
    assert all(p["file"].endswith("tunnels.yaml") for p in problems)


def test_missing_secret_is_an_inventory_error_without_the_value() -> None:
    keys = dict(GUIDE_KEYS)
    del keys["TS_GUIDE_PSK_CISCO"]
    out = run("render", "-i", str(GUIDE), "--host", "idc-cisco", env=keys)
    assert out.returncode == 2
    assert "TS_GUIDE_PSK_CISCO" in out.stderr and "ipsecpro64" in out.stderr


def test_render_masks_secrets_unless_asked() -> None:
    out = run("render", "-i", str(GUIDE), "--host", "idc-cisco", env=GUIDE_KEYS)
    assert out.returncode == 0, out.stderr
    assert "aa123bb-guide-key" not in out.stdout
    assert "crypto isakmp key ******** address 203.0.113.113" in out.stdout
    shown = run("render", "-i", str(GUIDE), "--host", "idc-cisco", "--show-secrets", env=GUIDE_KEYS)
    assert "crypto isakmp key aa123bb-guide-key address 203.0.113.113" in shown.stdout


@pytest.mark.parametrize("host", ["idc-strongswan", "idc-juniper", "idc-cisco", "idc-hillstone", "idc-h3c"])
def test_render_every_guide_device(host: str) -> None:
    out = run("render", "-i", str(GUIDE), "--host", host, env=GUIDE_KEYS)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"##### {host} (")


def test_render_cloud_side_prints_the_console_form() -> None:
    out = run("render", "-i", str(GUIDE), "--host", "ctyun-gw-h3c", env=GUIDE_KEYS)
    assert out.returncode == 0, out.stderr
    assert "路由模式 [routing mode]" in out.stdout and "DH group 5" in out.stdout
    assert "ctyun_h3c_guide" not in out.stdout


def test_unknown_host_is_a_usage_error() -> None:
    out = run("render", "-i", str(GUIDE), "--host", "nope", env=GUIDE_KEYS)
    assert out.returncode == 2 and "unknown host 'nope'" in out.stderr


def test_schema_is_json_schema() -> None:
    out = run("schema")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["$schema"].startswith("https://json-schema.org/")


def test_rollout_unknown_limit_is_a_usage_error(tmp_path: Path) -> None:
    out = run("rollout", "-i", str(GUIDE), "--limit", "ghost", "--yes", "--runs-dir", str(tmp_path), env=GUIDE_KEYS)
    assert out.returncode == 2 and "unknown devices: ghost" in out.stderr
