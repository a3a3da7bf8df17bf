"""Verify every tunnel of a device: phase 1, phase 2 per selector pair, ping; diagnose failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nornir.core.task import Result, Task
from tunnelsmith.tasks.status import ping, run_status_commands, wait_established

from tunnelsmith import diagnose, verify, views
from tunnelsmith.model import Inventory, TunnelEnd
from tunnelsmith.nr import CONNECTION, Progress
from tunnelsmith.platforms import registry
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.base import PlatformDriver
from tunnelsmith.rundir import RunDir
from tunnelsmith.status import DeviceStatus

PeerLog = Callable[[str], "tuple[str, str] | None"]  # cloud -> (its VPN log, platform that wrote it)


def _child_bytes(status: DeviceStatus, end: TunnelEnd, spec: pspec.PlatformSpec) -> tuple[int, int]:
    v = verify.evaluate(end, spec, status, None)
    return (sum(c.get("bytes_in") or 0 for c in v.phase2), sum(c.get("bytes_out") or 0 for c in v.phase2))


def _evidence(conn: Any, driver: PlatformDriver, end: TunnelEnd, verdict: verify.TunnelVerdict,
              before: DeviceStatus, after: DeviceStatus, peer_log: PeerLog | None,
              logs: dict[str, str]) -> diagnose.Evidence:
    """What the device (and the cloud, if it tells) says about one failed tunnel.

    `logs` caches the device log per device: several failed tunnels share one read.
    """
    diag = driver.spec.section("diagnosis")
    vcfg = driver.spec.section("verify")
    ev = diagnose.Evidence()
    if diag.get("log_command"):
        if "device" not in logs:
            logs["device"] = str(conn.send_command(diag["log_command"], read_timeout=30))
        ev.device_log = logs["device"]
    if peer_log is not None:
        got = peer_log(end.tunnel.cloud)
        if got is not None:
            ev.peer_log, ev.peer_platform = got
    if vcfg.get("peer_probe"):
        out = str(conn.send_command(vcfg["peer_probe"].format(peer=end.remote_ip), read_timeout=15))
        ev.probes["peer_icmp"] = "unreachable" not in out and "reachable" in out
    if end.tunnel.ping and vcfg.get("route_probe"):
        ev.probes["route"] = str(conn.send_command(vcfg["route_probe"].format(
            target=end.tunnel.ping.target, source=end.tunnel.ping.source), read_timeout=15)).strip()
    if verdict.ping is not None:
        bi0, bo0 = _child_bytes(before, end, driver.spec)
        bi1, bo1 = _child_bytes(after, end, driver.spec)
        ev.probes["bytes_out_grew"] = bo1 > bo0
        ev.probes["bytes_in_grew"] = bi1 > bi0
    return ev


def verify_device(task: Task, inventory: Inventory, run: RunDir, progress: Progress, wait: float = 0.0,
                  peer_log: PeerLog | None = None) -> Result:
    """Judge every tunnel of this device; writes status outputs and the verdicts into the run."""
    name = task.host.name
    device = inventory.devices[name]
    driver = registry.driver(device.platform, device.options)
    ends = views.device_ends(inventory, name)
    conn = task.host.get_connection(CONNECTION, task.nornir.config)
    progress(name, "status", "waiting for SAs" if wait else "")
    outputs, before = wait_established(conn, driver, ends, wait) if wait else (
        run_status_commands(conn, driver), None)
    if before is None:
        before = driver.device_status(outputs)
    pings: dict[str, Any] = {}
    ping_raw: list[str] = []
    ping_unsupported = driver.spec.section("ping").get("unsupported")
    for end in ends:
        if end.tunnel.ping is None or ping_unsupported:
            continue
        raw, result = ping(conn, driver, end)
        if result.received == 0:
            # A traffic-triggered tunnel negotiates on the first packets: give it one more go.
            time.sleep(2.0)
            raw, result = ping(conn, driver, end)
        pings[end.name] = result
        ping_raw.append(f"## {end.name}\n{raw}")
        progress(name, "ping", f"{end.name}: {result.received}/{result.sent} received")
    outputs_after = run_status_commands(conn, driver)
    after = driver.device_status(outputs_after)
    run.write(name, "status.txt", "\n".join(f"## {k}\n{v}" for k, v in outputs_after.items()))
    run.write(name, "ping.txt", "\n".join(ping_raw) or "(no ping checks)\n")
    run.write_json(name, "status.json", after.as_dict())
    verdicts = []
    logs: dict[str, str] = {}
    for end in ends:
        v = verify.evaluate(end, driver.spec, after, pings.get(end.name))
        if end.tunnel.ping is not None and ping_unsupported:
            v.extra["ping_skipped"] = ping_unsupported
        if not v.ok:
            ev = _evidence(conn, driver, end, v, before, after, peer_log, logs)
            peer_spec = pspec.load(ev.peer_platform) if ev.peer_platform else None
            v.diagnosis = diagnose.diagnose(end, v, ev, driver.spec, peer_spec)
            peer_lines = diagnose.relevant_lines(ev.peer_log or "", end, peer_spec, peer_view=True) if peer_spec else []
            device_lines = diagnose.relevant_lines(ev.device_log, end, driver.spec)
            run.write(name, f"evidence-{end.name}.txt",
                      f"## probes\n{ev.probes}\n## device log (tunnel lines)\n" + "\n".join(device_lines)
                      + "\n## peer log (tunnel lines)\n" + "\n".join(peer_lines) + "\n")
            run.write_json(name, f"evidence-{end.name}.json", {
                "tunnel": end.name, "platform": device.platform, "peer_platform": ev.peer_platform,
                "probes": ev.probes, "device_log": device_lines, "peer_log": peer_lines,
                "verdict": v.as_dict()})
        verdicts.append(v)
        progress(name, "verdict", f"{end.name}: {'ok' if v.ok else 'FAIL'}"
                 + (f" ({v.diagnosis['class']}: {v.diagnosis['message']})" if v.diagnosis else ""))
    run.write_json(name, "verdict.json", [v.as_dict() for v in verdicts])
    return Result(host=task.host, result=verdicts, failed=not all(v.ok for v in verdicts))
