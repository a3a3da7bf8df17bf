"""Per-node processes: a mount-namespace holder, charon (or starter + charon) and (devices) sshd.

A node is a network namespace plus private mount and UTS namespaces (its own hostname) held open
by a `sleep` process (the holder). In that mount namespace /run is a tmpfs and the node's own
copies of /etc/swanctl, /etc/strongswan.d, /etc/ipsec.d and /var/log are bind-mounted over the
system paths; /etc as a whole is an overlay whose upper layer is the node's own, seeded with an
empty ipsec.conf and ipsec.secrets (single files are not bind-mounted: a push renames a temporary
file over its target, and rename(2) onto a mount point fails with EBUSY). charon and sshd are
started inside with `nsenter -t <holder> -m -u -n`, so an SSH session sees exactly what a normal
Linux box shows: `swanctl` reaches this node's charon on the default vici socket and files
written to /etc/... are the ones this charon reads.

A device configured through the legacy ipsec.conf runs `starter --nofork` instead: starter
launches charon (which reads the same strongswan.d, so the filelog and kernel-libipsec apply)
and loads /etc/ipsec.conf and /etc/ipsec.secrets over stroke; vici still answers.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tunnelsmith.errors import LabError
from tunnelsmith.lab.state import Proc, proc_stat

CHARON = "/usr/lib/ipsec/charon"
STARTER = "/usr/lib/ipsec/starter"
SSHD = "/usr/sbin/sshd"
VICI = "run/charon.vici"  # relative to the node's root as seen through /proc/<holder>/root
CHARON_PID = "run/charon.pid"
STROKE = "run/charon.ctl"  # starter feeds ipsec.conf through it once charon has created it
# Stop order: sshd first; starter before charon (a TERMed starter stops its charon; a charon
# killed under a live starter would be restarted by it).
STOP_ORDER = ("sshd", "twin", "starter", "charon", "holder")
STOP_GRACE = {"starter": 10.0}  # starter waits for its charon to exit before it exits itself
# A fresh legacy box: nothing configured (Debian ships comments only).
EMPTY_IPSEC_CONF = "config setup\n"
BIND_ETC = ("swanctl", "strongswan.d", "ipsec.d")  # directories under the node's etc/, bind-mounted

def charon_settings(log_path: str, plugins: str = "") -> str:
    """strongswan.conf settings of a lab charon: retransmits, kernel-libipsec (plus `plugins`), a filelog.

    Retransmissions are shortened (about 8 s before giving up instead of about 165 s) so that an
    unreachable peer shows within one verification run; the log is detailed enough to diagnose.
    """
    return f"""\
charon {{
    retransmit_tries = 3
    retransmit_timeout = 1.0
    retransmit_base = 1.5
    plugins {{
        kernel-libipsec {{
            load = yes
        }}
{plugins}    }}
    filelog {{
        tslab {{
            path = {log_path}
            time_format = %b %e %T
            ike_name = yes
            append = yes
            flush_line = yes
            default = 1
            ike = 2
            cfg = 2
            knl = 1
            net = 1
        }}
    }}
}}
"""


# A node's charon: userspace IPsec (this kernel has no ESP).
LAB_SETTINGS = "# tunnelsmith lab: userspace IPsec and a log detailed enough to diagnose.\n" + \
    charon_settings("/var/log/charon.log")

_HOLDER = r"""
set -e
mount -t tmpfs -o mode=0755 ts-run /run
mkdir -p /run/sshd
# The whole of /etc is the node's own: whatever a push writes under /etc (e.g. /etc/tunnelsmith)
# lands in the node's directory, never in the host's /etc or another node's.
mkdir -p "$1/etc-upper" "$1/etc-work"
mount -t overlay ts-etc -o lowerdir=/etc,upperdir="$1/etc-upper",workdir="$1/etc-work" /etc
for p in swanctl strongswan.d ipsec.d; do
  if [ -d "$1/etc/$p" ] && [ -d "/etc/$p" ]; then mount --bind "$1/etc/$p" "/etc/$p"; fi
done
mount --bind "$1/log" /var/log
hostname "$3"
: > "$2"
exec sleep infinity
"""


def fresh_etc(node_dir: Path) -> None:
    """A fresh box: Debian's strongSwan files, kernel-libipsec and a filelog on, no tunnel config."""
    etc = node_dir / "etc"
    for d in (etc, node_dir / "etc-upper", node_dir / "etc-work"):  # whatever the last box wrote
        if d.exists():
            shutil.rmtree(d)
    etc.mkdir(parents=True)
    upper = node_dir / "etc-upper"
    upper.mkdir()
    for name in BIND_ETC:
        src = Path("/etc") / name
        if src.is_dir():
            shutil.copytree(src, etc / name, symlinks=True)
    conf_d = etc / "swanctl" / "conf.d"
    if conf_d.exists():
        shutil.rmtree(conf_d)
    conf_d.mkdir(parents=True)
    (etc / "strongswan.d").mkdir(exist_ok=True)
    (etc / "strongswan.d" / "ts-lab.conf").write_text(LAB_SETTINGS)
    (upper / "ipsec.conf").write_text(EMPTY_IPSEC_CONF)
    (upper / "ipsec.secrets").write_text("")
    (upper / "ipsec.secrets").chmod(0o600)
    (node_dir / "log").mkdir(exist_ok=True)


def _spawn(argv: list[str], out: Path) -> Proc:
    with out.open("ab") as fh:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                             start_new_session=True, close_fds=True)
    info = None
    for _ in range(100):
        info = proc_stat(p.pid)
        if info is not None:
            break
        time.sleep(0.01)
    if info is None:
        raise LabError(f"{argv[0]} exited at once; see {out}")
    return Proc(pid=p.pid, start=info[1], argv=argv)


def _wait(cond: Callable[[], object], what: str, proc: Proc, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if not proc.alive():
            break
        time.sleep(0.02)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise LabError(f"{what} did not come up (pid {proc.pid}); {log}:\n{tail}")


def start_holder(ns: str, node_dir: Path, hostname: str) -> Proc:
    ready = node_dir / "holder.ready"
    ready.unlink(missing_ok=True)
    (node_dir / "log").mkdir(parents=True, exist_ok=True)
    out = node_dir / "holder.out"
    host = re.sub(r"[^a-z0-9-]", "-", hostname.lower())[:63].strip("-") or "lab"
    proc = _spawn(["ip", "netns", "exec", ns, "unshare", "--mount", "--uts", "--propagation", "private",
                   "sh", "-c", _HOLDER, "ts-holder", str(node_dir), str(ready), host], out)
    _wait(ready.exists, f"mount namespace holder for {ns}", proc, 10, out)
    return proc


def _enter(holder: Proc) -> list[str]:
    return ["nsenter", "-F", "-t", str(holder.pid), "-m", "-u", "-n"]


def vici_path(holder: Proc) -> Path:
    return Path(f"/proc/{holder.pid}/root") / VICI


def start_charon(holder: Proc, node_dir: Path) -> Proc:
    sock = vici_path(holder)
    if sock.exists():  # a stale socket from a charon that died: charon would not bind
        sock.unlink()
    out = node_dir / "log" / "charon.stdout"
    proc = _spawn([*_enter(holder), CHARON], out)
    _wait(sock.exists, "charon (vici socket)", proc, 15, out)
    return proc


def start_starter(holder: Proc, node_dir: Path) -> tuple[Proc, Proc]:
    """The legacy starter in the foreground; returns (starter, the charon it launched)."""
    root = Path(f"/proc/{holder.pid}/root")
    for rel in (VICI, CHARON_PID, STROKE, "run/starter.charon.pid"):  # left by a starter that died
        (root / rel).unlink(missing_ok=True)
    out = node_dir / "log" / "starter.stdout"
    proc = _spawn([*_enter(holder), STARTER, "--nofork"], out)
    sock, pid_file, stroke = root / VICI, root / CHARON_PID, root / STROKE
    _wait(lambda: sock.exists() and stroke.exists() and _read_pid(pid_file), "charon under starter (vici socket)",
          proc, 15, out)
    pid = _read_pid(pid_file)
    info = proc_stat(pid) if pid else None
    if pid is None or info is None:
        raise LabError(f"starter (pid {proc.pid}) reported charon pid {pid}, which does not run; see {out}")
    return proc, Proc(pid=pid, start=info[1], argv=[CHARON])


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def write_sshd_config(node_dir: Path, listen: str, port: int) -> Path:
    ssh = node_dir / "ssh"
    conf = ssh / "sshd_config"
    text = f"""\
# tunnelsmith lab device: key login as root only, SFTP for pushes.
ListenAddress {listen}:{port}
HostKey "{ssh / 'ssh_host_ed25519_key'}"
PidFile /run/sshd.pid
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile "{ssh / 'authorized_keys'}"
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 30:50:100
MaxSessions 30
LogLevel VERBOSE
Subsystem sftp internal-sftp
"""
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
    return conf


def tcp_banner(host: str, port: int, timeout: float = 1.0) -> str | None:
    """The SSH server's identification line, or None when nothing answers."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            data = s.recv(256)
    except OSError:
        return None
    text = data.decode(errors="replace").strip()
    return text if text.startswith("SSH-") else None


def start_sshd(holder: Proc, node_dir: Path, listen: str, port: int) -> Proc:
    conf = write_sshd_config(node_dir, listen, port)
    out = node_dir / "log" / "sshd.log"
    check = subprocess.run([*_enter(holder), SSHD, "-t", "-f", str(conf)], capture_output=True, text=True)
    if check.returncode != 0:
        raise LabError(f"sshd refuses its lab config {conf}: {check.stderr.strip()}")
    proc = _spawn([*_enter(holder), SSHD, "-D", "-e", "-f", str(conf)], out)
    _wait(lambda: tcp_banner(listen, port, 0.3) is not None, f"sshd on {listen}:{port}", proc, 10, out)
    return proc


def start_twin(holder: Proc, node_dir: Path, twin_json: Path, listen: str, port: int) -> Proc:
    """A vendor twin (tunnelsmith.twin.server) inside the node: the device's CLI on its mgmt address."""
    import sys

    out = node_dir / "log" / "twin.log"
    # the node's network and UTS namespaces, the host's mount namespace (see api._write_twin_config)
    enter = ["nsenter", "-F", "-t", str(holder.pid), "-u", "-n"]
    proc = _spawn([*enter, sys.executable, "-m", "tunnelsmith.twin.server", str(twin_json)], out)
    _wait(lambda: tcp_banner(listen, port, 0.3) is not None, f"twin on {listen}:{port}", proc, 20, out)
    return proc


def stop(proc: Proc, grace: float = 3.0) -> None:
    """Stop exactly this process (pid + start time match), TERM then KILL; reap if it is our child."""
    if proc.alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while proc.alive() and time.monotonic() < deadline:
            _reap(proc.pid)
            time.sleep(0.02)
        if proc.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
    _reap(proc.pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def enter_argv(holder: Proc, argv: list[str]) -> list[str]:
    return [*_enter(holder), *argv]
