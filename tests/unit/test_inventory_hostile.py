"""Issue 7 regressions for the inventory model, files, inheritance and errors: one test per case.

Each hostile or mistaken inventory must end in a located problem (file, object, field, why) and
exit code 2, never a traceback, a hang or a silently ignored key.
"""

from __future__ import annotations

import copy
import errno
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import cli, connect, inventory, validate
from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import Problem, shown
from tunnelsmith.model import SecretRef
from tunnelsmith.rundir import RunDir, safe_component

HOSTS: dict[str, Any] = {
    "cgw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.20"],
                     "vpc_subnets": ["198.19.32.0/24"]}},
    "dev": {"hostname": "198.18.0.2", "platform": "cisco_ios", "username": "admin",
            "data": {"role": "device", "wan_interface": "GigabitEthernet0/0", "public_ip": "198.51.100.10",
                     "lan_subnets": ["198.18.16.0/24"]}},
}
TUNNEL: dict[str, Any] = {"name": "t1", "cloud": "cgw", "device": "dev", "psk": {"env": "TS_HOSTILE_INV_PSK"},
                          "routing": {"mode": "policy"}}


@pytest.fixture(autouse=True)
def _psk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_HOSTILE_INV_PSK", "Hostile.inv_key_42")


def write(tmp: Path, hosts: Any = None, tunnels: Any = None, groups: Any = None, defaults: Any = None,
          raw: dict[str, str | bytes] | None = None) -> Path:
    d = tmp / "inv"
    d.mkdir(parents=True, exist_ok=True)
    docs = {"hosts.yaml": HOSTS if hosts is None else hosts,
            "tunnels.yaml": {"tunnels": [TUNNEL] if tunnels is None else tunnels}}
    if groups is not None:
        docs["groups.yaml"] = groups
    if defaults is not None:
        docs["defaults.yaml"] = defaults
    for name, doc in docs.items():
        (d / name).write_text(yaml.safe_dump(doc, sort_keys=False))
    for name, text in (raw or {}).items():
        (d / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return d


def hosts_with(path: str, value: Any, host: str = "dev") -> dict[str, Any]:
    h = copy.deepcopy(HOSTS)
    node = h[host]
    keys = path.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return h


def one(problems: list[Problem], obj: str, field: str, *words: str) -> Problem:
    hits = [p for p in problems if p.obj == obj and p.field == field and all(w in p.message for w in words)]
    assert len(hits) == 1, "\n".join(map(str, problems))
    return hits[0]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = cli.main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return rc, text


def test_inventory_is_valid_as_written(tmp_path: Path) -> None:
    assert validate.check(write(tmp_path)) == []


# --- tracebacks instead of located errors --------------------------------------------------------
def test_data_not_a_mapping(tmp_path: Path) -> None:
    one(validate.check(write(tmp_path, hosts=hosts_with("data", "role=device"))), "host dev", "data", "mapping")


def test_group_not_a_mapping(tmp_path: Path) -> None:
    p = one(validate.check(write(tmp_path, groups={"onprem": ["x"]})), "group onprem", "", "mapping")
    assert p.file.endswith("groups.yaml") and p.line == 1


def test_groups_an_int(tmp_path: Path) -> None:
    one(validate.check(write(tmp_path, hosts=hosts_with("groups", 3))), "host dev", "groups", "must be a list")


def test_string_where_an_integer_option_is_expected(tmp_path: Path) -> None:
    d = write(tmp_path, hosts=hosts_with("data.cisco_ios", {"isakmp_policy_base": "abc"}))
    one(validate.check(d), "host dev", "data.cisco_ios.isakmp_policy_base", "whole number", "'abc'")


def test_unknown_dpd_action(tmp_path: Path) -> None:
    t = {**TUNNEL, "ipsec": {"dpd": {"action": "explode"}}}
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "ipsec.dpd.action", "restart, clear, hold",
        "'explode'")


def test_os_version_a_list(tmp_path: Path) -> None:
    h = hosts_with("platform", "huawei_vrp")
    h["dev"]["data"]["wan_interface"] = "GigabitEthernet0/0/1"
    h["dev"]["data"]["huawei_vrp"] = {"os_version": ["v5"]}
    one(validate.check(write(tmp_path, hosts=h)), "host dev", "data.huawei_vrp.os_version", "exactly one")


@pytest.mark.parametrize(("content", "words"), [
    (b"dev:\n  hostname: caf\xe9\n", ("not valid UTF-8", "byte offset 20")),
    ("dev: {}\n".encode("utf-16"), ("UTF-16",)),
])
def test_non_utf8_files(tmp_path: Path, content: bytes, words: tuple[str, ...]) -> None:
    d = write(tmp_path, raw={"hosts.yaml": content})
    p = one(validate.check(d), "", "", *words)
    assert p.file.endswith("hosts.yaml")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write(tmp_path)
    real = os.open

    def refuse(path: Any, *a: Any, **kw: Any) -> int:
        if str(path).endswith("tunnels.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, *a, **kw)

    monkeypatch.setattr(os, "open", refuse)  # the suite may run as root, which reads any mode
    p = one(validate.check(d), "", "", "cannot be read", "Permission denied")
    assert p.file.endswith("tunnels.yaml")


def test_hosts_yaml_is_a_directory(tmp_path: Path) -> None:
    d = write(tmp_path)
    (d / "hosts.yaml").unlink()
    (d / "hosts.yaml").mkdir()
    one(validate.check(d), "", "", "is a directory")


def test_secrets_file_that_is_not_yaml(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("t1: [unclosed\n")
    secrets.chmod(0o600)
    t = {**TUNNEL, "psk": {"file": str(secrets), "key": "t1"}}
    p = one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "psk")
    assert "Traceback" not in p.message and str(secrets) in p.message


def test_missing_ssh_key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-key"
    d = write(tmp_path, hosts=hosts_with("data.ssh", {"key_file": str(missing)}))
    one(validate.check(d, ssh_keys=True), "host dev", "data.ssh.key_file", "does not exist")
    rc, text = run_cli(["validate", "-i", str(d)], capsys)
    assert rc == 2 and "data.ssh.key_file" in text
    dev = inventory.load(d).devices["dev"]
    with pytest.raises(connect.ConnectError, match="does not exist"):
        connect.netmiko_params(dev)


# --- hangs ------------------------------------------------------------------------------------------
def _bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, c in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{c}: &{c} [{','.join(['*' + prev] * 9)}]")
    return "\n".join(lines) + "\n"


BOMB = _bomb()


def test_alias_bomb_fails_fast(tmp_path: Path) -> None:
    assert len(BOMB.encode()) <= 437
    d = write(tmp_path, raw={"groups.yaml": BOMB})
    t0 = time.monotonic()
    p = one(validate.check(d), "", "", "alias")
    assert time.monotonic() - t0 < 5 and p.file.endswith("groups.yaml")


def test_fifo_as_secrets_file_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "secrets.fifo"
    os.mkfifo(fifo, 0o600)
    assert "not a regular file" in (secretmod.check_secrets_file(fifo, None) or "")
    t = {**TUNNEL, "psk": {"file": str(fifo), "key": "t1"}}
    t0 = time.monotonic()
    one(validate.check(write(tmp_path, tunnels=[t])), "tunnel t1", "psk", "regular file")
    assert time.monotonic() - t0 < 5


def test_secret_file_checks(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("k: v\n")
    f.chmod(0o644)
    assert "mode 0644" in (secretmod.check_secrets_file(f, None) or "")
    f.chmod(0o600)
    assert secretmod.check_secrets_file(f, None) is None
    assert secretmod.resolve(SecretRef(file=str(f), key="k")) == "v"
    assert "not a regular file" in (secretmod.check_secrets_file(tmp_path, None) or "")


# --- YAML limits ------------------------------------------------------------------------------------
def test_duplicate_key_refused(tmp_path: Path) -> None:
    d = write(tmp_path, raw={"groups.yaml": "g:\n  port: 22\n  port: 2222\n"})
    p = one(validate.check(d), "", "port", "duplicate name 'port'")
    assert p.line == 3


def test_merge_key_refused_clearly(tmp_path: Path) -> None:
    d = write(tmp_path, raw={"groups.yaml": "base: &b {port: 22}\ng:\n  <<: *b\n"})
    one(validate.check(d), "", "", "merge keys (<<) are not supported")


# --- silently ignored keys ----------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "value", "field", "hint"), [
    ("data.lan_subnet", ["198.18.17.0/24"], "data.lan_subnet", "lan_subnets"),
    ("usernme", "admin", "usernme", "username"),
    ("prot", 22, "prot", "port"),
    ("data.bgp_asm", 65010, "data.bgp_asm", "bgp_asn"),
    ("data.ssh.key_fle", "/k", "data.ssh.key_fle", "key_file"),
    ("data.cisco_io", {"tunnel_base": 5}, "data.cisco_io", "cisco_ios"),  # a misspelt platform key
    ("data.cisco_ios.tunnel_bse", 5, "data.cisco_ios.tunnel_bse", "tunnel_base"),
])
def test_typo_is_an_error_with_a_suggestion(tmp_path: Path, path: str, value: Any, field: str, hint: str) -> None:
    p = one(validate.check(write(tmp_path, hosts=hosts_with(path, value))), "host dev", field, "unknown field")
    assert f"did you mean {hint!r}" in p.message and p.file.endswith("hosts.yaml") and p.line


def test_lan_subnet_typo_does_not_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The SRX BGP export would match nothing and export everything: the typo must stop rendering."""
    d = write(tmp_path, hosts=hosts_with("data.lan_subnet", ["198.18.17.0/24"]))
    rc, text = run_cli(["render", "-i", str(d)], capsys)
    assert rc == 2 and "data.lan_subnet" in text


@pytest.mark.parametrize(("path", "field"), [
    ("data.passwd", "data.passwd"), ("password", "password"), ("data.ssh.password", "data.ssh.password"),
    ("data.enable_secret", "data.enable_secret"),
    ("connection_options.netmiko.extras.secret", "connection_options.netmiko.extras")])
def test_plain_password_refused_without_echo(tmp_path: Path, path: str, field: str) -> None:
    problems = validate.check(write(tmp_path, hosts=hosts_with(path, "Hunter2.plain")))
    p = next(p for p in problems if p.obj == "host dev" and p.field == field)
    assert "secret" in p.message and all("Hunter2.plain" not in str(q) for q in problems)


# --- path traversal -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../x", "/etc/cron.d/x", "/", ".hidden", "a/b", "x\u2028y"])
def test_unsafe_host_names_refused(tmp_path: Path, name: str) -> None:
    h = copy.deepcopy(HOSTS)
    h[name] = h.pop("dev")
    problems = validate.check(write(tmp_path, hosts=h, tunnels=[{**TUNNEL, "device": name}]))
    p = one(problems, f"host {shown(name)}", "", "not allowed")
    assert p.file.endswith("hosts.yaml") and "\u2028" not in str(p)


@pytest.mark.parametrize("name", ["../../x", "/abs", "..", ".", "a/../../b", "ok-name.1"])
def test_run_directory_names_stay_inside(tmp_path: Path, name: str) -> None:
    run = RunDir.create(tmp_path / "runs", "r1")
    path = run.write(name, "rendered.txt", "x")
    assert path.resolve().parent.parent == run.root.resolve()
    assert "/" not in safe_component(name) and safe_component(name) not in ("", ".", "..")
    if name == "ok-name.1":
        assert path.parent.name == name


def test_run_id_cannot_climb(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RunDir.open(tmp_path, "../..")


# --- errors ---------------------------------------------------------------------------------------------
def test_value_cannot_forge_a_message_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write(tmp_path, hosts=hosts_with("data.wan_interface", "Gi0/0\n  tunnels.yaml: all fine\u2028x" + "y" * 500))
    rc, text = run_cli(["validate", "-i", str(d)], capsys)
    lines = [line for line in text.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 2 and "\u2028" not in text and len(lines[1]) < 400


def test_every_problem_exits_2_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = write(tmp_path, hosts=hosts_with("data.wan_mtu", "1500"))
    rc, text = run_cli(["validate", "-i", str(d), "--format", "json"], capsys)
    assert rc == 2 and '"field": "data.wan_mtu"' in text and '"line": ' in text


def _device() -> Any:
    from tunnelsmith.model import Device

    return Device(name="r1", platform="cisco_ios", hostname="127.0.0.1", port=1, username="u",
                  wan_interface="g0/0", public_ip=__import__("ipaddress").IPv4Address("198.51.100.1"),
                  lan_subnets=(), ssh={"timeout": 2})


def test_refused_connection_is_told_apart(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dev = _device().__class__(**{**_device().__dict__, "port": port})
    with pytest.raises(connect.ConnectError) as exc, connect.open_connection(dev, trust_on_first_use=True):
        pass
    msg = str(exc.value)
    assert "refused" in msg and "timed out" not in msg and "\n" not in msg
    assert exc.value.__suppress_context__ and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("error", "words"), [
    (TimeoutError("timed out"), "timed out after 2 s"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
    (socket.gaierror(-2, "Name or service not known"), "does not resolve"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connection refused"),
])
def test_unreachable_kinds(error: Exception, words: str) -> None:
    from netmiko.exceptions import NetmikoTimeoutException

    try:
        try:
            raise error
        except OSError:
            raise NetmikoTimeoutException("TCP connection to device failed.\n\nCommon causes...") from None
    except NetmikoTimeoutException as wrapped:
        wrapped.__context__ = error
        assert words in connect.why_unreachable(wrapped, 2.0)


# --- Nornir inheritance and platform names ------------------------------------------------------------------
def test_platform_and_data_from_nested_groups(tmp_path: Path) -> None:
    h = copy.deepcopy(HOSTS)
    dev = h["dev"]
    del dev["platform"], dev["username"]
    dev["groups"] = ["site", "cisco"]
    dev["data"] = {"public_ip": "198.51.100.10", "lan_subnets": ["198.18.16.0/24"]}
    groups = {"site": {"groups": ["onprem"], "data": {"wan_interface": "GigabitEthernet0/1"}},
              "onprem": {"data": {"role": "device", "wan_interface": "Gi9/9"}},
              "cisco": {"platform": "ios", "data": {"wan_interface": "ignored"}}}
    d = write(tmp_path, hosts=h, groups=groups, defaults={"username": "from-defaults", "port": 2222})
    device = inventory.load(d).devices["dev"]
    assert (device.platform, device.wan_interface, device.username, device.port) == \
        ("cisco_ios", "GigabitEthernet0/1", "from-defaults", 2222)


@pytest.mark.parametrize(("name", "platform", "options"), [
    ("ios", "cisco_ios", {}), ("cisco_xe", "cisco_ios", {}), ("junos", "juniper_junos", {}),
    ("huawei", "huawei_vrp", {}), ("huawei_vrpv8", "huawei_vrp", {"os_version": "v8"}),
    ("comware", "hp_comware", {}),
])
def test_nornir_platform_names(tmp_path: Path, name: str, platform: str, options: dict[str, str]) -> None:
    d = write(tmp_path, hosts=hosts_with("platform", name))
    device = inventory.load(d).devices["dev"]
    assert device.platform == platform and all(device.options.get(k) == v for k, v in options.items())


def test_group_loop_is_located(tmp_path: Path) -> None:
    groups = {"a": {"groups": ["b"]}, "b": {"groups": ["a"]}}
    d = write(tmp_path, hosts=hosts_with("groups", ["a"]), groups=groups)
    assert any("loop" in p.message and p.field == "groups" for p in validate.check(d))


# --- validate --offline -------------------------------------------------------------------------------------
def test_validate_offline_skips_secrets_and_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TS_HOSTILE_INV_PSK")
    d = write(tmp_path, hosts=hosts_with("data.ssh", {"key_file": str(tmp_path / "absent")}))
    rc, _ = run_cli(["validate", "-i", str(d)], capsys)
    assert rc == 2
    rc, text = run_cli(["validate", "--offline", "-i", str(d)], capsys)
    assert rc == 0 and "offline" in text
    bad = write(tmp_path / "bad", hosts=hosts_with("data.wan_mtu", 10))
    rc, text = run_cli(["validate", "--offline", "-i", str(bad)], capsys)
    assert rc == 2 and "data.wan_mtu" in text


def test_connection_failures_print_no_traceback_records() -> None:
    """paramiko logs a failed transport's traceback line by line and Nornir logs each failed task's
    traceback: neither reaches a handler; paramiko's one-line summary still does."""
    import logging

    import tunnelsmith.nr  # noqa: F401  (installs the Nornir logger policy)

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    root = logging.getLogger()
    handler = Keep()
    root.addHandler(handler)
    try:
        log = logging.getLogger("paramiko.transport")
        for line in ("Exception (client): Error reading SSH protocol banner", "Traceback (most recent call last):",
                     '  File "x.py", line 1, in run', "EOFError", "",
                     "During handling of the above exception, another exception occurred:",
                     "paramiko.ssh_exception.SSHException: Error reading SSH protocol banner"):
            log.error(line)
        logging.getLogger("nornir.core.task").error("Host 'r1': task failed with traceback:\nTraceback ...")
    finally:
        root.removeHandler(handler)
    assert seen == ["Exception (client): Error reading SSH protocol banner"]


def test_semantic_problems_carry_their_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_INVALID_MANY_PSK_A", "Many.problems_1")
    many = Path(__file__).resolve().parents[1] / "data" / "invalid" / "many"
    problems = validate.check(many)
    mss = one(problems, "tunnel no-secret", "mss")
    text = (many / "tunnels.yaml").read_text().splitlines()
    assert mss.line and text[mss.line - 1].strip().startswith("mss:")
    assert all(p.line for p in problems), [str(p) for p in problems if not p.line]


def test_runs_dir_that_is_a_file(tmp_path: Path) -> None:
    from tunnelsmith.errors import UsageError

    blocker = tmp_path / "runs"
    blocker.write_text("not a directory")
    with pytest.raises(UsageError, match="--runs-dir") as exc:
        RunDir.create(blocker)
    assert exc.value.exit_code == 2


@pytest.mark.parametrize("offline", [False, True])
def test_a_dollar_path_is_refused_offline_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              offline: bool) -> None:
    """The form of a reference needs no secret: `validate --offline` (CI) must refuse it as well."""
    monkeypatch.setenv("TS_HOSTILE_OTHER_PSK", "another.inventorys_key_77")
    t = {**TUNNEL, "psk": {"file": "$TS_HOSTILE_OTHER_PSK/secrets.yaml", "key": "t1"}}
    p = one(validate.check(write(tmp_path, tunnels=[t]), offline=offline), "tunnel t1", "psk.file",
            "only ${TUNNELSMITH_LAB_DIR} is expanded")
    assert "another.inventorys_key_77" not in str(p)
