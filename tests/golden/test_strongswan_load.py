"""A real strongSwan accepts what tunnelsmith renders, for every strongSwan host in the repository.

One throwaway charon runs in a network namespace of its own (`tscap2-load-<pid>`: no address, no
route, so nothing it sends can leave; connections with start_action=start fail locally with
"Network is unreachable") with a private tmpfs on /run, its own strongswan.conf
(STRONGSWAN_CONF), vici and stroke sockets and ipsec.secrets path in a temp dir. For each
strongSwan device of every inventory under inventory/examples/ and inventory/lab/ (and the lab's
cloud gateways, which the lab runs as strongSwan too):

* format swanctl: `swanctl --load-all --clear --file <rendered>` must report every connection
  and secret loaded and nothing failed; `swanctl --list-conns` must then show each connection
  with its IKE version and each CHILD with the rendered traffic selectors.
* format ipsec: the connections of ipsec.conf are not loaded into the daemon. The legacy starter
  loads ipsec.conf only into a charon it started itself (checked: with a charon already running
  it prints "charon is already running ... skipping daemon start" and loads nothing, even on
  SIGHUP), which would need a second daemon under `starter --nofork`. Instead
  `starter --conftest --debug-all` parses the file with starter's own parser and must accept
  it without a single parsing error and print every conn with every rendered key, and the
  running charon re-reads the rendered ipsec.secrets (`stroke rereadsecrets`) and must log one
  loaded secret per line.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets as pysecrets
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunnelsmith import inventory, render
from tunnelsmith.errors import InventoryError
from tunnelsmith.platforms import spec as pspec

ROOT = Path(__file__).resolve().parents[2]
CHARON = Path("/usr/lib/ipsec/charon")
STARTER = Path("/usr/lib/ipsec/starter")
STROKE = Path("/usr/lib/ipsec/stroke")
PLATFORM = "strongswan"

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespace, mount namespace)"),
    pytest.mark.skipif(not CHARON.exists(), reason=f"{CHARON} not installed"),
    pytest.mark.skipif(not (shutil.which("swanctl") and shutil.which("ip") and shutil.which("unshare")),
                       reason="swanctl, ip and unshare are needed"),
]


# --- what to load ---------------------------------------------------------------------------------
def _template_path(side: str, template: str) -> str | None:
    """The output path the platform renders `template` to (from its platform.yaml)."""
    outputs = (pspec.load(PLATFORM).section("sides").get(side) or {}).get("outputs") or []
    return next((o["path"] for o in outputs if o["template"] == template), None)


SWANCTL_PATH = {side: _template_path(side, "swanctl.conf.j2") for side in ("device", "cloud")}
IPSEC_CONF_PATH = _template_path("device", "ipsec.conf.j2")
IPSEC_SECRETS_PATH = _template_path("device", "ipsec.secrets.j2")


def _inventories() -> list[Path]:
    examples = sorted(p for p in (ROOT / "inventory/examples").iterdir() if (p / "hosts.yaml").exists())
    return [*examples, ROOT / "inventory/lab"]


def _cases() -> list:
    """(inventory dir, host, side, format); an inventory that does not load is a failing case."""
    out = []
    for d in _inventories():
        name = d.relative_to(ROOT / "inventory").as_posix()
        try:
            inv = inventory.load(d)
        except InventoryError as exc:
            out.append(pytest.param(d, None, "load", None, str(exc), id=f"{name}/load"))
            continue
        for host, dev in sorted(inv.devices.items()):
            if dev.platform == PLATFORM:
                for fmt in ("swanctl", "ipsec"):
                    out.append(pytest.param(d, host, "device", fmt, None, id=f"{name}/{host}/{fmt}"))
        if d.name == "lab":  # the lab runs its cloud gateways as strongSwan daemons
            for cloud in sorted(inv.clouds):
                out.append(pytest.param(d, cloud, "cloud", "swanctl", None, id=f"{name}/{cloud}/swanctl"))
    return out


CASES = _cases()


def rendered(directory: Path, host: str, side: str, fmt: str) -> dict[str, str]:
    """The host's files in format `fmt`, with fresh random pre-shared keys."""
    inv = inventory.load(directory)
    if side == "cloud":
        psk = {t.name: pysecrets.token_urlsafe(18) for t in inv.tunnels_of_cloud(host)}
        return render.render_cloud_emulation(inv, host, PLATFORM, psk=psk).files
    dev = inv.devices[host]
    dev = dataclasses.replace(dev, options={**dev.options, "format": fmt})
    inv = dataclasses.replace(inv, devices={**inv.devices, host: dev})
    psk = {t.name: pysecrets.token_urlsafe(18) for t in inv.tunnels_of(host)}
    return render.render_device(inv, host, psk=psk).files


# --- the daemon -----------------------------------------------------------------------------------
@dataclasses.dataclass
class Daemon:
    pid: int
    work: Path
    conf: Path
    uri: str
    log: Path
    secrets: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "STRONGSWAN_CONF": str(self.conf)}


SETTINGS = """\
# tscap2 load check: Debian's plugins, sockets and secrets in a temp dir, a flushed log.
charon {{
    load_modular = yes
    install_routes = no
    plugins {{
        include /etc/strongswan.d/charon/*.conf
        vici {{
            socket = unix://{work}/charon.vici
        }}
        stroke {{
            socket = unix://{work}/charon.ctl
            secrets_file = {work}/ipsec.secrets
        }}
    }}
    filelog {{
        tscap2 {{
            path = {work}/charon.log
            flush_line = yes
            default = 1
            cfg = 1
        }}
    }}
}}
"""

# In the namespace: a private tmpfs on /run (charon's pid file), then charon itself (same pid).
RUN_CHARON = 'mount -t tmpfs -o mode=0755 tscap2-run /run && exec "$0"'


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10).stdout


def _stop(pid: int, proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.kill(pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def charon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    work = tmp_path_factory.mktemp("tscap2-load")
    conf = work / "strongswan.conf"
    conf.write_text(SETTINGS.format(work=work))
    secrets_file = work / "ipsec.secrets"
    secrets_file.write_text("")
    os.chmod(secrets_file, 0o600)
    ns = f"tscap2-load-{os.getpid()}"
    _ip("netns", "add", ns)
    proc = None
    try:
        # nothing charon sends may leave: no address but loopback's, no route at all
        assert _ip("-n", ns, "-4", "route", "show").strip() == ""
        assert "inet " not in _ip("-n", ns, "-4", "addr", "show", "scope", "global")
        log = (work / "charon.out").open("wb")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
             "sh", "-c", RUN_CHARON, str(CHARON)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "STRONGSWAN_CONF": str(conf)})
        log.close()
        sock = work / "charon.vici"
        deadline = time.monotonic() + 10
        while not sock.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sock.exists(), f"charon did not start: {(work / 'charon.out').read_text(errors='replace')}"
        assert os.readlink(f"/proc/{proc.pid}/exe") == str(CHARON), "the started pid is not charon"
        yield Daemon(pid=proc.pid, work=work, conf=conf, uri=f"unix://{sock}", log=work / "charon.log",
                     secrets=secrets_file)
    finally:
        if proc is not None:
            _stop(proc.pid, proc)
        subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=10)


# --- swanctl --------------------------------------------------------------------------------------
def swanctl_tree(text: str) -> dict:
    """swanctl.conf sections as nested dicts (values as written, comments dropped)."""
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        m = re.match(r"^\s*([^=\s{}]+)\s*=\s*(.*)$", raw)
        if m:
            value = m.group(2).strip()
            stack[-1][m.group(1)] = value if value[:1] in "\"'" else value.split("#", 1)[0].strip()
            continue
        line = raw.split("#", 1)[0].strip()
        if line.endswith("{"):
            stack[-1][line[:-1].strip()] = node = {}
            stack.append(node)
        elif line == "}":
            stack.pop()
        elif line:
            raise AssertionError(f"not swanctl.conf syntax: {raw!r}")
    return root


def _ts(value: str) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"[\s,]+", value.strip()) if v)


def expected_conns(tree: dict) -> dict[str, tuple[str, dict[str, tuple]]]:
    """conn -> (IKE version, {child: (local_ts, remote_ts)}) as rendered."""
    out = {}
    for name, conn in tree.get("connections", {}).items():
        children = {c: (_ts(kv["local_ts"]), _ts(kv["remote_ts"])) for c, kv in conn.get("children", {}).items()}
        out[name] = (conn.get("version", "0"), children)
    return out


def listed_conns(text: str) -> dict[str, tuple[str, dict[str, tuple]]]:
    """The same, read back from `swanctl --list-conns` (children are the 2-space-indented TUNNEL lines)."""
    out: dict[str, tuple[str, dict[str, tuple]]] = {}
    conn = child = None
    for line in text.splitlines():
        head = re.match(r"^(\S+): IKEv(\d)", line)
        if head:
            conn, child = head.group(1), None
            out[conn] = (head.group(2), {})
            continue
        sub = re.match(r"^  (\S+): (TUNNEL|TRANSPORT)", line)
        if sub and conn:
            child = sub.group(1)
            out[conn][1][child] = ((), ())
            continue
        ts = re.match(r"^    (local|remote):\s+(.*)$", line)
        if ts and conn and child:
            local, remote = out[conn][1][child]
            value = _ts(ts.group(2))
            out[conn][1][child] = (value, remote) if ts.group(1) == "local" else (local, value)
    return out


def _swanctl(daemon: Daemon, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["swanctl", *args, "--uri", daemon.uri], capture_output=True, text=True, timeout=20,
                          env=daemon.env())


@pytest.mark.parametrize(("directory", "host", "side", "fmt", "error"), CASES)
def test_rendered_config_loads(directory: Path, host: str | None, side: str, fmt: str | None, error: str | None,
                               charon: Daemon, tmp_path: Path) -> None:
    assert error is None, f"inventory {directory} does not load: {error}"
    files = rendered(directory, host, side, fmt)
    if fmt == "swanctl":
        check_swanctl(files[SWANCTL_PATH[side]], charon, tmp_path)
    else:
        check_ipsec_conf(files[IPSEC_CONF_PATH], charon, tmp_path)
        check_ipsec_secrets(files[IPSEC_SECRETS_PATH], charon)


def check_swanctl(text: str, daemon: Daemon, tmp: Path) -> None:
    f = tmp / "swanctl.conf"
    f.write_text(text)
    f.chmod(0o600)
    tree = swanctl_tree(text)
    want = expected_conns(tree)
    assert want, "the rendering defines no connection"
    res = _swanctl(daemon, "--load-all", "--clear", "--noprompt", "--file", str(f))
    # swanctl looks for credential folders beside --file; there are none here (PSKs only)
    noise = re.compile(r"^opening directory '.*' failed: No such file or directory$")
    stderr = [ln for ln in res.stderr.splitlines() if ln.strip() and not noise.match(ln)]
    out = res.stdout
    assert res.returncode == 0 and not stderr, f"rc={res.returncode}\n{out}\n{res.stderr}"
    assert not re.search(r"(?i)fail|error", out), out
    assert set(re.findall(r"^loaded connection '([^']+)'$", out, flags=re.M)) == set(want), out
    assert re.search(rf"^successfully loaded {len(want)} connections, \d+ unloaded$", out, flags=re.M), out
    secrets = set(tree.get("secrets", {}))
    assert set(re.findall(r"^loaded ike secret '([^']+)'$", out, flags=re.M)) == secrets, out
    listed = _swanctl(daemon, "--list-conns")
    assert listed.returncode == 0, listed.stderr
    assert listed_conns(listed.stdout) == want, listed.stdout


# --- ipsec.conf / ipsec.secrets -------------------------------------------------------------------
def conf_conns(text: str) -> dict[str, set[str]]:
    """conn -> its own `key=value` lines as rendered (%default and config setup left out)."""
    out: dict[str, set[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        head = re.match(r"^(conn (\S+)|config setup)$", line)
        if head:
            current = head.group(2) if head.group(2) not in (None, "%default") else None
            if current:
                out[current] = set()
        elif line.strip() and current:
            out[current].add(line.strip())
    return out


def check_ipsec_conf(text: str, daemon: Daemon, tmp: Path) -> None:
    f = tmp / "ipsec.conf"
    f.write_text(text)
    res = subprocess.run([str(STARTER), "--conftest", "--debug-all", "--conf", str(f)], capture_output=True,
                         text=True, timeout=10, env=daemon.env())
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "config OK" in out, out
    assert not re.search(r"(?i)parsing error|unknown keyword|deprecated keyword|bad argument|invalid", out), out
    parsed: dict[str, set[str]] = {}
    current = None
    for line in out.splitlines():
        head = re.match(r"^Loading conn '([^']+)'$", line)
        if head:
            current = head.group(1)
            parsed[current] = set()
        elif current and line.startswith("  "):
            parsed[current].add(line.strip())
    want = conf_conns(text)
    assert set(parsed) == set(want), out
    for conn, lines in want.items():
        own = {ln for ln in lines if not ln.startswith("also=")}  # starter resolves also= into keys
        assert own <= parsed[conn], (conn, own - parsed[conn])


def check_ipsec_secrets(text: str, daemon: Daemon) -> None:
    want = []
    for line in text.splitlines():
        if " : PSK " in line and not line.lstrip().startswith("#"):
            want.append("loaded IKE secret for " + " ".join(shlex.split(line.split(" : PSK ", 1)[0])))
    assert want, "the rendering holds no secret"
    daemon.secrets.write_text(text)
    start = daemon.log.stat().st_size if daemon.log.exists() else 0
    res = subprocess.run([str(STROKE), "rereadsecrets"], capture_output=True, text=True, timeout=10,
                         env=daemon.env())
    assert res.returncode == 0, res.stdout + res.stderr
    new: list[str] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        with daemon.log.open(encoding="utf-8", errors="replace") as fh:
            fh.seek(start)
            new = [ln.split("] ", 1)[-1].strip() for ln in fh.read().splitlines()]
        if sum(ln.startswith("loaded IKE secret for") for ln in new) >= len(want) or any(
                re.match(r"line \d+:", ln) for ln in new):
            break
        time.sleep(0.02)
    assert f"loading secrets from '{daemon.secrets}'" in new, new
    assert not [ln for ln in new if re.match(r"line \d+:", ln)], new
    assert sorted(ln for ln in new if ln.startswith("loaded IKE secret for")) == sorted(want), new
