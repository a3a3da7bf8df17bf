"""The Huawei VRP twin, offline: grammar, interpretation, show/ping/log output.

Device configs rendered by tunnelsmith (inventory/examples and a synthetic matrix built the way
tests/conformance/conftest.py builds inventories) must pass the twin's grammar (written from the AR
command reference), and the twin's own reading of them (twin/interpret.py) must give back the
intent. Show and ping templates are rendered from hand-built state and read back with the
platform's TextFSM parsers; log lines must classify with the platform's diagnosis patterns.
"""

from __future__ import annotations

import importlib.util
import ipaddress
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
from tunnelsmith.twin.grammar import Grammar
from tunnelsmith.twin.grammar import load as load_grammar
from tunnelsmith.twin.model import ChildState, IkeState, PingReport, Proposal, TunnelState, TwinTunnel

REPO = Path(__file__).resolve().parents[2]
PLATFORM = "huawei_vrp"
PDIR = REPO / "templates/platforms" / PLATFORM
TWIN = PDIR / "twin"
EXAMPLES = REPO / "inventory/examples"
WAN = "GigabitEthernet0/0/1"


def _interpret_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("huawei_vrp_twin_interpret", TWIN / "interpret.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


INTERPRET = _interpret_module().interpret
GRAMMAR: Grammar = load_grammar(TWIN / "grammar.yaml")
TWIN_DATA: dict[str, Any] = yaml.safe_load((TWIN / "twin.yaml").read_text())
ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TWIN)), trim_blocks=True, lstrip_blocks=True,
                         undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

# --- inventories (as tests/conformance/conftest.py builds them) ---------------------------------
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
# platform variants / options that change rendered lines
OPTIONS: dict[str, dict[str, Any]] = {
    "v5": {"os_version": "v5"},
    "v8": {"os_version": "v8"},
    "v5-nosha2compat-numbers": {"os_version": "v5", "sha2_compatible": False, "ike_proposal_base": 40,
                                "acl_base": 3500, "tunnel_prefix": "Tunnel0/0/", "tunnel_base": 7,
                                "policy_name": "cloudmap"},
}


def matrix() -> list[tuple[str, list[dict[str, Any]], dict[str, Any], dict[str, Any]]]:
    """(id, tunnels, platform options, device data) over routing x IKE version x PFS x variant."""
    cases = []
    for routing in ROUTING:
        for ver, ike in (("ikev1", IKE1), ("ikev2", IKE2)):
            for pfs in (14, None):
                for oname, opts in OPTIONS.items():
                    t = {"name": "t1", "ike": ike,
                         "ipsec": {"encryption": ike["encryption"], "integrity": ike["integrity"], "pfs_group": pfs,
                                   "lifetime": 3600, "dpd": DPD_ON if pfs else {"enabled": False}},
                         "routing": ROUTING[routing]}
                    cases.append((f"{routing}-{ver}-{'pfs' if pfs else 'nopfs'}-{oname}", [t], opts, {}))
    # branches the matrix does not reach: aggressive mode with FQDN identities, 3DES/SHA-256/DH2,
    # two tunnels (policy + static) on one device
    cases.append(("policy-ikev1-aggressive-fqdn", [{
        "name": "t1", "ike": {**IKE1, "mode": "aggressive"},
        "identities": {"local": "branch.example.com", "remote": "cloud.example.com"},
        "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 19, "lifetime": 7200,
                  "dpd": {"enabled": True, "interval": 20, "retries": 5}},
        "routing": ROUTING["policy"]}], {}, {}))
    cases.append(("policy-ikev1-3des-dh2", [{
        "name": "t1", "ike": {**IKE1, "encryption": "3des", "integrity": "sha256", "dh_group": 2},
        "ipsec": {"encryption": "3des", "integrity": "sha256", "pfs_group": None, "lifetime": 3600,
                  "dpd": {"enabled": False}},
        "routing": ROUTING["policy"]}], {}, {}))
    cases.append(("two-tunnels-policy-static", [
        {"name": "ta", "ike": IKE1, "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14,
                                              "lifetime": 3600, "dpd": DPD_ON}, "routing": ROUTING["policy"]},
        {"name": "tb", "cloud_ip": "203.0.113.11", "ike": IKE2,
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": None, "lifetime": 7200,
                   "dpd": DPD_ON}, "routing": ROUTING["static"]}], {}, {}))
    return cases


# device.j2 renders these for wan_nat: true; see the xfail reason
WAN_NAT_CASE = ("policy-ikev1-wan-nat", [{
    "name": "t1", "ike": IKE1, "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14,
                                         "lifetime": 3600, "dpd": DPD_ON}, "routing": ROUTING["policy"]}],
    {}, {"wan_nat": True})
WAN_NAT_REASON = ("device.j2 renders `nat-policy interzone trust untrust outbound` for wan_nat: that is a USG "
                  "firewall command; AR routers have no nat-policy view (they NAT with `nat outbound <acl>` "
                  "in the interface view, AR V200R010 command reference). Even on USG, the `action`, `policy "
                  "source/destination` and `easy-ip` lines belong in the `policy N` sub-view (indented under "
                  "it), not beside it")


def build(root: Path, tunnels: list[dict[str, Any]], options: dict[str, Any], data: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> tuple[inventory.Inventory, dict[str, str]]:
    hosts = {
        "cloud1": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10", "203.0.113.11"],
                            "vpc_subnets": ["198.19.16.0/24", "198.19.17.0/24"], "bgp_asn": 64512}},
        "dev1": {"hostname": "198.18.0.2", "platform": PLATFORM, "username": "admin",
                 "data": {"role": "device", "wan_interface": WAN, "public_ip": "198.51.100.10",
                          "lan_subnets": ["198.18.16.0/24", "198.18.17.0/24"], "bgp_asn": 65010, **data,
                          **({PLATFORM: options} if options else {})}},
    }
    psks: dict[str, str] = {}
    out = []
    for t in tunnels:
        t = {"cloud": "cloud1", "device": "dev1", **t}
        env = "TS_TWIN_HW_PSK_" + re.sub(r"\W", "_", t["name"]).upper()
        psks[t["name"]] = "Ts" + pysecrets.token_hex(12)
        monkeypatch.setenv(env, psks[t["name"]])
        out.append({**t, "psk": {"env": env}})
    root.mkdir(parents=True, exist_ok=True)
    (root / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    (root / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": out}, sort_keys=False))
    return inventory.load(root), psks


def device_lines(inv: inventory.Inventory, device: str) -> list[str]:
    return [ln for ln in render.render_device(inv, device).files["cli"].splitlines() if ln.strip()]


def base_config(wan: str = WAN, wan_addr: str = "198.51.100.10/24") -> list[str]:
    """The twin's fresh device (base.j2) for one WAN interface."""
    text = ENV.get_template("base.j2").render(
        hostname="AR651", username="admin", wan={"interface": wan, "address": wan_addr},
        mgmt={"interface": TWIN_DATA["interfaces"]["mgmt"], "address": "198.18.0.2/24"},
        lan=[{"interface": n, "address": f"198.18.{16 + i}.1/24"}
             for i, n in enumerate(TWIN_DATA["interfaces"]["lan"])])
    return [ln for ln in text.splitlines() if ln.strip()]


def rejected(lines: list[str]) -> list[tuple[str, str]]:
    """(mode, line) for every line the grammar refuses; a line's mode is the one its parent entered."""
    stack: list[tuple[int, str]] = []
    bad = []
    for raw in lines:
        if not raw.strip():
            continue
        ind = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= ind:
            stack.pop()
        mode = stack[-1][1] if stack else "top"
        rule = GRAMMAR.match(mode, raw)
        if rule is None:
            bad.append((mode, raw))
        stack.append((ind, (rule.enter if rule and rule.enter else "top")))
    return bad


def running(inv: inventory.Inventory, device: str, wan: str = WAN, wan_addr: str = "198.51.100.10/24") -> list[str]:
    """Base config with the rendered lines merged in (blocks appended, WAN interface lines merged)."""
    base = base_config(wan, wan_addr)
    rendered = device_lines(inv, device)
    out = list(base[:-1])  # without "return"
    wan_extra: list[str] = []
    block: list[str] = []
    for ln in [*rendered, "quit"]:
        if not ln.startswith(" ") and block:
            if block[0] == f"interface {wan}":
                wan_extra += block[1:]
            else:
                out += [*block, "#"]
            block = []
        if ln.strip() != "quit" or ln.startswith(" "):
            block.append(ln)
    i = out.index(f"interface {wan}")
    out[i + 2:i + 2] = wan_extra
    return [*out, "return"]


# --- grammar ------------------------------------------------------------------------------------
def example_devices() -> list[tuple[str, str]]:
    out = []
    for d in sorted(EXAMPLES.iterdir()):
        hosts = d / "hosts.yaml"
        if not hosts.exists():
            continue
        for name, h in (yaml.safe_load(hosts.read_text()) or {}).items():
            if isinstance(h, dict) and h.get("platform") == PLATFORM:
                out.append((d.name, name))
    return out


@pytest.mark.parametrize(("example", "device"), example_devices())
def test_grammar_accepts_example_configs(example: str, device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_OTC", "Test@123")
    for k in ("TS_PSK", "TS_SAMPLE_PSK"):
        monkeypatch.setenv(k, "Test@123")
    inv = inventory.load(EXAMPLES / example)
    assert rejected(device_lines(inv, device)) == []


def test_examples_cover_huawei() -> None:
    assert ("otc-huawei_vrp-1", "ar651") in example_devices()


@pytest.mark.parametrize(("case", "tunnels", "options", "data"), [c for c in matrix()], ids=[c[0] for c in matrix()])
def test_grammar_accepts_rendered_matrix(case: str, tunnels: list[dict[str, Any]], options: dict[str, Any],
                                         data: dict[str, Any], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inv, _ = build(tmp_path / case, tunnels, options, data, monkeypatch)
    lines = device_lines(inv, "dev1")
    assert lines
    assert rejected(lines) == []


@pytest.mark.xfail(strict=True, reason=WAN_NAT_REASON)
def test_grammar_accepts_wan_nat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case, tunnels, options, data = WAN_NAT_CASE
    inv, _ = build(tmp_path / case, tunnels, options, data, monkeypatch)
    assert rejected(device_lines(inv, "dev1")) == []


def test_grammar_accepts_base_config() -> None:
    assert rejected(base_config()) == []


def test_grammar_accepts_rollback_negations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rendered line, undone the way platform.yaml's rollback.negate undoes it, is accepted."""
    negate = pspec.load(PLATFORM).section("config")["rollback"]["negate"]
    _, tunnels, _, _ = next(c for c in matrix() if c[0] == "two-tunnels-policy-static")
    inv, _ = build(tmp_path / "neg", tunnels, {}, {}, monkeypatch)
    def undo(line: str) -> str:
        ind = line[: len(line) - len(line.lstrip())]
        n = next(n for n in negate if re.match(n["match"], line.strip()))
        return ind + re.sub(n["match"], n["replace"], line.strip())

    undone = []  # sub-view lines undone inside their (kept) block; whole blocks undone by their head
    heads = []
    for ln in device_lines(inv, "dev1"):
        if ln.strip() == "quit":
            undone.append(ln)
        elif ln.startswith(" "):
            undone.append(undo(ln))
        else:
            undone.append(ln)
            heads.append(undo(ln))
    bad = rejected(undone) + rejected(heads)
    # The IPsec policy / profile views take `undo sa duration { time-based | traffic-based }` (AR
    # reference); platform.yaml's negate rules say so, and every undo must pass.
    assert bad == []
    assert any(u.strip() == "undo pre-shared-key" for u in undone)


@pytest.mark.parametrize(("mode", "line"), [
    ("ike_proposal", "encryption-algorithm aes-129"),          # wrong algorithm word
    ("ike_proposal", "encription-algorithm aes-128"),          # misspelt keyword
    ("ike_proposal", "dh group15"),                            # DH group VRP does not have
    ("ike_proposal", "authentication-algorithm sha256"),       # VRP says sha2-256
    ("ike_proposal", "sa duration 30"),                        # below 60 s
    ("ike_peer", "pre-shared-key cipher"),                     # missing argument
    ("ike_peer", "remote-address"),                            # missing argument
    ("ike_peer", "dpd idle-time 5"),                           # below 10 s
    ("ike_peer", "dpd retry-limit 2"),                         # below 3
    ("ike_peer", "exchange-mode agressive"),                   # misspelt value
    ("ipsec_proposal", "esp encryption-algorithm aes-cbc-128"),  # IKE spelling in the ESP view
    ("ipsec_proposal", "esp authentication-algorithm sha2_256"),
    ("ipsec_policy", "pfs group14"),                           # VRP says dh-group14
    ("ipsec_policy", "security acl 2000"),                     # IPsec needs an advanced ACL
    ("ipsec_profile", "sa duration time-based"),               # missing argument
    ("tunnel_if", "tunnel-protocol ipsecc"),
    ("tunnel_if", "ipsec policy t1"),                          # policies go on the WAN, not a tunnel
    ("interface", "tcp adjust-mss 1500"),                      # above 1460
    ("top", "ike peer averyveryverylongname"),                 # names are 1-15 characters
    ("top", "ip route-static 198.19.16.0 255.255.255.0"),      # missing next hop / interface
    ("bgp", "peer 169.254.20.1 as-number"),
    ("acl", "rule 5 permit ip source 198.18.16.0 destination 198.19.16.0 0.0.0.255"),
])
def test_grammar_rejects_typos(mode: str, line: str) -> None:
    assert not GRAMMAR.accepts(mode, line)


# --- interpret ----------------------------------------------------------------------------------
def _expected_esp(t: Any) -> Proposal:
    enc = t.ipsec.encryption
    return Proposal(encryption=enc, integrity=None if enc.endswith("gcm") else t.ipsec.integrity,
                    dh=t.ipsec.pfs_group or None)


@pytest.mark.parametrize(("case", "tunnels", "options", "data"), [c for c in matrix()], ids=[c[0] for c in matrix()])
def test_interpret_gives_back_the_intent(case: str, tunnels: list[dict[str, Any]], options: dict[str, Any],
                                         data: dict[str, Any], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inv, psks = build(tmp_path / case, tunnels, options, data, monkeypatch)
    got = INTERPRET(running(inv, "dev1"))
    assert got.hostname == "AR651"
    assert got.interfaces[WAN] == ["198.51.100.10/24"]
    ends = {e.name: e for e in views.device_ends(inv, "dev1")}
    want = inv.tunnels_of("dev1")
    assert len(got.tunnels) == len(want), got.notes
    for t in want:
        e = ends[t.name]
        tw = next(x for x in got.tunnels if x.remote_addr == str(t.cloud_ip))
        assert tw.local_addr == "198.51.100.10"
        assert tw.psk == psks[t.name]
        assert tw.ike_version == t.ike.version
        assert tw.aggressive == (t.ike.version == 1 and t.ike.mode == "aggressive")
        assert tw.ike == [Proposal(t.ike.encryption, t.ike.integrity, t.ike.dh_group)]
        assert tw.esp == [_expected_esp(t)]
        assert tw.ike_lifetime == t.ike.lifetime
        assert tw.esp_lifetime == t.ipsec.lifetime
        if t.ipsec.dpd.enabled:
            assert (tw.dpd_interval, tw.dpd_retries) == (t.ipsec.dpd.interval, t.ipsec.dpd.retries)
        else:
            assert tw.dpd_interval is None and tw.dpd_retries is None
        assert tw.local_id == (None if e.local_id == str(e.local_ip) else e.local_id)
        assert tw.remote_id == (None if e.remote_id == str(e.remote_ip) else e.remote_id)
        if t.routing.route_based:
            assert tw.route_based and tw.selectors == []
            assert tw.inside_local == str(t.routing.inside_local)
            assert tw.interface and tw.interface.startswith("Tunnel")
            assert tw.inside_remote == str(t.routing.inside_remote)
            assert sorted(tw.routes) == sorted(str(r) for r in t.routing.static_routes)
        else:
            assert not tw.route_based
            assert tw.selectors == [(str(s.local), str(s.remote)) for s in t.routing.selectors]


def test_interpret_otc_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_OTC", "Test@123")
    inv = inventory.load(EXAMPLES / "otc-huawei_vrp-1")
    got = INTERPRET(running(inv, "ar651", wan="GigabitEthernet0/0/8", wan_addr="198.51.100.22/24"))
    assert sorted(t.remote_addr for t in got.tunnels) == ["203.0.113.11", "203.0.113.12"]
    for t in got.tunnels:
        assert t.route_based and t.ike_version == 2 and t.psk == "Test@123"
        assert t.ike == [Proposal("aes-128", "sha256", 14)] and t.esp == [Proposal("aes-128", "sha256", 14)]
        assert t.routes == ["192.168.0.0/24"]


def test_interpret_base_config_lists_interfaces() -> None:
    got = INTERPRET(base_config())
    assert got.hostname == "AR651"
    assert got.interfaces == {"GigabitEthernet0/0/0": ["198.18.0.2/24"], WAN: ["198.51.100.10/24"],
                              "GigabitEthernet0/0/2": ["198.18.16.1/24"], "GigabitEthernet0/0/3": ["198.18.17.1/24"]}
    assert got.tunnels == []


def _case(name: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    c = next(c for c in matrix() if c[0] == name)
    return c[1], c[2], c[3]


@pytest.mark.parametrize(("case", "drop", "note"), [
    ("policy-ikev2-pfs-v5", r"^ ipsec policy t1$", "not applied to any interface"),
    ("static-ikev2-pfs-v5", r"^ ipsec profile t1$", "has no ipsec profile"),
    ("static-ikev1-pfs-v5", r"^ tunnel-protocol ipsec$", "without tunnel-protocol ipsec"),
    ("bgp-ikev2-nopfs-v8", r"^ ike-peer t1$", "has no ike-peer"),
    ("policy-ikev1-pfs-v5", r"^ security acl \d+$", "has no security acl"),
])
def test_unbound_configs_yield_no_tunnel_and_a_note(case: str, drop: str, note: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    tunnels, options, data = _case(case)
    inv, _ = build(tmp_path / case, tunnels, options, data, monkeypatch)
    lines = running(inv, "dev1")
    assert len(INTERPRET(lines).tunnels) == 1
    kept = [ln for ln in lines if not re.match(drop, ln)]
    assert len(kept) == len(lines) - 1
    got = INTERPRET(kept)
    assert got.tunnels == []
    assert any(note in n for n in got.notes), got.notes


def test_interpret_vrp_defaults_and_both_versions() -> None:
    """No ike-proposal: the default proposal; no `undo version`: IKEv2 initiates; no DPD type: DPD off."""
    lines = [
        *base_config(),
        "ipsec proposal p1", " esp encryption-algorithm aes-128", "#",
        "ike peer p1", " pre-shared-key cipher Key123", " remote-address 203.0.113.10", "#",
        "ipsec profile pr1", " ike-peer p1", " proposal p1", "#",
        "interface Tunnel0/0/1", " ip address 169.254.10.2 30", " tunnel-protocol ipsec",
        " source GigabitEthernet0/0/1", " destination 203.0.113.10", " ipsec profile pr1", "#",
        "ip route-static 198.19.16.0 24 169.254.10.1", "#"]
    assert rejected(lines) == []
    (t,) = INTERPRET(lines).tunnels
    assert t.ike_version == 2 and t.local_addr == "198.51.100.10"
    assert t.ike == [Proposal("aes-256", "sha256", 14)] and t.ike_lifetime == 86400
    assert t.esp == [Proposal("aes-128", "sha256", None)] and t.esp_lifetime == 3600
    assert t.dpd_interval is None and t.inside_local == "169.254.10.2/30" and t.routes == ["198.19.16.0/24"]


# --- show templates -----------------------------------------------------------------------------
def _tunnel(name: str, version: int, route: bool, remote: str = "203.0.113.10") -> TwinTunnel:
    return TwinTunnel(name=name, ike_version=version, local_addr="198.51.100.10", remote_addr=remote, psk="k",
                      ike=[Proposal("aes-256", "sha256", 14)], esp=[Proposal("aes-128", "sha256", 14)],
                      selectors=[] if route else [("198.18.16.0/24", "198.19.16.0/24"),
                                                  ("198.18.17.0/24", "198.19.17.0/24")],
                      route_based=route, interface="Tunnel0/0/1" if route else None,
                      inside_local="169.254.10.2/30" if route else None, ike_lifetime=86400, esp_lifetime=3600)


def _ike(name: str, version: int, uid: int, state: str = "ESTABLISHED", remote: str = "203.0.113.10") -> IkeState:
    return IkeState(name=name, unique_id=uid, version=version, state=state, local_host="198.51.100.10",
                    local_port=500, remote_host=remote, remote_port=500, local_id="198.51.100.10", remote_id=remote,
                    initiator=True, spi_i="0123456789abcdef", spi_r="fedcba9876543210", encryption="aes-256",
                    integrity="sha256", dh=14, established_s=120, rekey_s=80000)


def _child(name: str, uid: int, lts: str, rts: str, spi_in: str, spi_out: str, bi: int, bo: int) -> ChildState:
    return ChildState(name=name, unique_id=uid, reqid=uid, state="INSTALLED", mode="TUNNEL", protocol="ESP",
                      encap=False, spi_in=spi_in, spi_out=spi_out, encryption="aes-128", integrity="sha256", dh=14,
                      bytes_in=bi, packets_in=bi // 100, bytes_out=bo, packets_out=bo // 100, install_s=60,
                      rekey_s=3000, life_s=3540, local_ts=[lts], remote_ts=[rts])


def states() -> list[TunnelState]:
    """Policy IKEv1 with 2 CHILD SAs, route-based IKEv2 with 1, an IKEv1 still connecting, one down."""
    return [
        TunnelState(_tunnel("pol-10", 1, False), _ike("pol-10", 1, 5),
                    [_child("pol-10", 7, "198.18.16.0/24", "198.19.16.0/24", "c1a2b3c4", "d1e2f3a4", 4200, 8400),
                     _child("pol-10", 8, "198.18.17.0/24", "198.19.17.0/24", "c1a2b3c5", "d1e2f3a5", 100, 300)]),
        TunnelState(_tunnel("prof1", 2, True, "203.0.113.11"), _ike("prof1", 2, 6, remote="203.0.113.11"),
                    [_child("prof1", 9, "169.254.10.2/32", "169.254.10.1/32", "0000abcd", "ffff0001", 0, 77)]),
        TunnelState(_tunnel("slow", 1, True, "203.0.113.20"), _ike("slow", 1, 11, "CONNECTING", "203.0.113.20"), []),
        TunnelState(_tunnel("dead", 2, True, "203.0.113.30"), None, []),
    ]


def _interp() -> Any:
    mod = sys.modules["huawei_vrp_twin_interpret"]
    i = mod.HuaweiInterpretation(hostname="AR651", interfaces={WAN: ["198.51.100.10/24"],
                                                              "Tunnel0/0/1": ["169.254.10.2/30"]})
    i.objects = {"pol-10": {"kind": "policy", "policy": "pol", "seq": 10, "acl": "3000", "rules": [5, 10],
                            "interface": WAN},
                 "prof1": {"kind": "profile", "profile": "prof1", "interface": "Tunnel0/0/1"}}
    return i


def show(template: str, tunnels: list[TunnelState], **args: Any) -> str:
    spell = lambda table, neutral: neutral  # noqa: E731 - the templates do not spell algorithms
    return ENV.get_template(template).render(hostname="AR651", tunnels=tunnels, interpretation=_interp(),
                                             now=datetime(2024, 5, 1, 12, 0, 0), args=args, spell=spell)


def _driver(variant: str = "v5") -> Any:
    return registry.driver(PLATFORM, {"os_version": variant})


def _show_for(command: str) -> str:
    for s in TWIN_DATA["show"]:
        if re.fullmatch(s["match"], command):
            return s["template"]
    raise AssertionError(f"no show template for {command!r}")


@pytest.mark.parametrize("variant", ["v5", "v8"])
def test_every_status_command_has_a_show_template(variant: str) -> None:
    cmds = _driver(variant).status_commands()
    assert set(cmds) == {"ike_sa", "ipsec_sa"}
    for cmd in cmds.values():
        assert (TWIN / _show_for(cmd)).exists()
    for extra in ("display ike sa verbose", "display ipsec sa brief"):
        assert (TWIN / _show_for(extra)).exists()


def test_display_ike_sa_parses_back() -> None:
    text = show(_show_for("display ike sa"), states())
    st = _driver().device_status({"ike_sa": text})
    got = {(i.remote_host, i.version, i.up) for i in st.ike}
    assert got == {("203.0.113.10", 1, True), ("203.0.113.11", 2, True), ("203.0.113.20", 1, False)}
    assert "203.0.113.30" not in text
    # one phase-2 row per CHILD SA
    assert len(re.findall(r"v1:2", text)) == 2 and len(re.findall(r"v2:2", text)) == 1
    assert re.search(r"Number of IKE SA : 6", text)


def test_display_ike_sa_empty() -> None:
    text = show(_show_for("display ike sa"), states()[3:])
    assert _driver().device_status({"ike_sa": text}).ike == []
    assert "Number of IKE SA : 0" in text


def test_display_ipsec_sa_parses_back() -> None:
    text = show(_show_for("display ipsec sa"), states())
    rows = _driver().parse("ipsec_sa", text)["child"]
    assert [(r["name"], r["interface"], r["local_host"], r["remote_host"]) for r in rows] == [
        ("pol", WAN, "198.51.100.10", "203.0.113.10"), ("pol", WAN, "198.51.100.10", "203.0.113.10"),
        ("prof1", "Tunnel0/0/1", "198.51.100.10", "203.0.113.11")]
    assert [(int(r["spi_in"]), int(r["spi_out"])) for r in rows] == [
        (0xc1a2b3c4, 0xd1e2f3a4), (0xc1a2b3c5, 0xd1e2f3a5), (0x0000abcd, 0xffff0001)]
    assert [(r["local_ts"], r["remote_ts"]) for r in rows] == [
        ("198.18.16.0/255.255.255.0", "198.19.16.0/255.255.255.0"),
        ("198.18.17.0/255.255.255.0", "198.19.17.0/255.255.255.0"), ("", "")]
    assert {r["proposal"] for r in rows} == {"ESP-ENCRYPT-AES-128 SHA2-256-128"}
    st = _driver().device_status({"ipsec_sa": text})
    assert all(c.up for c in st.children) and len(st.children) == 3
    # byte counters: the remaining soft byte lifetime counts down from 1887436800
    remaining = [int(x) for x in re.findall(r"remaining key duration \(bytes/sec\): (\d+)/", text)]
    assert [1887436800 - r for r in remaining] == [8400, 4200, 300, 100, 77, 0]
    assert re.findall(r"Acl rule\s+: (\d+)", text) == ["5", "10"]
    assert "203.0.113.20" not in text and "203.0.113.30" not in text


def test_display_ipsec_sa_nothing_when_down() -> None:
    text = show(_show_for("display ipsec sa"), states()[2:])
    assert _driver().parse("ipsec_sa", text).get("child", []) == []


def test_display_ipsec_sa_brief_and_ike_sa_verbose() -> None:
    brief = show(_show_for("display ipsec sa brief"), states())
    assert "Number of SAs:6" in brief
    for spi in (0xc1a2b3c4, 0xd1e2f3a4, 0xffff0001):
        assert re.search(rf"\s{spi}\s", brief)
    verbose = show(_show_for("display ike sa verbose remote 203.0.113.11"), states(), remote="203.0.113.11")
    assert "203.0.113.11:500" in verbose and "203.0.113.10" not in verbose
    assert "Flag(s)            : RD|ST" in verbose
    allv = show(_show_for("display ike sa verbose"), states(), remote=None)
    assert allv.count("Ike SA information") == 3 and "NEG|ST" in allv


def _ntc_template(command: str) -> str | None:
    """The ntc-templates file its index picks for a huawei_vrp command (the index matches prefixes)."""
    from ntc_templates.parse import _get_template_dir
    from textfsm import clitable

    table = clitable.CliTable("index", _get_template_dir())
    row = table.index.GetRowMatch({"Command": command, "Platform": PLATFORM})
    return table.index.index[row]["Template"] if row else None


@pytest.mark.parametrize("command", ["display ike sa", "display ipsec sa"])
def test_ntc_templates_where_they_exist(command: str) -> None:
    """ntc-templates has no huawei_vrp IKE/IPsec template (its index only prefix-matches `dir`); if one
    appears, its rows must give the same peers."""
    from ntc_templates.parse import parse_output

    tpl = _ntc_template(command)
    if not tpl or not re.search(r"ike|ipsec", tpl):
        pytest.skip(f"ntc-templates has no huawei_vrp template for {command!r} (index picks {tpl})")
    rows = parse_output(platform=PLATFORM, command=command, data=show(_show_for(command), states()))
    peers = {str(v).split(":")[0] for r in rows for k, v in r.items() if "peer" in k or "remote" in k}
    assert {"203.0.113.10", "203.0.113.11"} <= peers


# --- ping ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("replies", "count", "received", "loss", "avg"), [
    ([{"seq": s, "ttl": 64, "rtt_ms": r} for s, r in ((1, 2.2), (2, 3.9), (3, 6.0), (4, 2.1), (5, 1.2))], 5, 5, 0.0,
     3.0),
    ([{"seq": 2, "ttl": 63, "rtt_ms": 10.0}, {"seq": 4, "ttl": 63, "rtt_ms": 20.0}], 5, 2, 60.0, 15.0),
    ([], 4, 0, 100.0, None),
])
def test_ping_parses_back(replies: list[dict[str, Any]], count: int, received: int, loss: float,
                          avg: float | None) -> None:
    rep = PingReport(target="198.19.16.10", source="198.18.16.1", count=count, size=56, replies=replies)
    text = ENV.get_template("ping.j2").render(ping=rep, hostname="AR651")
    res = _driver().parse_ping(text, "198.18.16.1", "198.19.16.10")
    assert (res.sent, res.received, res.loss_pct) == (count, received, loss)
    assert res.rtt_ms == avg
    assert text.count("Request time out") == count - received


def test_ping_match_covers_the_platform_command() -> None:
    cmd = _driver().ping_command("198.18.16.1", "198.19.16.10", 5)
    m = re.fullmatch(TWIN_DATA["ping"]["match"], cmd)
    assert m and m.group("target") == "198.19.16.10" and m.group("source") == "198.18.16.1"
    assert m.group("count") == "5"


# --- session / log ------------------------------------------------------------------------------
def test_session_answers_netmiko_paging() -> None:
    """Netmiko's HuaweiBase.session_preparation sends `screen-length 0 temporary`."""
    import netmiko.huawei.huawei as nh

    src = Path(nh.__file__).read_text()
    assert 'disable_paging(command="screen-length 0 temporary")' in src
    hits = [s for s in TWIN_DATA["session"] if re.fullmatch(s["match"], "screen-length 0 temporary")]
    assert hits and hits[0]["reply"].startswith("Info:")


def test_log_match_covers_the_platform_log_command() -> None:
    cmd = pspec.load(PLATFORM).section("diagnosis")["log_command"]
    assert re.fullmatch(TWIN_DATA["log"]["match"], cmd)


CHARON = {
    "psk_mismatch": ["received AUTHENTICATION_FAILED notify error", "MAC mismatched",
                     "invalid HASH_V1 payload length, decryption failed?"],
    "proposal_mismatch": ["received NO_PROPOSAL_CHOSEN notify error", "no acceptable proposal found",
                          "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built"],
    "selector_mismatch": ["received TS_UNACCEPTABLE notify, no CHILD_SA built",
                          "received INVALID_ID_INFORMATION error notify"],
    "peer_unreachable": ["giving up after 3 retransmits"],
    None: ["IKE_SA t1[1] established between 198.51.100.10[198.51.100.10]...203.0.113.10[203.0.113.10]",
           "CHILD_SA t1{1} established with SPIs c1a2b3c4_i d1e2f3a4_o and TS 198.18.16.0/24 === 198.19.16.0/24"],
}


def _vendor_line(charon_line: str) -> str | None:
    for ev in TWIN_DATA["log"]["events"]:
        if re.search(ev["charon"], charon_line):
            return ev["line"].format(time=datetime(2024, 5, 1, 12, 0, 0).strftime(TWIN_DATA["log"]["timestamp"]),
                                     peer="203.0.113.10", local="198.51.100.10", name="t1")
    return None


@pytest.mark.parametrize(("cls", "line"), [(c, ln) for c, lines in CHARON.items() for ln in lines])
def test_log_events_classify(cls: str | None, line: str) -> None:
    vendor = _vendor_line(line)
    assert vendor is not None, f"no log event for {line!r}"
    assert "203.0.113.10" in vendor
    patterns = pspec.load(PLATFORM).section("diagnosis")["patterns"]
    hit = next((p["class"] for p in patterns if re.search(p["regex"], vendor)), None)
    assert hit == cls, vendor


def test_retransmits_are_not_logged() -> None:
    """VRP writes no log line per IKE retransmission (only the final negotiation failure)."""
    assert _vendor_line("retransmit 1 of request with message ID 0") is None
    assert _vendor_line("sending retransmit 1 of request message ID 0, seq 1") is None


def test_every_log_event_names_the_peer() -> None:
    for ev in TWIN_DATA["log"]["events"]:
        assert "{peer}" in ev["line"]
        re.compile(ev["charon"])


def test_inside_addresses_are_lab_ranges() -> None:
    for _, tunnels, _, _ in matrix():
        for t in tunnels:
            inside = t["routing"].get("inside")
            if inside:
                assert ipaddress.IPv4Interface(inside["local"]) in ipaddress.IPv4Network("169.254.0.0/16")
