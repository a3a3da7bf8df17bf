"""Seeded property-based fuzzing of every example inventory (issue 7): hostile values never get through.

Every string or number in every example inventory (inventory/examples/*, inventory/lab), plus the
values an inventory may add (identities, each platform option, the PSK itself), is replaced by a
payload: a line separator and a command, a platform's special characters, extra words, a huge
string, bidi and zero-width characters, `%any`, a mapping or a list where one value belongs.
Validation and rendering run in-process (no subprocess: ~10,000 cases in well under two minutes).

Whatever the payload, the outcome is either the project's located error (`InventoryError`, each
problem one line) or a rendered configuration in which:
- no line, split on "\\n" or by `str.splitlines()`, is the payload's command on its own;
- no known pre-shared key (nor its Cisco type 7 form) appears in masked output or any message.
Any other exception fails the test with the payload that caused it (hypothesis shrinks it).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tunnelsmith import console, inventory, render, validate
from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import InventoryError
from tunnelsmith.platforms import spec as pspec

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = sorted(p for p in (ROOT / "inventory" / "examples").iterdir() if (p / "hosts.yaml").exists())
INVENTORIES.append(ROOT / "inventory" / "lab")
FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml", "tunnels.yaml")
# A key no cloud profile refuses (letters, digits, '_'; AWS, CTyun ... rules), distinct per tunnel.
PSK_BASE = "Fz9kP2q_Rm9vT4w"
COMMANDS = ("reload fuzzcmd", "delete security fuzzcmd", "write erase fuzzcmd", "leftid=%any fuzzcmd",
            "request system zeroize fuzzcmd")
SEPARATORS = ("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
INVISIBLE = ("\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200c", "\u200d", "\u200e",
             "\u200f", "\u2060", "\ufeff", "\x00", "\x1b", "\x7f", "\x9b", "\u00a0")
SPECIALS = tuple(';{}#[]"\'?\\|$%*&<>=,!`')
CASES = int(os.environ.get("TUNNELSMITH_FUZZ_CASES", "10000"))
BREAK_RE = re.compile("[" + "".join(SEPARATORS) + "]")


@dataclass
class Sample:
    """One example inventory, read once: its YAML documents and every place a payload can go."""

    directory: Path
    docs: dict[str, Any]
    targets: list[tuple[Any, ...]] = field(default_factory=list)  # (file, *path) or ("psk", env name)
    psk_env: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # a failing case names the inventory, not all its data
        return f"Sample({self.directory.name})"


def _leaves(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    elif isinstance(node, (str, int, float, bool)) or node is None:
        yield path


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _sample(directory: Path) -> Sample:
    docs = {}
    for name in FILES:
        p = directory / name
        if p.exists():
            docs[name] = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    s = Sample(directory, docs)
    for name, doc in docs.items():
        s.targets.extend((name, *leaf) for leaf in _leaves(doc, ()))
    hosts = docs.get("hosts.yaml") or {}
    for host, spec in hosts.items():
        platform = (spec or {}).get("platform")
        if platform in pspec.available():
            for opt in pspec.load(platform).raw.get("option_defaults") or {}:
                s.targets.append(("hosts.yaml", host, "data", platform, opt))
            s.targets.append(("hosts.yaml", host, "data", "wan_interface"))
    for i, _ in enumerate((docs.get("tunnels.yaml") or {}).get("tunnels") or []):
        for side in ("local", "remote"):
            s.targets.append(("tunnels.yaml", "tunnels", i, "identities", side))
    for leaf in _leaves(docs.get("tunnels.yaml") or {}, ()):
        if len(leaf) >= 2 and leaf[-2:-1] == ("psk",) and leaf[-1] == "env":
            env = _get(docs["tunnels.yaml"], leaf)
            if isinstance(env, str) and env not in s.psk_env:
                s.psk_env[env] = f"{PSK_BASE}{len(s.psk_env):03d}x"
                s.targets.append(("psk", env))
    s.targets = list(dict.fromkeys(s.targets))
    return s


SAMPLES = [_sample(d) for d in INVENTORIES]


def _lab_secrets(tmp: Path, sample: Sample) -> dict[str, str]:
    """The lab's tunnels read their keys from ${TUNNELSMITH_LAB_DIR}/secrets.yaml: write one."""
    names = [t["name"] for t in (sample.docs.get("tunnels.yaml") or {}).get("tunnels") or []]
    values = {n: f"{PSK_BASE}{i:03d}L" for i, n in enumerate(names)}
    f = tmp / "secrets.yaml"
    f.write_text(yaml.safe_dump(values), encoding="utf-8")
    os.chmod(f, 0o600)
    return values


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = doc
    for key in path[:-1]:
        if isinstance(node, dict):
            nxt = node.get(key)
            if not isinstance(nxt, (dict, list)):
                nxt = node[key] = {}
            node = nxt
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            if not isinstance(node[key], (dict, list)):
                node[key] = {}
            node = node[key]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) or (isinstance(node, list) and isinstance(last, int) and last < len(node)):
        node[last] = value


@st.composite
def payloads(draw: st.DrawFn) -> tuple[Any, str | None]:
    """(value, command it tries to inject or None)."""
    cmd = draw(st.sampled_from(COMMANDS))
    base = draw(st.sampled_from(("peer.example", "trust", "ge-0/0/0.0", "10.0.0.1", "tun1", "")))
    kind = draw(st.integers(0, 9))
    if kind <= 2:
        sep = draw(st.sampled_from(SEPARATORS))
        return draw(st.sampled_from((f"{base}{sep}{cmd}", f"{base}{sep}{cmd}{sep}", f"{sep}{cmd}"))), cmd
    if kind == 3:
        c = draw(st.sampled_from(SPECIALS))
        return draw(st.sampled_from((f"{base}{c}", f"{base}{c} {cmd}", f"{base} {cmd}", f'"{base}'))), None
    if kind == 4:
        return (base or "a") * draw(st.sampled_from((64, 300, 70000))), None
    if kind == 5:
        ch = draw(st.sampled_from(INVISIBLE))
        return draw(st.sampled_from((f"{base}{ch}", f"{ch}{base}", f"{base}{ch}{cmd}"))), None
    if kind == 6:
        return draw(st.sampled_from(("%any", "%any4", "*", "*.example.com", "*@example.com", "@#00ff"))), None
    if kind == 7:
        return draw(st.sampled_from(({"a": 1}, [base, cmd], [], {}, None, True, False, 0, -1, 2**40, 3.5,
                                     "0123456701234567", "yes", "~", "null"))), None
    if kind == 8:
        return f"{base}\u2028{cmd}", cmd
    return draw(st.text(max_size=40)), None


def _lines(text: str) -> set[str]:
    return {ln.strip() for ln in text.split("\n")} | {ln.strip() for ln in text.splitlines()}


def _check_outputs(texts: list[str], psks: list[str], cmd: str | None) -> None:
    for text in texts:
        for psk in psks:
            assert psk not in text, "a pre-shared key reached an output"
            assert secretmod.cisco_type7(psk, 7) not in text
        if cmd is not None:
            assert cmd not in _lines(text), f"the payload command {cmd!r} became a line of its own"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


_WRITTEN: dict[Path, dict[str, bool]] = {}  # per case directory: which files hold the unmodified document


def _run_case(workdir: Path, sample: Sample, target: tuple[Any, ...], value: Any, cmd: str | None) -> None:
    d = workdir / sample.directory.name
    d.mkdir(exist_ok=True)
    lab = d / "lab-state"
    lab.mkdir(exist_ok=True)
    env = dict(sample.psk_env)
    file_psks = _lab_secrets(lab, sample) if sample.directory.name == "lab" else {}
    psks = [*env.values(), *file_psks.values()]
    docs = copy.deepcopy(sample.docs)
    if target[0] == "psk":
        if isinstance(value, str):
            env[target[1]] = value.replace("\x00", "") or "x"  # no environment variable can hold NUL
            psks.remove(sample.psk_env[target[1]])
    else:
        _set(docs[target[0]], target[1:], value)
    written = _WRITTEN.setdefault(d, {})
    for name in FILES:
        p = d / name
        if name in docs:
            if target[0] == name or written.get(name) is not True:
                p.write_text(yaml.dump(docs[name], Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                                       allow_unicode=True), encoding="utf-8")
            written[name] = target[0] != name  # True: the file holds the sample's own document
        elif p.exists():
            p.unlink()
    with _environ({**env, "TUNNELSMITH_LAB_DIR": str(lab)}):
        secretmod.clear_cache()
        problems = validate.check(d)
        messages = [str(p) for p in problems]
        for m in messages:
            assert not BREAK_RE.search(m), f"a problem message holds a line break: {m!r}"
        _check_outputs(messages, psks, None)
        if problems:
            return
        inv = inventory.load(d)
        texts = []
        try:
            for dev in inv.devices:
                rendered = render.render_device(inv, dev)
                texts.append(rendered.text(masked=True))
                for path in rendered.files:
                    lines = rendered.lines(path)
                    assert cmd is None or cmd not in {ln.strip() for ln in lines}
            for cloud in inv.clouds:
                if inv.tunnels_of_cloud(cloud):
                    texts.append(secretmod.mask(console.render_console(inv, cloud)))
        except InventoryError as exc:  # the render guard: a located error is an acceptable end
            texts.extend(str(p) for p in exc.problems)
        _check_outputs(texts, psks, cmd)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for one case and put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@st.composite
def cases(draw: st.DrawFn) -> tuple[Sample, tuple[Any, ...], Any, str | None]:
    sample = SAMPLES[draw(st.integers(0, len(SAMPLES) - 1))]
    target = sample.targets[draw(st.integers(0, len(sample.targets) - 1))]  # sampled_from re-labels big lists
    value, cmd = draw(payloads())
    return sample, target, value, cmd


def test_every_sample_has_targets() -> None:
    """The fuzzer reaches every example inventory and, in each, identities, options and PSKs."""
    assert len(SAMPLES) >= 10
    for s in SAMPLES:
        kinds = {t[-1] for t in s.targets}
        assert {"local", "remote"} <= kinds, s.directory
        assert any(t[0] == "psk" for t in s.targets) or s.directory.name == "lab", s.directory


@seed(7)
@settings(max_examples=CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=cases())
def test_hostile_values_end_in_a_located_error_or_a_safe_config(workdir: Path,
                                                                  case: tuple[Sample, tuple[Any, ...], Any, str | None]
                                                                  ) -> None:
    sample, target, value, cmd = case
    _run_case(workdir, sample, target, value, cmd)


def test_output_check_catches_an_injected_line_and_a_key() -> None:
    """The fuzz assertions can fail: a line-separated command and a key in output are both caught."""
    with pytest.raises(AssertionError):
        _check_outputs(["crypto map m 10\u2028reload fuzzcmd"], [], "reload fuzzcmd")
    with pytest.raises(AssertionError):
        _check_outputs(["key 7 " + secretmod.cisco_type7(PSK_BASE + "000x", 7)], [PSK_BASE + "000x"], None)
    _check_outputs(["crypto map m 10 reload fuzzcmd"], [PSK_BASE], "reload fuzzcmd")  # not its own line


CLI_CASES = max(1, CASES // 20)


@seed(8)
@settings(max_examples=CLI_CASES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=cases())
def test_cli_validate_and_render_exit_0_or_2_with_masked_located_output(
        workdir: Path, capsys: pytest.CaptureFixture[str], case: tuple[Sample, tuple[Any, ...], Any, str | None]
        ) -> None:
    """Through `tunnelsmith validate` and `render` (in-process): exit 0 or 2, no traceback, no key."""
    from tunnelsmith import cli

    sample, target, value, cmd = case
    _run_case(workdir, sample, target, value, cmd)  # writes the case's files; asserts as above
    d = workdir / sample.directory.name
    env = dict(sample.psk_env)
    if target[0] == "psk" and isinstance(value, str):
        env[target[1]] = value.replace("\x00", "") or "x"
    with _environ({**env, "TUNNELSMITH_LAB_DIR": str(d / "lab-state")}):
        for argv in (["validate", "-i", str(d)], ["render", "-i", str(d)]):
            secretmod.clear_cache()
            code = cli.main(argv)
            out = capsys.readouterr()
            assert code in (0, 2), (argv, code, out.err[-500:])
            assert "Traceback" not in out.out + out.err
            psks = [v for k, v in sample.psk_env.items() if not (target[0] == "psk" and target[1] == k)]
            _check_outputs([out.out, out.err], psks, cmd)
            if code == 2:
                assert out.err.strip(), "exit 2 without saying why"
                break
