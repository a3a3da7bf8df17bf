"""The Hillstone StoneOS twin, offline: grammar, interpretation, show/ping/log output.

Rendered device configs (inventory/examples and a synthetic matrix built the way
tests/conformance/conftest.py builds inventories) must pass the twin's grammar, and the twin's own
reading of them (twin/interpret.py, written from the StoneOS CLI manual) must give back the intent.
Show templates are rendered from hand-built SA state and read back with the platform's parser.
"""

import importlib.util
import re
import secrets as pysecrets
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml

from tunnelsmith import inventory, render, views
from tunnelsmith.platforms import registry
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.spec import UnsupportedAlgorithm
from tunnelsmith.twin.grammar import Grammar
from tunnelsmith.twin.grammar import load as load_grammar
from tunnelsmith.twin.model import ChildState, IkeState, PingReport, Proposal, TunnelState, TwinTunnel

REPO = Path(__file__).resolve().parents[2]
PLATFORM = "hillstone_stoneos"
PDIR = REPO / "templates/platforms" / PLATFORM
TWIN = PDIR / "twin"
EXAMPLES = REPO / "inventory/examples"
WAN = "ethernet0/1"


def _interpret_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hillstone_twin_interpret", TWIN / "interpret.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


INTERPRET = _interpret_module().interpret
GRAMMAR: Grammar = load_grammar(TWIN / "grammar.yaml")
TWIN_DATA: dict[str, Any] = yaml.safe_load((TWIN / "twin.yaml").read_text())


# --- building inventories (as tests/conformance/conftest.py does) -------------------------------
IKE1 = {"version": 1, "mode": "main", "encryption": "aes-128", "integrity": "sha1", "dh_group": 14, "lifetime": 86400}
IKE2 = {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800}
DPD_ON = {"enabled": True, "interval": 10, "retries": 3}
ROUTING = {
    "policy": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"},
                                               {"local": "198.18.17.0/24", "remote": "198.19.17.0/24"}]},
    "static": {"mode": "static", "inside": {"local": "169.254.10.2/30", "remote": "169.254.10.1"},
               "routes": ["198.19.16.0/24", "198.19.17.0/24"]},
    "bgp": {"mode": "bgp", "inside": {"local": "169.254.20.2/30", "remote": "169.254.20.1"},
            "bgp": {"local_asn": 65010, "remote_asn": 64512}},
}
# platform options / intent details that change the rendered lines
OPTIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "options": {"tunnel_base": 11, "zone": "ctyun", "lan_zone": "lan", "wan_zone": "wan", "vrouter": "trust-vr",
                "rule_id_base": 200},
}


def matrix() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, tunnel, options) for {policy, static, bgp} x {IKEv1, IKEv2} x {PFS on, off} x options."""
    cases = []
    for routing in ROUTING:
        for ver, ike in (("ikev1", IKE1), ("ikev2", IKE2)):
            for pfs in (14, None):
                for oname, opts in OPTIONS.items():
                    t = {"name": "t1", "ike": ike,
                         "ipsec": {"encryption": ike["encryption"], "integrity": ike["integrity"], "pfs_group": pfs,
                                   "lifetime": 3600, "dpd": DPD_ON if pfs else {"enabled": False}},
                         "routing": ROUTING[routing]}
                    cases.append((f"{routing}-{ver}-{'pfs' if pfs else 'nopfs'}-{oname}", t, opts))
    # branches the matrix above does not reach: aggressive mode, FQDN identities, AES-GCM ESP,
    # passive initiation (no auto-connect), DPD with other timers
    cases.append(("policy-ikev1-aggressive-fqdn-gcm", {
        "name": "t1", "ike": {**IKE1, "mode": "aggressive"}, "initiation": "trap",
        "identities": {"local": "branch.example.com", "remote": "cloud.example.com"},
        "ipsec": {"encryption": "aes-256-gcm", "pfs_group": 19, "lifetime": 7200,
                  "dpd": {"enabled": True, "interval": 5, "retries": 4}},
        "routing": ROUTING["policy"]}, {}))
    return cases


def build(root: Path, tunnels: list[dict[str, Any]], options: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> tuple[inventory.Inventory, dict[str, str]]:
    hosts = {
        "cloud1": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10", "203.0.113.11"],
                            "vpc_subnets": ["198.19.16.0/24", "198.19.17.0/24"], "bgp_asn": 64512}},
        "dev1": {"hostname": "198.18.0.2", "platform": PLATFORM, "username": "admin",
                 "data": {"role": "device", "wan_interface": WAN, "public_ip": "198.51.100.10",
                          "lan_subnets": ["198.18.16.0/24", "198.18.17.0/24"], "bgp_asn": 65010,
                          **({PLATFORM: options} if options else {})}},
    }
    psks: dict[str, str] = {}
    out = []
    for t in tunnels:
        t = {"cloud": "cloud1", "device": "dev1", **t}
        env = "TS_TWIN_HS_PSK_" + re.sub(r"\W", "_", t["name"]).upper()
        psks[t["name"]] = "Ts" + pysecrets.token_hex(12)
        monkeypatch.setenv(env, psks[t["name"]])
        out.append({**t, "psk": {"env": env}})
    root.mkdir(parents=True, exist_ok=True)
    (root / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    (root / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": out}, sort_keys=False))
    return inventory.load(root), psks


def base_config(wan: str = WAN, wan_addr: str = "198.51.100.10/24") -> list[str]:
    """The twin's fresh device (base.j2) for one WAN interface."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TWIN)), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    text = env.get_template("base.j2").render(
        hostname="SG-6000", username="admin", wan={"interface": wan, "address": wan_addr},
        mgmt={"interface": TWIN_DATA["interfaces"]["mgmt"], "address": "198.18.0.2/24"},
        lan=[{"interface": TWIN_DATA["interfaces"]["lan"][0], "address": "198.18.16.1/24"}])
    return [ln for ln in text.splitlines() if ln.strip()]


def rejected(lines: list[str]) -> list[tuple[str, str]]:
    """(mode, line) for every line the grammar refuses; a line's mode is its parent line's."""
    stack: list[tuple[int, str | None]] = []
    bad = []
    for raw in lines:
        if not raw.strip():
            continue
        ind = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= ind:
            stack.pop()
        mode = (stack[-1][1] if stack else "top") or "?"
        rule = GRAMMAR.match(mode, raw)
        if rule is None:
            bad.append((mode, raw.strip()))
        stack.append((ind, rule.enter if rule else None))
    return bad


def rendered_lines(inv: inventory.Inventory, device: str) -> list[str]:
    return render.render_device(inv, device).lines()


# --- the expected reading, from the intent ----------------------------------------------------
def expected(inv: inventory.Inventory, device: str, psks: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = {}
    for e in views.device_ends(inv, device):
        pfs = e.ipsec.pfs_group
        esp_integ = None if e.ipsec.encryption.endswith("-gcm") else e.ipsec.integrity
        exp: dict[str, Any] = {
            "ike_version": e.ike.version, "remote_addr": str(e.remote_ip), "local_addr": str(e.local_ip),
            "psk": psks[e.name], "aggressive": e.ike.version == 1 and e.ike.mode == "aggressive",
            "ike": [Proposal(e.ike.encryption, e.ike.integrity, e.ike.dh_group)],
            "esp": [Proposal(e.ipsec.encryption, esp_integ, pfs)],
            "ike_lifetime": e.ike.lifetime, "esp_lifetime": e.ipsec.lifetime,
            "dpd_interval": e.ipsec.dpd.interval if e.ipsec.dpd.enabled else None,
            "dpd_retries": e.ipsec.dpd.retries if e.ipsec.dpd.enabled else None,
            "local_id": None if e.local_id == str(e.local_ip) else e.local_id,
            "remote_id": None if e.remote_id == str(e.remote_ip) else e.remote_id,
            "route_based": bool(e.routing.route_based),
        }
        if e.routing.route_based:
            exp["inside_local"] = str(e.inside_local)
            exp["routes"] = [str(r) for r in e.routes]
        else:
            exp["selectors"] = [(str(s.local), str(s.remote)) for s in e.selectors]
        out[e.name] = exp
    return out


def check_reading(tunnels: list[TwinTunnel], exp: dict[str, dict[str, Any]]) -> None:
    got = {t.name: t for t in tunnels}
    assert set(got) == set(exp)
    for name, want in exp.items():
        t = got[name]
        for key, value in want.items():
            assert getattr(t, key) == value, f"{name}.{key}: {getattr(t, key)!r} != {value!r}"


# --- grammar and interpretation of rendered configs -------------------------------------------
def example_devices() -> list[tuple[Path, str]]:
    out = []
    for d in sorted(EXAMPLES.iterdir()):
        hosts = d / "hosts.yaml"
        if hosts.exists():
            for name, h in (yaml.safe_load(hosts.read_text()) or {}).items():
                if isinstance(h, dict) and h.get("platform") == PLATFORM:
                    out.append((d, name))
    return out


@pytest.fixture
def example_psks(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("STRONGSWAN", "JUNIPER", "CISCO", "HILLSTONE", "H3C"):
        monkeypatch.setenv(f"TS_GUIDE_PSK_{var}", f"Guide{var.lower()}Key1")


def test_examples_exist() -> None:
    assert example_devices(), "no inventory under inventory/examples has a hillstone_stoneos device"


@pytest.mark.parametrize(("directory", "device"), example_devices(), ids=lambda v: getattr(v, "name", v))
def test_examples_pass_grammar_and_read_back(directory: Path, device: str, example_psks: None) -> None:
    inv = inventory.load(directory)
    ends = views.device_ends(inv, device)
    lines = rendered_lines(inv, device)
    wan = inv.devices[device].wan_interface
    local = str(ends[0].local_ip)
    config = base_config(wan, f"{local}/24") + lines
    assert rejected(config) == []
    psks = {e.name: render.resolve_psks(inv, [e])[e.name] for e in ends}
    reading = INTERPRET(config)
    check_reading(reading.tunnels, expected(inv, device, psks))
    assert reading.notes == []


@pytest.mark.parametrize(("case", "tunnel", "options"), matrix(), ids=[c[0] for c in matrix()])
def test_matrix_passes_grammar_and_reads_back(case: str, tunnel: dict[str, Any], options: dict[str, Any],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv, psks = build(tmp_path / case, [tunnel], options, monkeypatch)
    try:
        lines = rendered_lines(inv, "dev1")
    except UnsupportedAlgorithm as exc:  # validation refuses it before any push: nothing to emulate
        pytest.skip(str(exc))
    config = base_config() + lines
    assert rejected(config) == []
    reading = INTERPRET(config)
    check_reading(reading.tunnels, expected(inv, "dev1", psks))
    assert reading.notes == []
    if tunnel["routing"]["mode"] != "policy":
        t = reading.tunnels[0]
        assert t.interface == f"tunnel{options.get('tunnel_base', 1)}"
        assert t.inside_remote == tunnel["routing"]["inside"]["remote"]


def test_two_tunnels_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tunnels = [
        {"name": "ta", "ike": IKE1, "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14,
                                             "lifetime": 3600, "dpd": DPD_ON}, "routing": ROUTING["policy"]},
        {"name": "tb", "cloud_ip": "203.0.113.11", "ike": IKE2,
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": None, "lifetime": 3600,
                   "dpd": DPD_ON}, "routing": ROUTING["static"]},
    ]
    inv, psks = build(tmp_path / "two", tunnels, {}, monkeypatch)
    config = base_config() + rendered_lines(inv, "dev1")
    assert rejected(config) == []
    check_reading(INTERPRET(config).tunnels, expected(inv, "dev1", psks))


def test_base_config_passes_grammar_and_lists_interfaces() -> None:
    config = base_config()
    assert rejected(config) == []
    reading = INTERPRET(config)
    assert reading.hostname == "SG-6000"
    assert reading.interfaces == {"ethernet0/0": ["198.18.0.2/24"], WAN: ["198.51.100.10/24"],
                                  "ethernet0/2": ["198.18.16.1/24"]}
    assert reading.tunnels == [] and reading.notes == []
    assert re.match(TWIN_DATA["hostname_from"], 'hostname "SG-6000"').group(1) == "SG-6000"


# --- unbound configurations -------------------------------------------------------------------
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, routing: str) -> list[str]:
    t = {"name": "t1", "ike": IKE2, "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14,
                                             "lifetime": 3600, "dpd": DPD_ON}, "routing": ROUTING[routing]}
    inv, _ = build(tmp_path / routing, [t], {}, monkeypatch)
    return base_config() + rendered_lines(inv, "dev1")


def _drop_block(lines: list[str], head: str) -> list[str]:
    out, skipping = [], False
    for ln in lines:
        if ln == head:
            skipping = True
            continue
        if skipping:
            if ln == "exit":
                skipping = False
            continue
        out.append(ln)
    return out


def test_route_based_without_binding_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = [ln for ln in _config(tmp_path, monkeypatch, "static") if ln.strip() != 'tunnel ipsec "t1"']
    reading = INTERPRET(config)
    assert reading.tunnels == []
    assert len(reading.notes) == 1 and "t1" in reading.notes[0] and "neither bound" in reading.notes[0]


def test_policy_based_without_rule_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _drop_block(_config(tmp_path, monkeypatch, "policy"), "rule id 1000")
    reading = INTERPRET(config)
    assert reading.tunnels == [] and len(reading.notes) == 1 and "t1" in reading.notes[0]


def test_disabled_rule_and_tunnel_do_not_bind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, monkeypatch, "policy")
    i = config.index("rule id 1000")
    disabled = [*config[: i + 1], "  disable", *config[i + 1:]]
    assert rejected(disabled) == []
    assert INTERPRET(disabled).tunnels == []
    j = config.index('tunnel ipsec "t1" auto')
    off = [*config[: j + 1], "  disable", *config[j + 1:]]
    reading = INTERPRET(off)
    assert reading.tunnels == [] and "disabled" in reading.notes[0]


def test_gateway_without_interface_or_proposal_is_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, monkeypatch, "static")
    no_if = [ln for ln in config if ln.strip() != f"interface {WAN}" or not ln.startswith("  ")]
    reading = INTERPRET(no_if)
    assert reading.tunnels == [] and "interface" in reading.notes[0]
    no_p2 = _drop_block(config, 'ipsec proposal "t1"')
    reading = INTERPRET(no_p2)
    assert reading.tunnels == [] and "P2 proposal" in reading.notes[0]


def test_defaults_apply_when_lines_are_absent() -> None:
    """The running config omits defaults: hash sha, encryption 3des, group 2, lifetime 86400/28800, main mode."""
    config = [
        *base_config(),
        'isakmp proposal "p1"', "exit",
        'ipsec proposal "p2"', "exit",
        'isakmp peer "gw"', f"  interface {WAN}", '  isakmp-proposal "p1"', '  pre-share "abcdefgh"',
        "  peer 203.0.113.10", "  dpd", "exit",
        'tunnel ipsec "vpn" auto', '  isakmp-peer "gw"', '  ipsec-proposal "p2"',
        "  id local 198.18.16.0/24 remote 198.19.16.0/24 service any", "exit",
        "rule id 7", '  action tunnel "vpn"', "exit",
    ]
    assert rejected(config) == []
    (t,) = INTERPRET(config).tunnels
    assert t.ike == [Proposal("3des", "sha1", 2)] and t.esp == [Proposal("3des", "sha1", None)]
    assert (t.ike_version, t.aggressive, t.ike_lifetime, t.esp_lifetime) == (1, False, 86400, 28800)
    assert (t.dpd_interval, t.dpd_retries) == (10, 3)
    assert t.selectors == [("198.18.16.0/24", "198.19.16.0/24")]


# --- typos the device refuses -----------------------------------------------------------------
TYPOS = [
    ("isakmp_proposal", "hash sha1"),                # StoneOS spells SHA-1 `sha`
    ("isakmp_proposal", "encryption aes-128"),       # AES-128 is `aes`
    ("isakmp_proposal", "encrypton aes"),            # misspelt keyword
    ("isakmp_proposal", "group 17"),                 # not a StoneOS DH group
    ("isakmp_proposal", "lifetime 100"),             # P1 lifetime is 300-86400
    ("ipsec_proposal", "group pfs"),                 # nopfs or a group number
    ("ipsec_proposal", "encryption aes-gcm-192"),    # the twin cannot negotiate it
    ("isakmp_peer", "dpd interval 20 retry 3"),      # interval is 1-10
    ("isakmp_peer", "protocol-standard ikev3"),
    ("isakmp_peer", "pre-share"),                    # missing argument
    ("isakmp_peer", "peer 203.0.113.300"),
    ("tunnel_auto", "id local 198.18.16.0/24 remote 198.19.16.0/24"),   # service is required
    ("tunnel_auto", "isakmp-peer"),
    ("interface", "ip address 169.254.10.2 255.255.255.253"),          # not a netmask
    ("rule", "action tunel \"t1\""),
    ("vrouter", "ip route 198.19.16.0/33 tunnel1"),
    ("top", "tunnel ipsec \"t1\" automatic"),
    ("top", "tcp-mss tunnel 10"),
]


@pytest.mark.parametrize(("mode", "line"), TYPOS)
def test_grammar_rejects_typos(mode: str, line: str) -> None:
    assert not GRAMMAR.accepts(mode, line)


def test_grammar_accepts_rollback_negations() -> None:
    """platform.yaml config.rollback.negate turns lines into `no ...`; StoneOS accepts these."""
    for mode, line in [("top", 'no tunnel ipsec "t1" auto'), ("top", "no rule id 1000"),
                       ("top", 'no isakmp proposal "t1"'), ("top", 'no isakmp peer "t1"'),
                       ("top", "no interface tunnel1"), ("top", "no tcp-mss tunnel"),
                       ("isakmp_proposal", "no hash"), ("isakmp_proposal", "no lifetime"),
                       ("ipsec_proposal", "no group"), ("isakmp_peer", "no pre-share"),
                       ("isakmp_peer", "no dpd"), ("tunnel_auto", "no ipsec-proposal"),
                       ("interface", "no ip address"), ("interface", "no tunnel ipsec"),
                       ("vrouter", "no ip route 198.19.16.0/24 tunnel1"), ("vrouter", "no router bgp 65010"),
                       ("bgp", "no neighbor 169.254.20.1 remote-as")]:
        assert GRAMMAR.accepts(mode, line), (mode, line)


# --- show output read back with the platform's parser -----------------------------------------
def _tunnel(name: str, version: int, remote: str, routed: bool) -> TwinTunnel:
    return TwinTunnel(name=name, ike_version=version, local_addr="198.51.100.10", remote_addr=remote, psk="x" * 8,
                      ike=[Proposal("aes-256", "sha256", 14)], esp=[Proposal("aes-256", "sha256", 14)],
                      route_based=routed, interface="tunnel1" if routed else None,
                      inside_local="169.254.10.2/30" if routed else None)


def _ike(name: str, version: int, remote: str, state: str = "ESTABLISHED") -> IkeState:
    return IkeState(name=name, unique_id=1, version=version, state=state, local_host="198.51.100.10",
                    local_port=500, remote_host=remote, remote_port=500, local_id="198.51.100.10",
                    remote_id=remote, initiator=True, spi_i="0123456789abcdef",
                    spi_r="fedcba9876543210" if state == "ESTABLISHED" else "0000000000000000",
                    encryption="aes-256", integrity="sha256", dh=14, established_s=100, rekey_s=28000)


def _child(name: str, n: int, local: str, remote: str) -> ChildState:
    return ChildState(name=name, unique_id=n, reqid=n, state="INSTALLED", mode="TUNNEL", protocol="ESP", encap=False,
                      spi_in=f"c{n:07x}", spi_out=f"d{n:07x}", encryption="aes-256", integrity="sha256", dh=14,
                      bytes_in=1000 * n, packets_in=10 * n, bytes_out=2000 * n, packets_out=20 * n, install_s=60,
                      rekey_s=3000, life_s=3540, local_ts=[local], remote_ts=[remote])


def fixtures() -> list[TunnelState]:
    return [
        TunnelState(_tunnel("v1one", 1, "203.0.113.10", False), _ike("v1one", 1, "203.0.113.10"),
                    [_child("v1one", 1, "198.18.16.0/24", "198.19.16.0/24")]),
        TunnelState(_tunnel("v2two", 2, "203.0.113.11", True), _ike("v2two", 2, "203.0.113.11"),
                    [_child("v2two", 2, "169.254.10.2/32", "169.254.10.1/32"),
                     _child("v2two", 3, "198.18.16.0/24", "198.19.32.0/24")]),
        TunnelState(_tunnel("conn", 2, "203.0.113.20", True), _ike("conn", 2, "203.0.113.20", "CONNECTING"), []),
        TunnelState(_tunnel("down", 1, "203.0.113.21", False), None, []),
    ]


def _spell(table: str, neutral: Any) -> str:
    tables = TWIN_DATA["algorithms"]
    return next(k for k, v in tables[table].items() if v == neutral)


def show(template: str, tunnels: list[TunnelState], **args: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TWIN)), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template(template).render(hostname="SG-6000", tunnels=tunnels, interpretation=None,
                                             now=datetime(2025, 5, 6, 9, 14, 0), args=args, spell=_spell)


def _show_entry(command: str) -> tuple[str, dict[str, str]]:
    for entry in TWIN_DATA["show"]:
        m = re.match(entry["match"], command)
        if m:
            return entry["template"], {k: v for k, v in m.groupdict().items() if v}
    raise AssertionError(f"no twin show entry for {command!r}")


def test_every_status_command_has_a_show_template() -> None:
    driver = registry.driver(PLATFORM, {})
    for command in driver.status_commands().values():
        template, _ = _show_entry(command)
        assert (TWIN / template).exists()


def test_ipsec_sa_reads_back_with_the_platform_parser() -> None:
    driver = registry.driver(PLATFORM, {})
    template, args = _show_entry(driver.status_commands()["ipsec_sa"])
    text = show(template, fixtures(), **args)
    status = driver.device_status({"ipsec_sa": text})
    assert [c.ike_name or c.name for c in status.children] == ["v1one", "v2two", "v2two"]
    assert all(c.up for c in status.children)  # "Status: Active", through the parser's state_map if any
    # what the parser does not read must still be printed from the SA state
    for spi in ("0xc0000001", "0xd0000001", "0xc0000003", "0xd0000003"):
        assert spi in text
    assert "Bytes: 6000" in text and "Bytes: 3000" in text
    assert "Local subnet: 198.18.16.0/24" in text and "Remote subnet: 198.19.32.0/24" in text
    assert "VPN Name: conn" not in text and "VPN Name: down" not in text  # no CHILD SA, no block


def test_ipsec_sa_parser_reads_gateways() -> None:
    from tunnelsmith.parsing import parse_textfsm

    rows = parse_textfsm(PDIR / "textfsm/hillstone_stoneos_show_ipsec_sa.textfsm", show("show/ipsec_sa.j2", fixtures()))
    assert [(r["name"], r["remote_host"]) for r in rows] == [
        ("v1one", "203.0.113.10"), ("v2two", "203.0.113.11"), ("v2two", "203.0.113.11")]


def test_ipsec_sa_arguments_filter() -> None:
    template, args = _show_entry("show ipsec sa v1")
    assert args == {"version": "v1"}
    v1 = show(template, fixtures(), **args)
    assert "v1one" in v1 and "v2two" not in v1
    only = show("show/ipsec_sa.j2", fixtures(), which="2")
    assert only.count("VPN Name:") == 1 and "ID: 2" in only
    assert show("show/ipsec_sa.j2", fixtures()[2:]).strip() == ""


def test_isakmp_sa_lists_established_and_negotiating() -> None:
    template, args = _show_entry("show isakmp sa")
    text = show(template, fixtures(), **args)
    assert "Total number of SA: 3" in text
    rows = {ln.split()[1]: ln for ln in text.splitlines() if re.match(r"^[0-9a-f]{16}:", ln)}
    assert set(rows) == {"203.0.113.10", "203.0.113.11", "203.0.113.20"}
    assert rows["203.0.113.10"].split()[0] == "0123456789abcdef:fedcba9876543210"
    assert rows["203.0.113.10"].rstrip().endswith("Established") and "aes-256/sha256/g14" in rows["203.0.113.10"]
    assert rows["203.0.113.20"].rstrip().endswith("Negotiating") and ":0000000000000000" in rows["203.0.113.20"]
    assert "203.0.113.21" not in text
    template, args = _show_entry("show isakmp sa v1")
    v1 = show(template, fixtures(), **args)
    assert "Total number of SA: 1" in v1
    assert "Total number of SA: 1" in show("show/isakmp_sa.j2", fixtures(), peer="203.0.113.11")


# --- ping -------------------------------------------------------------------------------------
PING_RX = re.compile(r"(?P<sent>\d+) packets sent, (?P<received>\d+) received, (?P<loss>\d+)% packet loss, time \d+ms"
                     r"(?:\s+rtt min/avg/max/mdev = (?P<min>[\d.]+)/(?P<avg>[\d.]+)/(?P<max>[\d.]+)/[\d.]+ ms)?")


def ping_text(report: PingReport) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TWIN)), trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("ping.j2").render(ping=report, hostname="SG-6000")


def test_ping_command_matches_the_platform_command() -> None:
    driver = registry.driver(PLATFORM, {})
    command = driver.ping_command("198.18.16.1", "198.19.16.10", 5)
    m = re.match(TWIN_DATA["ping"]["match"], command)
    assert m and m.group("target") == "198.19.16.10" and m.group("source") == "198.18.16.1"
    assert m.group("count") == "5"


@pytest.mark.parametrize("replies", [
    [{"seq": i, "ttl": 63, "rtt_ms": 1.0 + i / 10} for i in range(1, 6)],
    [{"seq": 1, "ttl": 63, "rtt_ms": 2.0}, {"seq": 4, "ttl": 63, "rtt_ms": 4.0}],
    [],
], ids=["all", "partial", "total-loss"])
def test_ping_output(replies: list[dict[str, float | int]]) -> None:
    report = PingReport(target="198.19.16.10", source="198.18.16.1", count=5, size=56, replies=replies)
    text = ping_text(report)
    driver = registry.driver(PLATFORM, {})
    if driver.spec.section("ping").get("template"):
        got = driver.parse_ping(text, "198.18.16.1", "198.19.16.10")
        assert (got.sent, got.received, got.loss_pct) == (5, len(replies), float(report.loss_pct))
    m = PING_RX.search(text)  # and the numbers as printed
    assert m and (int(m["sent"]), int(m["received"]), int(m["loss"])) == (5, len(replies), report.loss_pct)
    if replies:
        assert float(m["avg"]) == pytest.approx(report.rtt_avg, abs=1e-3)
        assert float(m["min"]) == pytest.approx(report.rtt_min) and float(m["max"]) == pytest.approx(report.rtt_max)
    else:
        assert m["avg"] is None and text.count("Destination Host Not Responding") == 5


def test_ping_layout_matches_the_real_sample() -> None:
    """The twin prints the manual's sample layout (tests/parsers/hillstone_stoneos/ping), numbers aside."""
    real = (REPO / "tests/parsers/hillstone_stoneos/ping/cli_guide_ping.raw").read_text().splitlines()[1:]
    rtts = [2.53, 1.48, 1.48, 1.47, 1.46]
    report = PingReport(target="10.200.3.1", source=None, count=5, size=56,
                        replies=[{"seq": i, "ttl": 128, "rtt_ms": v} for i, v in enumerate(rtts, 1)])
    ours = ping_text(report).splitlines()
    assert ours[:7] == real[:7]  # header and the per-reply rows are the sample's, digit for digit

    def shape(lines: list[str]) -> list[str]:
        return [re.sub(r"\d+(?:\.\d+)?", "N", ln) for ln in lines]
    assert shape(ours) == shape(real)
    assert driver_parse(ping_text(report)) == (5, 5, 0.0)


def driver_parse(text: str) -> tuple[int, int, float]:
    got = registry.driver(PLATFORM, {}).parse_ping(text, "198.18.16.1", "10.200.3.1")
    return got.sent, got.received, got.loss_pct


def test_ping_error() -> None:
    report = PingReport(target="198.19.16.10", source="198.18.99.1", count=5, size=56, replies=[],
                        error="source address 198.18.99.1 is not configured")
    assert ping_text(report).strip().startswith("Error: source address")


# --- log lines and diagnosis ------------------------------------------------------------------
CHARON = [
    ("received AUTHENTICATION_FAILED notify error", "psk_mismatch"),
    ("tried 1 shared key for 'x' - 'y', but MAC mismatched", "psk_mismatch"),
    ("invalid HASH_V1 payload length, decryption failed?", "psk_mismatch"),
    ("received NO_PROPOSAL_CHOSEN notify error", "proposal_mismatch"),
    ("no acceptable proposal found", "proposal_mismatch"),
    ("received TS_UNACCEPTABLE notify, no CHILD_SA built", "selector_mismatch"),
    ("received INVALID_ID_INFORMATION error notify", "selector_mismatch"),
    ("giving up after 3 retransmits", "peer_unreachable"),
    ("IKE_SA t1[1] established between 198.51.100.10[198.51.100.10]...203.0.113.10[203.0.113.10]", None),
    ("CHILD_SA t1{1} established with SPIs c1234567_i d7654321_o and TS 198.18.16.0/24 === 198.19.16.0/24", None),
    ("retransmit 1 of request with message ID 0", None),
    ("sending retransmit 1 of request message ID 0, seq 1", None),
]


def log_line(charon: str) -> str:
    for ev in TWIN_DATA["log"]["events"]:
        m = re.search(ev["charon"], charon)
        if m:
            return ev["line"].format(time=datetime(2025, 5, 6, 9, 14).strftime(TWIN_DATA["log"]["timestamp"]),
                                     peer="203.0.113.10", local="198.51.100.10", name="t1", **m.groupdict())
    raise AssertionError(f"no log event for {charon!r}")


@pytest.mark.parametrize(("charon", "cls"), CHARON)
def test_log_events_classify(charon: str, cls: str | None) -> None:
    line = log_line(charon)
    assert "203.0.113.10" in line and "IKE" in line  # `| include IKE` keeps it
    patterns = pspec.load(PLATFORM).section("diagnosis").get("patterns") or []
    hit = next((p["class"] for p in patterns if re.search(p["regex"], line)), None)
    assert hit == cls
    assert re.match(TWIN_DATA["log"]["match"], pspec.load(PLATFORM).section("diagnosis")["log_command"])
    assert pspec.load(PLATFORM).section("diagnosis")["log_command"] == \
        yaml.safe_load((PDIR / "platform.yaml").read_text())["diagnosis"]["log_command"]


def test_session_commands_cover_netmiko() -> None:
    """Netmiko's hillstone_stoneos session_preparation sends `terminal length 0`."""
    assert any(re.match(s["match"], "terminal length 0") and s["reply"] == "" for s in TWIN_DATA["session"])


def test_algorithm_tables_are_neutral() -> None:
    enc = {"des", "3des", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm", "sm4"}
    integ = {"md5", "sha1", "sha256", "sha384", "sha512", "sm3"}
    tables = TWIN_DATA["algorithms"]
    assert set(tables["ike_encryption"].values()) <= enc and set(tables["ipsec_encryption"].values()) <= enc
    assert set(tables["ike_integrity"].values()) <= integ
    for word in tables["ipsec_encryption"]:
        assert GRAMMAR.accepts("ipsec_proposal", f"encryption {word}")
    for word in tables["ike_encryption"]:
        assert GRAMMAR.accepts("isakmp_proposal", f"encryption {word}")
