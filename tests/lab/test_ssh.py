"""Devices are reachable like real boxes: key login, pinned host keys, their own charon."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from netmiko import ConnectHandler

from tunnelsmith import lab as labapi

from .conftest import Lab


def connect(params: dict[str, Any], known_hosts: str | None = None) -> Any:
    return ConnectHandler(device_type="linux", host=params["host"], port=params["port"],
                          username=params["username"], use_keys=True, key_file=params["key_file"],
                          allow_agent=False, ssh_strict=True, system_host_keys=False, alt_host_keys=True,
                          alt_key_file=known_hosts or params["known_hosts"], timeout=10)


@pytest.mark.parametrize("device", ["onprem-a", "onprem-b"])
def test_key_login_with_strict_host_key(lab: Lab, device: str) -> None:
    params = labapi.device_ssh_params(lab.inv, device, lab.lab_dir)
    conn = connect(params)
    try:
        assert conn.send_command("hostname").strip() == device
        # the session's swanctl reaches this device's own charon on the default vici socket
        stats = conn.send_command("swanctl --stats")
        assert "uptime" in stats and "kernel-libipsec" in stats
        own_pid = labapi.exec_in(lab.lab_dir, device, ["cat", "/run/charon.pid"]).stdout.strip()
        assert conn.send_command("cat /var/run/charon.pid").strip() == own_pid
    finally:
        conn.disconnect()


def test_wrong_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    params = labapi.device_ssh_params(lab.inv, "onprem-a", lab.lab_dir)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    kind, blob = (tmp_path / "other.pub").read_text().split()[:2]
    bad = tmp_path / "known_hosts"
    bad.write_text(f"{params['host']} {kind} {blob}\n")
    with pytest.raises(Exception) as exc:
        connect(params, str(bad))
    assert "does not match" in str(exc.value)
    real = (lab.lab_dir / "nodes" / "onprem-a" / "ssh" / "ssh_host_ed25519_key.pub").read_text().split()[1]
    assert real in str(exc.value)  # what the server showed is the lab's pinned key


def test_unknown_host_is_refused(lab: Lab, tmp_path: Path) -> None:
    params = labapi.device_ssh_params(lab.inv, "onprem-b", lab.lab_dir)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(Exception) as exc:
        connect(params, str(empty))
    assert "not found in known_hosts" in str(exc.value)


def test_password_login_is_refused(lab: Lab) -> None:
    params = labapi.device_ssh_params(lab.inv, "onprem-a", lab.lab_dir)
    with pytest.raises(Exception) as exc:
        ConnectHandler(device_type="linux", host=params["host"], port=params["port"], username="root",
                       password="not-the-key", use_keys=False, allow_agent=False, ssh_strict=True,
                       system_host_keys=False, alt_host_keys=True, alt_key_file=params["known_hosts"],
                       timeout=10)
    assert "uthentication" in str(exc.value)
