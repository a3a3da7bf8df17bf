"""The platform contract: what every platform driver does, NAPALM-style.

Rendering is generic (`tunnelsmith.render`, templates as data). A driver adds the device
dialogue: backup, diff, push, commit, save, rollback, status commands, parsing, ping. There are
two kinds of driver, registered by name in `tunnelsmith.platforms.registry`:

* `files`: the platform is configured by files (strongSwan): push writes each output
  atomically over SFTP, then runs the platform's reload commands.
* `cli`: the platform is configured line by line in a configuration mode (IOS, Junos, VRP,
  Comware, StoneOS): push enters config mode, sends lines, stops at the first rejected line.

Every driver reads its commands, prompts, parsers and patterns from the platform's
`platform.yaml`; the conformance suite in `tests/conformance/` runs against every platform.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

from tunnelsmith import secrets as secretmod
from tunnelsmith.parsing import parse_textfsm
from tunnelsmith.platforms.options import matches_when, resolve
from tunnelsmith.platforms.spec import PlatformSpec
from tunnelsmith.render import RenderedConfig, platform_options
from tunnelsmith.status import DeviceStatus, PingResult, from_rows, map_states


class Connection(Protocol):
    """Every call drivers make on a connection: the part of a Netmiko connection they use.

    platforms/emulator.py's CliEmulator implements the same calls for the conformance suite.
    """

    def find_prompt(self, *args: Any, **kwargs: Any) -> str: ...

    def config_mode(self, config_command: str = "", pattern: str = "", re_flags: int = 0) -> str: ...

    def exit_config_mode(self, exit_config: str = "", pattern: str = "") -> str: ...

    def check_config_mode(self, *args: Any, **kwargs: Any) -> bool: ...

    def send_command(self, command_string: str, **kwargs: Any) -> Any: ...

    def send_command_timing(self, command_string: str, **kwargs: Any) -> Any: ...

    def send_config_set(self, config_commands: Any = None, **kwargs: Any) -> str: ...

    def disconnect(self) -> None: ...


class SftpFile(Protocol):
    def read(self, size: int = -1) -> bytes: ...

    def write(self, data: bytes) -> Any: ...

    def __enter__(self) -> SftpFile: ...

    def __exit__(self, *exc: object) -> Any: ...


class Sftp(Protocol):
    """The SFTP calls the files driver makes (a paramiko SFTPClient)."""

    def open(self, filename: str, mode: str = "r") -> SftpFile: ...

    def chmod(self, path: str, mode: int) -> None: ...

    def posix_rename(self, oldpath: str, newpath: str) -> None: ...

    def remove(self, path: str) -> None: ...

    def close(self) -> None: ...


def open_sftp(conn: Connection) -> Sftp:
    """An SFTP session over the connection's SSH transport.

    A connection that offers `open_sftp()` itself (a test double, a future transport) is asked
    directly; a Netmiko connection does not, so its paramiko client (`remote_conn_pre`, the one
    Netmiko internal tunnelsmith touches) opens it.
    """
    own = getattr(conn, "open_sftp", None)
    if callable(own):
        return own()  # type: ignore[no-any-return]
    return conn.remote_conn_pre.open_sftp()  # type: ignore[attr-defined,no-any-return]


@dataclass
class Backup:
    """What was on the device before a change; written once into the run directory, never overwritten."""

    host: str
    platform: str
    files: dict[str, str | None] = field(default_factory=dict)  # output path -> content (None: absent)


@dataclass
class Change:
    """What one push did on one device: the record commit, confirm and rollback work from.

    No driver keeps state of its own between calls: `push` returns this, `commit`/`save` update
    it, `rollback` reads it, and the run directory keeps it (`change.json`), so a later
    `tunnelsmith rollback` process knows as much as the process that pushed.
    """

    host: str
    platform: str
    applied: int = 0  # lines accepted / files written
    committed: bool = False  # the candidate was committed (platforms with a commit step)
    confirm_minutes: int | None = None  # a `commit confirmed N` that no later commit confirmed yet
    saved: bool = False
    # in this process only, never written out: what activation compares (files platforms)
    rendered: RenderedConfig | None = field(default=None, repr=False, compare=False)
    before: Backup | None = field(default=None, repr=False, compare=False)

    @property
    def uncommitted(self) -> bool:
        """Lines sit in the candidate configuration, not active (discard them rather than roll back)."""
        return self.applied > 0 and not self.committed

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("rendered", "before")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(**{k: data[k] for k in ("host", "platform", "applied", "committed", "confirm_minutes", "saved")
                      if k in data})


@dataclass
class PushResult:
    changed: bool
    diff: str  # masked
    applied: int = 0  # files written or lines accepted
    messages: list[str] = field(default_factory=list)
    change: Change | None = None


def unified_diff(before: dict[str, str | None], after: dict[str, str]) -> str:
    """Masked unified diff of every output; empty when nothing would change."""
    chunks: list[str] = []
    for path in sorted(set(before) | set(after)):
        old = before.get(path) or ""
        new = after.get(path) or ""
        if old == new:
            continue
        chunks.extend(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                           fromfile=f"{path} (device)", tofile=f"{path} (rendered)"))
    return secretmod.mask("".join(chunks))


class PlatformDriver(ABC):
    kind: ClassVar[str]

    def __init__(self, spec: PlatformSpec, options: dict[str, Any] | None = None):
        self.spec = spec
        self.options = platform_options(spec, options or {})
        # Push secret lines even when the device's (encrypted) copy looks the same: key rotation.
        self.rotate_secrets = False

    # --- configuration ------------------------------------------------------------------
    @abstractmethod
    def backup(self, conn: Connection, rendered: RenderedConfig) -> Backup:
        """Read what is on the device now for everything `rendered` would touch."""

    def diff(self, backup: Backup, rendered: RenderedConfig) -> str:
        return unified_diff(backup.files, rendered.files)

    @abstractmethod
    def push(self, conn: Connection, rendered: RenderedConfig, backup: Backup) -> PushResult:
        """Apply the rendered config. Raises PushError saying how far it got."""

    @abstractmethod
    def commit(self, conn: Connection, confirmed_minutes: int | None = None, *, change: Change | None = None) -> str:
        """Make the pushed config active (Junos commit; strongSwan load); record it in `change`."""

    @abstractmethod
    def save(self, conn: Connection, *, change: Change | None = None) -> str:
        """Persist the running config (write memory / save); record it in `change`."""

    @abstractmethod
    def rollback(self, conn: Connection, backup: Backup, change: Change | None = None) -> str:
        """Put back exactly what `backup` holds; `change` (from push) says whether it was committed."""

    # --- status ---------------------------------------------------------------------------
    def _when(self, item: dict[str, Any]) -> bool:
        """Whether a data entry's `when:` holds for this device's options (platforms/options.py)."""
        return matches_when(item.get("when"), self.options)

    def status_commands(self) -> dict[str, str]:
        cmds = self.spec.section("status").get("commands") or {}
        resolved = {key: resolve(value, self.options) for key, value in cmds.items()}
        return {key: command for key, command in resolved.items() if command is not None}

    def parse(self, command_key: str, output: str) -> dict[str, list[dict[str, Any]]]:
        """Rows per parser kind ('ike', 'child', ...) for one command's output, states made neutral."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for p in self.spec.section("status").get("parsers") or []:
            if p["command"] != command_key or not self._when(p):
                continue
            parsed = parse_textfsm(self.spec.directory / p["template"], output)
            rows.setdefault(p["kind"], []).extend(map_states(parsed, p.get("state_map") or {}))
        return rows

    def device_status(self, outputs: dict[str, str]) -> DeviceStatus:
        ike: list[dict[str, Any]] = []
        child: list[dict[str, Any]] = []
        for key, output in outputs.items():
            parsed = self.parse(key, output)
            ike.extend(parsed.get("ike", []))
            child.extend(parsed.get("child", []))
        return from_rows(ike, child)

    def ping_command(self, source: str, target: str, count: int) -> str:
        return self.spec.section("ping")["command"].format(source=source, target=target, count=count)

    def parse_ping(self, output: str, source: str, target: str) -> PingResult:
        rows = parse_textfsm(self.spec.directory / self.spec.section("ping")["template"], output)
        r = rows[0] if rows else {}

        def num(key: str) -> float | None:
            v = r.get(key)
            try:
                return float(v) if v not in (None, "") else None
            except ValueError:
                return None

        sent = int(num("sent") or 0)
        received = int(num("received") or 0)
        loss = num("loss_pct")
        if loss is None:
            loss = 100.0 if sent == 0 else round(100.0 * (sent - received) / sent, 1)
        return PingResult(source=source, target=target, sent=sent, received=received, loss_pct=loss,
                          rtt_ms=num("rtt_avg"))

