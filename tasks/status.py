"""Read-only device dialogue the verify task builds on: status commands, waiting for SAs, ping."""

from __future__ import annotations

import time
from typing import Any

from tunnelsmith.model import TunnelEnd
from tunnelsmith.platforms.base import PlatformDriver
from tunnelsmith.status import DeviceStatus, PingResult


def run_status_commands(conn: Any, driver: PlatformDriver) -> dict[str, str]:
    return {key: str(conn.send_command(cmd, read_timeout=30)) for key, cmd in driver.status_commands().items()}


def all_up(ends: list[TunnelEnd], driver: PlatformDriver, status: DeviceStatus) -> bool:
    from tunnelsmith import verify

    for end in ends:
        v = verify.evaluate(end, driver.spec, status, None)
        if not v.ok:
            return False
    return True


def wait_established(conn: Any, driver: PlatformDriver, ends: list[TunnelEnd], timeout: float) -> tuple[
        dict[str, str], DeviceStatus]:
    """Poll status until every tunnel is up or `timeout` passes (after a change)."""
    deadline = time.monotonic() + timeout
    while True:
        outputs = run_status_commands(conn, driver)
        status = driver.device_status(outputs)
        if all_up(ends, driver, status) or time.monotonic() >= deadline:
            return outputs, status
        time.sleep(1.0)


def ping(conn: Any, driver: PlatformDriver, end: TunnelEnd) -> tuple[str, PingResult]:
    p = end.tunnel.ping
    assert p is not None
    cmd = driver.ping_command(str(p.source), str(p.target), p.count)
    out = str(conn.send_command(cmd, read_timeout=10 + 3 * p.count))
    return out, driver.parse_ping(out, str(p.source), str(p.target))

