"""The twin's SSH server (asyncssh): a vendor CLI on the device's management address.

Started by the lab inside the device node (`python -m tunnelsmith.twin.server <twin.json>`), so
`swanctl`, `ping` and the charon log it uses are the node's own. Key login only, against the
lab's authorized_keys; the host key is the node's, pinned in the lab's known_hosts. The terminal
is raw: the twin echoes each line, as a device does, then prints the reply and the prompt (or,
when the device asks a question, only the question).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

import asyncssh

from tunnelsmith.twin.device import TwinConfig, TwinDevice

log = logging.getLogger("tunnelsmith.twin")
LOGOUT = {"exit", "quit", "logout"}


class _Server(asyncssh.SSHServer):
    def __init__(self, username: str):
        self.username = username

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:  # pragma: no cover - asyncssh
        return username == self.username


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


async def _session(device: TwinDevice, process: asyncssh.SSHServerProcess) -> None:
    loop = asyncio.get_running_loop()
    with device.lock:
        device.emu.disconnect()  # every login starts in exec mode
    process.stdout.write("\r\n" + device.prompt())
    buf = ""
    try:
        while True:
            data = await process.stdin.read(4096)
            if not data:
                break
            buf += data
            while True:
                cut = min((i for i in (buf.find("\r"), buf.find("\n")) if i >= 0), default=-1)
                if cut < 0:
                    break
                line, rest = buf[:cut], buf[cut + 1:]
                if buf[cut] == "\r" and rest.startswith("\n"):
                    rest = rest[1:]
                buf = rest
                process.stdout.write(line + "\r\n")
                if device.emu.mode == "exec" and " ".join(line.split()) in LOGOUT and not device.emu._dialogue:
                    process.exit(0)
                    return
                reply, waiting = await loop.run_in_executor(None, device.execute, line)
                if reply and not reply.endswith("\n") and not waiting:
                    reply += "\n"
                process.stdout.write(_crlf(reply) if waiting else _crlf(reply) + device.prompt())
    except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, ConnectionError):
        pass
    finally:
        with device.lock:
            device.emu.disconnect()
        process.exit(0)


async def serve(cfg: TwinConfig, device: TwinDevice) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncssh.create_server(
        lambda: _Server(cfg.username), cfg.listen, cfg.port, server_host_keys=[cfg.host_key],
        authorized_client_keys=cfg.authorized_keys, process_factory=lambda p: _session(device, p),
        line_editor=False, encoding="utf-8", keepalive_interval=0,
        gss_host=None)  # no GSSAPI: asyncssh would otherwise resolve the node's FQDN (5 s DNS timeout here)
    log.info("twin %s (%s) listening on %s:%d", cfg.hostname, cfg.platform, cfg.listen, cfg.port)
    await stop.wait()
    server.close()
    with device.lock:
        device.save_state()
        device.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tunnelsmith.twin.server TWIN.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    cfg = TwinConfig.read(Path(args[0]))
    device = TwinDevice(cfg)
    device.activate()
    asyncio.run(serve(cfg, device))
    return 0


if __name__ == "__main__":
    sys.exit(main())
