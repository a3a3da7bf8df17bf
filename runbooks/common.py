"""What every runbook does first: load and validate, open a run directory, find evidence sources."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tunnelsmith import inventory as invmod
from tunnelsmith.errors import InventoryError
from tunnelsmith.model import Inventory
from tunnelsmith.rundir import RunDir
from tunnelsmith.secrets import MaskingStream


@dataclass
class Context:
    inventory: Inventory
    run: RunDir
    out: TextIO
    err: TextIO


def load_checked(directory: str) -> Inventory:
    """Load and validate; raises InventoryError with every problem."""
    from tunnelsmith import validate

    problems = validate.check(directory)
    if problems:
        raise InventoryError(problems)
    return invmod.load(directory)


def open_context(directory: str, runs_dir: str, out: TextIO | None = None, err: TextIO | None = None) -> Context:
    inv = load_checked(directory)
    run = RunDir.create(runs_dir)
    # Everything a runbook prints goes through the masker, whatever its source (device output,
    # exception texts from Netmiko or Nornir).
    return Context(inventory=inv, run=run, out=MaskingStream(out or sys.stdout),
                   err=MaskingStream(err or sys.stderr))


def peer_log_provider(inv: Inventory) -> Any:
    """Cloud gateways that expose their VPN log, as `data.peer_log: {source: lab, platform: P}`.

    The lab's emulated gateways do; a real cloud would need an API adapter here.
    """
    sources = {name: gw.data.get("peer_log") for name, gw in inv.clouds.items() if gw.data.get("peer_log")}
    if not sources:
        return None

    def provider(cloud: str) -> tuple[str, str] | None:
        src = sources.get(cloud) or {}
        if src.get("source") == "lab" and src.get("platform"):
            from tunnelsmith import lab

            try:
                return lab.cloud_log(None, cloud), src["platform"]
            except Exception:  # the lab may be down: no evidence, not an error
                return None
        return None

    return provider


def session_logs(run: RunDir, inv: Inventory, limit: list[str] | None) -> dict[str, Path]:
    return {d: run.session_log(d) for d in (limit or inv.devices)}
