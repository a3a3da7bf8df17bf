"""Netmiko's real driver for each vendor platform against that platform's SSH twin, on loopback.

No namespaces and no charon here (the lab tests do that): the twin's IKE engine is replaced by
`true`, so this exercises exactly the SSH dialogue: login and session preparation, configuration
mode, the grammar's verdict on every rendered line, commit/save prompts, backups, a second push
that changes nothing, a rejected line stopping the push at its number, and rollback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from tests.conformance.conftest import build_inventory, cli_platforms
from tunnelsmith import inventory, render
from tunnelsmith.errors import PushError
from tunnelsmith.platforms import registry
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.cli import CliDriver
from tunnelsmith.render import RenderedConfig
from tunnelsmith.twin.device import TwinConfig

INTENT = "two-tunnels-policy-and-static"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Twin:
    """A twin server process on 127.0.0.1 with fresh keys, and what Netmiko needs to reach it."""

    def __init__(self, root: Path, platform: str, wan: str):
        self.root, self.platform, self.port = root, platform, _free_port()
        host = asyncssh.generate_private_key("ssh-ed25519")
        client = asyncssh.generate_private_key("ssh-ed25519")
        (root / "host").write_bytes(host.export_private_key())
        (root / "client").write_bytes(client.export_private_key())
        (root / "client").chmod(0o600)
        (root / "authorized_keys").write_bytes(client.export_public_key())
        (root / "known_hosts").write_text(
            f"[127.0.0.1]:{self.port} {host.export_public_key().decode().strip()}\n")
        cfg = TwinConfig(platform=platform, hostname="lab1", username="admin", listen="127.0.0.1", port=self.port,
                         host_key=str(root / "host"), authorized_keys=str(root / "authorized_keys"),
                         state_file=str(root / "state.json"), swanctl_conf=str(root / "twin.conf"),
                         vici_socket=str(root / "no-charon.vici"), charon_log=str(root / "charon.log"),
                         swanctl=["true"],
                         base={"wan": {"interface": wan, "address": "198.51.100.10/24"},
                               "mgmt": {"interface": "mgmt", "address": "198.18.0.2/30"},
                               "lan": [{"interface": "lan1", "address": "198.18.16.1/24"},
                                       {"interface": "lan2", "address": "198.18.17.1/24"}]})
        from tunnelsmith.twin import platform as twinplat

        names = twinplat.load(platform).data.get("interfaces") or {}
        cfg.base["mgmt"]["interface"] = names.get("mgmt", "mgmt0")
        for i, lan in enumerate(cfg.base["lan"]):
            lan["interface"] = (names.get("lan") or ["lan1", "lan2"])[i]
        (root / "twin.json").write_text(json.dumps(asdict(cfg)))
        self.log = (root / "twin.log").open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tunnelsmith.twin.server", str(root / "twin.json")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(8).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"twin did not start: {(root / 'twin.log').read_text()}")

    def connect(self) -> Any:
        from netmiko import ConnectHandler

        return ConnectHandler(device_type=pspec.load(self.platform).netmiko_device_type, host="127.0.0.1",
                              port=self.port, username="admin", use_keys=True, key_file=str(self.root / "client"),
                              allow_agent=False, ssh_strict=True, system_host_keys=False, alt_host_keys=True,
                              alt_key_file=str(self.root / "known_hosts"), conn_timeout=10, fast_cli=False)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        return (self.root / "twin.log").read_text()


@pytest.fixture(params=cli_platforms())
def twin_setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[tuple[Twin, RenderedConfig, CliDriver]]:
    platform = request.param
    built = build_inventory(tmp_path, platform, INTENT, monkeypatch)
    inv = inventory.load(built.directory)
    rendered = render.render_device(inv, "dev1")
    dev = inv.devices["dev1"]
    driver = registry.driver(platform, dev.options)
    assert isinstance(driver, CliDriver)
    root = tmp_path / "twin"
    root.mkdir()
    twin = Twin(root, platform, dev.wan_interface)
    try:
        yield twin, rendered, driver
    finally:
        twin.stop()


def test_rollout_over_ssh_is_exact_and_idempotent(twin_setup: tuple[Twin, RenderedConfig, CliDriver]) -> None:
    twin, rendered, driver = twin_setup
    conn = twin.connect()
    try:
        backup = driver.backup(conn, rendered)
        assert driver.missing(backup, rendered), "a fresh twin already has the tunnels"
        driver.push(conn, rendered, backup)
        driver.commit(conn)
        driver.save(conn)
        after = driver.backup(conn, rendered)
        assert driver.missing(after, rendered) == [], "the twin's running config lacks pushed lines"
        again = driver.push(conn, rendered, after)
        assert not again.changed
    finally:
        conn.disconnect()
    state = json.loads((twin.root / "state.json").read_text())
    assert any("198.51.100.10" in line or "198.51.100.10/24" in line for line in state["active"])


def test_rejected_line_stops_the_push_and_rollback_restores(
        twin_setup: tuple[Twin, RenderedConfig, CliDriver]) -> None:
    twin, rendered, driver = twin_setup
    lines = CliDriver.rendered_lines(rendered)
    bad_at = len(lines) // 2
    typo = "".join(reversed(lines[bad_at].strip())) + " zzq"  # no vendor has this command
    indent = lines[bad_at][: len(lines[bad_at]) - len(lines[bad_at].lstrip())]
    broken = RenderedConfig(host=rendered.host, platform=rendered.platform, side=rendered.side,
                            files={"cli": "\n".join([*lines[:bad_at], indent + typo, *lines[bad_at:]]) + "\n"})
    conn = twin.connect()
    try:
        backup = driver.backup(conn, broken)
        with pytest.raises(PushError) as err:
            driver.push(conn, broken, backup)
        assert err.value.line_no == bad_at + 1
        driver.rollback(conn, backup, err.value.change)
        now = driver.backup(conn, rendered)
        assert driver.comparer().paths(now.files["cli"]) == driver.comparer().paths(backup.files["cli"])
    finally:
        conn.disconnect()
