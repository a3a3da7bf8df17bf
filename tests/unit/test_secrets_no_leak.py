"""No PSK in any output (issue 7): representative commands run with known keys, every output grepped.

validate, render (device and cloud side), a failing validation, and an offline rollout into the
data-driven CLI emulator (platforms/emulator.py, standing in for the SSH session) write to
stdout, stderr, logs and a run directory. None of them may hold a key or its Cisco type 7 form,
except `render --show-secrets`, which exists to print them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import cli
from tunnelsmith import secrets as secretmod
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.emulator import CliEmulator

# Distinct, valid on every platform and cloud profile, and no configuration word.
PSKS = {"t1": "Qv7LmZr2Xw9Bn4Kd", "t2": "Hs3Pj8Tq6Yc1Vg5N"}
WAN = {"cisco_ios": "GigabitEthernet0/1", "juniper_junos": "ge-0/0/1", "huawei_vrp": "GigabitEthernet0/0/1",
       "hp_comware": "GigabitEthernet1/0", "hillstone_stoneos": "ethernet0/1", "strongswan": "eth0"}
IKE = {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800}
IPSEC = {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600,
         "dpd": {"enabled": True, "interval": 10, "retries": 3}}


def write_inventory(root: Path, platform: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One device of `platform`, one generic cloud, two tunnels keyed from environment variables."""
    d = root / f"inv-{platform}"
    d.mkdir()
    hosts = {
        "gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10", "203.0.113.11"],
                        "vpc_subnets": ["198.19.16.0/24"], "bgp_asn": 64512}},
        "dev1": {"hostname": "198.18.0.2", "platform": platform, "username": "admin",
                 "data": {"role": "device", "wan_interface": WAN[platform], "public_ip": "198.51.100.10",
                          "lan_subnets": ["198.18.16.0/24"], "bgp_asn": 65010}},
    }
    tunnels = []
    for i, (name, psk) in enumerate(PSKS.items()):
        env = f"TS_LEAK_PSK_{name.upper()}"
        monkeypatch.setenv(env, psk)
        tunnels.append({"name": name, "cloud": "gw", "device": "dev1", "cloud_ip": f"203.0.113.1{i}",
                        "ike": IKE, "ipsec": IPSEC, "psk": {"env": env},
                        "routing": {"mode": "static", "inside": {"local": f"169.254.1{i}.2/30",
                                                                 "remote": f"169.254.1{i}.1"},
                                    "routes": [f"198.19.1{6 + i}.0/24"]}})
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts), encoding="utf-8")
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": tunnels}), encoding="utf-8")
    return d


def forms(psk: str) -> list[str]:
    return [psk, *(secretmod.cisco_type7(psk, seed) for seed in range(16))]


def assert_no_psk(where: str, text: str) -> None:
    for psk in PSKS.values():
        for form in forms(psk):
            assert form not in text, f"{where} holds a pre-shared key (or its type 7 form)"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


CLI_PLATFORMS = [p for p in pspec.available() if pspec.load(p).raw.get("driver") == "cli"]


@pytest.mark.parametrize("platform", pspec.available())
def test_validate_and_render_print_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], platform: str) -> None:
    d = write_inventory(tmp_path, platform, monkeypatch)
    code, text = run_cli(capsys, "validate", "-i", str(d))
    assert code == 0, text
    assert_no_psk("validate", text)
    for argv in (("render", "-i", str(d)), ("render", "-i", str(d), "--side", "cloud"),
                 ("validate", "-i", str(d), "--format", "json")):
        code, text = run_cli(capsys, *argv)
        assert code == 0, text
        assert_no_psk(" ".join(argv[:1] + argv[3:]), text)
        if argv[0] == "render":
            assert secretmod.MASK in text  # the key statement is there, masked
    code, text = run_cli(capsys, "render", "-i", str(d), "--show-secrets")
    assert code == 0 and all(psk in text for psk in PSKS.values())  # the grep above can see a key


def test_refused_inventory_prints_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A key file path naming a variable that holds a key: refused, the variable's value never shown."""
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    monkeypatch.setenv("TS_LEAK_OTHER", PSKS["t1"])
    tunnels = yaml.safe_load((d / "tunnels.yaml").read_text())
    tunnels["tunnels"][1]["psk"] = {"file": "$TS_LEAK_OTHER/x.yaml", "key": "t2"}
    (d / "tunnels.yaml").write_text(yaml.safe_dump(tunnels))
    for fmt in ("text", "json"):
        code, text = run_cli(capsys, "validate", "-i", str(d), "--format", fmt)
        assert code == 2 and "TUNNELSMITH_LAB_DIR" in text, text
        assert_no_psk(f"validate --format {fmt}", text)


@contextlib.contextmanager
def emulated(devices: dict[str, CliEmulator], device: Any, **_: Any) -> Iterator[CliEmulator]:
    """Stands in for connect.open_connection: the device is the platform's CLI emulator."""
    yield devices.setdefault(device.name, CliEmulator(pspec.load(device.platform), None))


@pytest.mark.parametrize("platform", CLI_PLATFORMS)
def test_offline_rollout_leaves_no_key_in_outputs_or_run_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture, platform: str) -> None:
    d = write_inventory(tmp_path, platform, monkeypatch)
    runs = tmp_path / "runs"
    devices: dict[str, CliEmulator] = {}
    monkeypatch.setattr("tunnelsmith.connect.open_connection",
                        lambda device, **kw: emulated(devices, device, **kw))
    caplog.set_level(logging.DEBUG)
    code, text = run_cli(capsys, "rollout", "-i", str(d), "--runs-dir", str(runs), "--yes", "--settle", "0",
                         "--format", "json")
    emu = devices.get("dev1")
    assert emu is not None and any(PSKS["t1"] in ln for ln in emu.sent), (code, text)  # the key was pushed
    assert_no_psk("rollout stdout/stderr", text)
    assert_no_psk("log records", "\n".join(r.getMessage() for r in caplog.records))
    files = [p for p in runs.rglob("*") if p.is_file()]
    assert files, "the rollout wrote no run directory"
    for p in files:
        assert_no_psk(str(p.relative_to(runs)), p.read_text(encoding="utf-8", errors="replace"))
    code, text = run_cli(capsys, "rollback", "-i", str(d), "--runs-dir", str(runs), "--yes",
                         "--run", next(runs.iterdir()).name)
    assert_no_psk("rollback stdout/stderr", text)
    for p in runs.rglob("*"):
        if p.is_file():
            assert_no_psk(str(p.relative_to(runs)), p.read_text(encoding="utf-8", errors="replace"))
