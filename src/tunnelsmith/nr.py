"""Nornir wiring: SimpleInventory over the same files, and a Netmiko connection plugin.

The tunnelsmith model (`Inventory`) is the source of truth for intent; Nornir provides the
host list, the threaded runner and per-host connection handling. Tasks receive the model as a
parameter and look their host up by name.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.inventory import ConnectionOptions
from nornir.core.plugins.connections import ConnectionPluginRegister

from tunnelsmith.errors import UsageError
from tunnelsmith.model import Inventory

CONNECTION = "tunnelsmith"

# Nornir logs every failed task with its whole traceback (and chained causes) at ERROR. The
# runbooks report each failure themselves, in one located line per device, so those records are
# dropped here instead of reaching stderr.
_nornir_log = logging.getLogger("nornir")
_nornir_log.addHandler(logging.NullHandler())
_nornir_log.propagate = False


class TunnelsmithConnection:
    """Nornir connection plugin: a Netmiko session opened with tunnelsmith's SSH policy."""

    def open(self, hostname: str | None, username: str | None, password: str | None, port: int | None,
             platform: str | None, extras: dict[str, Any] | None = None,
             configuration: Config | None = None) -> None:
        from tunnelsmith.connect import open_connection

        extras = extras or {}
        self._cm = open_connection(extras["device"], trust_on_first_use=extras.get("tofu", False),
                                   inventory_dir=extras.get("inventory_dir"),
                                   session_log=extras.get("session_log"))
        self.connection = self._cm.__enter__()

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


ConnectionPluginRegister.register(CONNECTION, TunnelsmithConnection)


def make_nornir(inv: Inventory, *, limit: list[str] | None = None, workers: int = 8,
                trust_on_first_use: bool = False, session_logs: dict[str, Path] | None = None) -> Nornir:
    d = Path(inv.directory)
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": workers}},
        inventory={"plugin": "SimpleInventory", "options": {
            "host_file": str(d / "hosts.yaml"), "group_file": str(d / "groups.yaml"),
            "defaults_file": str(d / "defaults.yaml")}},
        logging={"enabled": False},
    )
    selected = set(inv.devices)
    if limit:
        unknown = [h for h in limit if h not in inv.devices]
        if unknown:
            raise UsageError(f"--limit names unknown devices: {', '.join(unknown)} "
                             f"(devices: {', '.join(sorted(inv.devices))})")
        selected = set(limit)
    for name in selected:
        host = nr.inventory.hosts[name]
        host.connection_options[CONNECTION] = ConnectionOptions(extras={
            "device": inv.devices[name], "tofu": trust_on_first_use, "inventory_dir": inv.directory,
            "session_log": (session_logs or {}).get(name)})
    return nr.filter(filter_func=lambda h: h.name in selected)


class Progress:
    """One line per device step on stderr, so an operator sees work happen."""

    def __init__(self, stream: Any = None, quiet: bool = False):
        import sys

        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def __call__(self, host: str, step: str, detail: str = "") -> None:
        if self.quiet:
            return
        with self.lock:
            t = time.monotonic() - self.t0
            self.stream.write(f"[{t:6.1f}s] {host:<16} {step:<10} {detail}\n")
            self.stream.flush()
