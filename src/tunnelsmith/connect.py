"""Open SSH sessions to devices with Netmiko: keys, verified host keys, masked session logs.

Host keys are verified against a known_hosts file by default (the device's `ssh.known_hosts`,
else ~/.ssh/known_hosts). Trusting an unknown key on first use is an explicit choice
(`ssh.trust_on_first_use: true` or the CLI's --trust-on-first-use); the key is then recorded.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import TunnelsmithError
from tunnelsmith.model import Device
from tunnelsmith.platforms import spec as pspec


class ConnectError(TunnelsmithError):
    pass


# paramiko's transport thread logs its own tracebacks ("Exception (client): Error reading SSH
# protocol banner" and the stack) through logging; with no handler at all Python's last-resort
# handler would print them raw on stderr. Records still propagate to the root logger, where
# `secrets.guard_terminal` prints them masked, one line each.
for _name in ("paramiko", "netmiko"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


class _NoTracebackLines(logging.Filter):
    """paramiko logs a failed transport's traceback one record per line; the connect error already
    says what happened in one line, so those records are dropped (its one-line summary is kept)."""

    _EXC = re.compile(r"^[\w.]+(Error|Exception)(:|$)")  # the exception line closing a traceback
    _TB = ("Traceback (most recent call last)", "During handling of the above exception", "The above exception")

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return bool(text.strip()) and not text.startswith((" ", "\t", *self._TB)) and not self._EXC.match(text)


logging.getLogger("paramiko.transport").addFilter(_NoTracebackLines())


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        errors = getattr(exc, "errors", None)  # paramiko NoValidConnectionsError: {address: error}
        if isinstance(errors, dict):
            yield from (e for e in errors.values() if isinstance(e, BaseException))
        exc = exc.__cause__ or exc.__context__


def why_unreachable(exc: BaseException, timeout: float) -> str:
    """One line telling refused, unreachable, unresolvable and timed-out connections apart."""
    for e in _chain(exc):
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "connection refused (the host answered; nothing accepts SSH on that port)"
        if isinstance(e, socket.gaierror):
            return "the name does not resolve (DNS)"
        if getattr(e, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable (no route to the host)"
        if isinstance(e, (TimeoutError, socket.timeout)):
            return f"timed out after {timeout:g} s (no answer: host down, unreachable or filtered)"
        if "SSH protocol banner" in str(e):
            return "connected, but no SSH server answered (no SSH protocol banner)"
    text = str(exc).strip().splitlines()
    if text and text[0].startswith("DNS failure"):
        return "the name does not resolve (DNS)"
    return f"timed out after {timeout:g} s"


def netmiko_params(device: Device, *, trust_on_first_use: bool = False, inventory_dir: str | None = None,
                   session_log: Path | None = None) -> dict[str, Any]:
    ssh = device.ssh
    try:
        known_hosts = secretmod.expand_path(ssh.get("known_hosts") or "~/.ssh/known_hosts")
        key_file = secretmod.expand_path(ssh["key_file"]) if ssh.get("key_file") else None
    except secretmod.SecretError as exc:
        raise ConnectError(f"{device.name}: data.ssh: {exc}") from None
    if key_file is not None and not key_file.is_file():
        raise ConnectError(f"{device.name}: data.ssh.key_file: {secretmod.shorten(str(key_file))!r} does not exist "
                           "or is not a file")
    tofu = trust_on_first_use or bool(ssh.get("trust_on_first_use"))
    params: dict[str, Any] = {
        "device_type": pspec.load(device.platform).netmiko_device_type,
        "host": device.hostname,
        "port": device.port,
        "username": device.username,
        "ssh_strict": not tofu,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(known_hosts),
        "allow_agent": False,
        "conn_timeout": float(ssh.get("timeout", 10)),
        "fast_cli": False,
    }
    if key_file is not None:
        params["use_keys"] = True
        params["key_file"] = str(key_file)
    if device.password is not None:
        params["password"] = secretmod.resolve(device.password, Path(inventory_dir) if inventory_dir else None)
    if session_log is not None:
        no_log = {f"s{i}": v for i, v in enumerate(secretmod.MASKER.values())}
        params["session_log"] = masking_session_log(session_log, no_log)
    return params


def masking_session_log(path: Path, no_log: dict[str, str]) -> Any:
    """A Netmiko session log that writes whole lines through the masker.

    Netmiko's own no_log replaces literal values only; device output also shows keys in their
    encrypted forms (Junos $9$, Cisco type 7, Huawei %^%#), which only `secrets.mask` recognises,
    and only on a whole line (a key split across two channel reads would slip through).
    """
    from netmiko.session_log import SessionLog

    class MaskingSessionLog(SessionLog):  # type: ignore[misc]
        def _flush_buffer(self, final: bool = False) -> None:
            if self.session_log is None:
                return
            data = self._read_buffer()
            if not final:
                cut = data.rfind("\n") + 1
                if cut == 0 and len(data) < 65536:
                    self.slog_buffer.write(data)  # an unfinished line waits for its end
                    return
                if cut:
                    self.slog_buffer.write(data[cut:])
                    data = data[:cut]
            if data:
                self._write(secretmod.mask(self.no_log_filter(data)))

    return MaskingSessionLog(file_name=str(path), no_log=no_log)


@contextmanager
def open_connection(device: Device, *, trust_on_first_use: bool = False, inventory_dir: str | None = None,
                    session_log: Path | None = None) -> Iterator[Any]:
    """A connected Netmiko session; host key refused unless known (or TOFU chosen explicitly)."""
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
    from paramiko.ssh_exception import SSHException

    params = netmiko_params(device, trust_on_first_use=trust_on_first_use, inventory_dir=inventory_dir,
                            session_log=session_log)
    try:
        conn = ConnectHandler(**params)
    except NetmikoAuthenticationException:
        raise ConnectError(f"{device.name}: SSH authentication failed for {device.username}@"
                           f"{device.hostname}:{device.port}") from None
    except NetmikoTimeoutException as exc:
        why = why_unreachable(exc, params["conn_timeout"])
        raise ConnectError(f"{device.name}: SSH to {device.hostname}:{device.port}: {why}") from None
    except OSError as exc:  # a socket error netmiko did not wrap
        why = why_unreachable(exc, params["conn_timeout"])
        raise ConnectError(f"{device.name}: SSH to {device.hostname}:{device.port}: {why}") from None
    except SSHException as exc:
        text = secretmod.mask(str(exc))
        if "known_hosts" in text or "not found in" in text:
            raise ConnectError(
                f"{device.name}: host key of {device.hostname} is not in {params['alt_key_file']}; verify "
                "it and add it there, or choose --trust-on-first-use explicitly") from None
        raise ConnectError(f"{device.name}: SSH failed: {text}") from None
    try:
        if not params["ssh_strict"]:
            _record_host_key(conn, Path(params["alt_key_file"]))
        yield conn
    finally:
        conn.disconnect()


def _record_host_key(conn: Any, known_hosts: Path) -> None:
    """After an explicit trust-on-first-use, keep the key so the next session verifies it."""
    transport = conn.remote_conn_pre.get_transport()
    if transport is None:
        return
    key = transport.get_remote_server_key()
    host = conn.host if int(conn.port) == 22 else f"[{conn.host}]:{conn.port}"
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    existing = known_hosts.read_text() if known_hosts.exists() else ""
    line = f"{host} {key.get_name()} {key.get_base64()}"
    if line not in existing:
        with known_hosts.open("a") as fh:
            fh.write(line + "\n")
