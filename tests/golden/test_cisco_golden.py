"""Golden tests for cisco_ios: render the example inventories and compare, statement by
statement, with the published configurations they were built from (copied verbatim into
tests/data/cisco_ios/ with their source headers). Also: what the status parsers make of real
device output (tests/parsers/cisco_ios/; the cases themselves run in tests/parsers/test_parsers.py),
the reader regexes, numbering of several tunnels.

IOS configuration is hierarchical; the samples are partly indented (AWS) and partly flattened
by the page layout (seed 001, Alibaba). `statements()` rebuilds the hierarchy from IOS's own
mode rules, so both compare as sets of "parent / child" paths (IOS ignores the order of lines
inside a mode, and the order of independent global objects).

Every deliberate difference is listed below with its reason, as a pattern that must match at
least one statement (so the list cannot go stale) and nothing else may differ.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tunnelsmith import inventory, reader, render
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.spec import UnsupportedAlgorithm

from ._golden import explain_differences, sample_body, subst

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "cisco_ios"
EXAMPLES = ROOT / "inventory" / "examples"
PARSERS = ROOT / "tests" / "parsers" / "cisco_ios"

# Pre-shared keys are registered with the process-wide masker when resolved, so tests use long,
# unique values; a sample's own key text is replaced by the test's value before comparing.
PSK1 = "TsGolden-Cisco-7Qx2-kW9"
PSK2 = "TsGolden-Cisco-4Rb8-mZ3"

# --- IOS statement model ------------------------------------------------------------------
_PARENT = re.compile(r"^(crypto isakmp policy \d+|crypto keyring \S+|crypto isakmp profile \S+|"
                     r"crypto ipsec transform-set \S+ .+|crypto ipsec profile \S+|"
                     r"crypto map \S+ \d+ ipsec-isakmp|interface \S+|router bgp \S+|"
                     r"crypto ikev2 (proposal|policy|keyring|profile) \S+|ip sla \d+)$")
_NESTED = re.compile(r"^(address-family .+|peer \S+)$")
_GLOBAL = re.compile(r"^(access-list |ip route |crypto isakmp key |crypto isakmp keepalive |"
                     r"crypto ipsec df-bit |crypto ipsec security-association |"
                     r"crypto ipsec fragmentation |ip sla schedule |track )")


def statements(lines: list[str]) -> set[str]:
    """IOS lines -> {"parent / child / line"} using IOS's mode rules."""
    out: set[str] = set()
    ctx: list[str] = []
    for raw in lines:
        line = " ".join(raw.split())
        if not line or line.startswith(("!", "#", "```")) or line in ("exit", "end"):
            if line == "exit" and len(ctx) > 1:
                ctx.pop()
            elif line == "exit":
                ctx = []
            continue
        if line == "exit-address-family":
            ctx = ctx[:1]
            continue
        if _GLOBAL.match(line):
            ctx = []
            out.add(line)
        elif _PARENT.match(line):
            ctx = [line]
            out.add(line)
        elif ctx and _NESTED.match(line):
            ctx = [ctx[0], line]
            out.add(" / ".join(ctx))
        else:
            out.add(" / ".join([*ctx, line]))
    return out


def fenced(text: str) -> list[str]:
    """Lines inside ``` code blocks (the seed is a document, its config is in code blocks)."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
            continue
        if inside:
            out.append(line)
    return out


def rendered(example: str, host: str) -> set[str]:
    inv = inventory.load(EXAMPLES / example)
    return statements(render.render_device(inv, host).lines())


def compare(sample: set[str], ours: set[str], *, omitted: dict[str, str], added: dict[str, str]) -> None:
    """sample - ours must be exactly what `omitted` explains, ours - sample what `added` explains."""
    explain_differences(sample - ours, ours - sample, omitted=omitted, added=added)


# Common to the samples: statements the intent adds on purpose.
MARK = {r"/ description tunnelsmith \S+ IKEv\d$": "objects carry a description naming the tunnel "
        "and IKE version: operators (and the reader) can tell which tunnel an object serves"}


# --- seed 001 3.3.4.3 ---------------------------------------------------------------------
def test_seed_cisco_policy_based(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_GUIDE_PSK_CISCO", "aa123bb****")  # the guide's (masked) key
    body = sample_body(DATA / "ctyun-guide-3.3.4.3.txt")
    # README of the ctyun-guide inventory: 121.XX.XX.113 is 203.0.113.113 there.
    sample = statements(subst(fenced(body), {r"121\.XX\.XX\.113": "203.0.113.113"}))
    ours = rendered("ctyun-guide", "idc-cisco")
    assert "crypto isakmp key aa123bb**** address 203.0.113.113" in sample
    compare(sample, ours, omitted={}, added={
        **MARK,
        # The guide's table says IPsec lifetime 3600 but its crypto map sets none: IOS's default
        # is 3600 s, so writing it out changes nothing and makes the intent visible.
        r"^crypto map ipsecpro64 10 ipsec-isakmp / set security-association lifetime seconds 3600$":
            "explicit SA lifetime from the table (IOS default is the same 3600 s)",
        # CTyun gateways run DPD (3.3.3.1: DPD on); the seed leaves the router's side off.
        r"^crypto isakmp keepalive 10 10 on-demand$": "DPD from the intent (cloud default on)",
    })


# --- AWS: VTI + keyring + BGP ---------------------------------------------------------------
AWS_COMMON_OMITTED = {
    r"^crypto ipsec df-bit clear$": "global fragmentation tuning, not part of the intent",
    r"^crypto ipsec security-association replay window-size 128$": "global tuning, not in the intent",
    r"^crypto ipsec fragmentation before-encryption$": "global tuning, not in the intent",
    r"^interface Tunnel\d / ip virtual-reassembly$": "reassembly tuning, not in the intent",
}
AWS_COMMON_ADDED = {
    **MARK,
    r"^interface Tunnel\d / ip mtu 1436$": "tunnel MTU from the intent (AWS MTU 1436, header)",
    r"^crypto ipsec profile ipsec-vpn-\S+ / set isakmp-profile isakmp-vpn-\S+$":
        "binds the ISAKMP profile to the VTI explicitly instead of relying on identity matching",
}
# AWS spells AES-128 "aes 128" / "esp-aes 128"; IOS's plain "aes" / "esp-aes" is the same
# 128-bit key (seed and Alibaba spelling). Object names: the transform set is named after the
# tunnel (seed style), AWS prefixes it with "ipsec-prop-".
AWS_EQUIV = {r"^ *encryption aes 128$": " encryption aes", r"esp-aes 128 esp-sha-hmac": "esp-aes esp-sha-hmac",
             r"ipsec-prop-(vpn-[0-9a-f]+-\d)": r"\1"}


def test_aws_cisco_1_vti_bgp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_AWS_CISCO_1_T1", PSK1)
    monkeypatch.setenv("TS_SAMPLE_PSK_AWS_CISCO_1_T2", PSK2)
    lines = subst(sample_body(DATA / "aws-cisco_ios-1.txt").splitlines(),
                  {"YOUR_UPLINK_ADDRESS": "198.51.100.1", "YOUR_BGP_ASN": "65000",
                   "plain-text-password1": PSK1, "plain-text-password2": PSK2, **AWS_EQUIV})
    sample = statements(lines)
    ours = rendered("aws-cisco_ios-1", "cgw")
    assert "crypto isakmp policy 201 / lifetime 28800" in sample
    compare(sample, ours, omitted={
        **AWS_COMMON_OMITTED,
        # IOS keeps `activate`, remote-as and timers once; AWS repeats them at both levels.
        r"^router bgp 65000 / neighbor \S+ activate$": "activate belongs to the address family (rendered there)",
        r"^router bgp 65000 / address-family ipv4 unicast / neighbor \S+ (remote-as 7224|timers 10 30 30)$":
            "remote-as and timers are rendered once, at the router level (IOS stores them there)",
        r"/ neighbor \S+ default-originate$": "the intent announces 0.0.0.0/0 with a network "
                                              "statement (AWS does both); no default-originate",
        r"/ neighbor \S+ soft-reconfiguration inbound$": "inbound soft-reconfiguration is not in the intent",
        r"/ network 0\.0\.0\.0$": "rendered as `network 0.0.0.0 mask 0.0.0.0` (explicit mask)",
    }, added={
        **AWS_COMMON_ADDED,
        r"/ network 0\.0\.0\.0 mask 0\.0\.0\.0$": "the default route announcement, explicit mask",
    })


def test_aws_cisco_2_vti_static(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_AWS_CISCO_2", PSK1)
    lines = subst(sample_body(DATA / "aws-cisco_ios-2.txt").splitlines(),
                  {"CUSTOMER_IP": "198.51.100.2", r"key PASSWORD$": f"key {PSK1}", **AWS_EQUIV})
    sample = statements(lines)
    ours = rendered("aws-cisco_ios-2", "cgw")
    compare(sample, ours, omitted={
        **AWS_COMMON_OMITTED,
        # The sample's route failover with IP SLA probes and tracking is not part of the intent.
        r"^ip sla (\d+|schedule )": "IP SLA probes are not in the intent",
        r"^track \d+ ip sla": "tracking objects are not in the intent",
    }, added={
        **AWS_COMMON_ADDED,
        # The sample shows its routes only as comments ("! ip route 10.0.0.0 255.255.0.0 Tunnel1
        # track 100"); the intent routes the VPC prefix into each VTI (without IP SLA tracking).
        r"^ip route 10\.0\.0\.0 255\.255\.0\.0 Tunnel[12]$": "static route into each VTI",
    })


# --- Alibaba: crypto map, IKEv1 and IKEv2 variants -------------------------------------------
def _alibaba(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    monkeypatch.setenv("TS_SAMPLE_PSK_ALIBABA_CISCO", PSK1)
    lines = subst(sample_body(DATA / "alibaba-cisco_ios-5.txt").splitlines(), {
        r"^crypto isakmp key 123456 ": f"crypto isakmp key {PSK1} ",  # the guide's key
        r"^pre-shared-key 0 123456$": f"pre-shared-key 0 {PSK1}",
        r"47\.xxx\.xxx\. 161": "203.0.113.161",  # masked peer (with the page's stray blank)
        # The page's own table lists the vSwitches 192.168.10.0/24 and 192.168.11.0/24; its ACLs
        # and routes say 192.168.20.0 (header: doc inconsistency). The inventory follows the
        # table, so the sample's 192.168.20.0 is read as 192.168.11.0.
        r"192\.168\.20\.0": "192.168.11.0"})
    split = next(i for i, ln in enumerate(lines) if ln.startswith("crypto ikev2 proposal"))
    return lines[:split], lines[split:]


ALIBABA_LIFETIME = {r"^crypto map \S+ 10 ipsec-isakmp / set security-association lifetime seconds 86400$":
                    "the table says SA lifetime 86400; the sample sets none (IOS would use 3600)"}


def test_alibaba_cisco_ikev1(monkeypatch: pytest.MonkeyPatch) -> None:
    v1, _ = _alibaba(monkeypatch)
    compare(statements(v1), rendered("alibaba-cisco_ios-5", "fw-ikev1"), omitted={},
            added={**MARK, **ALIBABA_LIFETIME})


def test_alibaba_cisco_ikev2(monkeypatch: pytest.MonkeyPatch) -> None:
    _, v2 = _alibaba(monkeypatch)
    # Object names: the guide calls the proposal "daemon" and the keyring peer "vpngw"; both are
    # named after the tunnel here.
    v2 = subst(v2, {r"^crypto ikev2 proposal daemon": "crypto ikev2 proposal ipsecpro64_v2",
                    r"^proposal daemon$": "proposal ipsecpro64_v2", r"^peer vpngw": "peer ipsecpro64_v2"})
    compare(statements(v2), rendered("alibaba-cisco_ios-5", "fw-ikev2"), omitted={
        r"identity local address 10\.10\.10\.1$": "the guide's local identity is a LAN address "
                                                  "(header: sic); the intent's identity is the public IP",
    }, added={
        **MARK, **ALIBABA_LIFETIME,
        r"identity local address 198\.51\.100\.172$": "local identity = the device's public IP",
        r"^crypto ikev2 profile ipsecpro64_v2 / lifetime 86400$": "IKE SA lifetime from the table (86400)",
    })


# --- parsers: real device output --------------------------------------------------------------
# Every case under tests/parsers/cisco_ios/ is run by the generic runner tests/parsers/test_parsers.py;
# here: what the parsed rows mean.
def test_parsed_status_is_up_only_for_active_sas() -> None:
    from tunnelsmith.platforms import registry

    st = registry.driver("cisco_ios").device_status({"ike_sa": (PARSERS / "ike_sa" / "ikev1_tunnels.raw").read_text()})
    assert [s.remote_host for s in st.ike if s.up] == ["192.168.0.1"]  # the one "Active" SA


# --- reader, numbering, unsupported algorithms --------------------------------------------------
def test_reader_reads_the_intent_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_AWS_CISCO_1_T1", PSK1)
    monkeypatch.setenv("TS_SAMPLE_PSK_AWS_CISCO_1_T2", PSK2)
    inv = inventory.load(EXAMPLES / "aws-cisco_ios-1")
    text = render.render_device(inv, "cgw").files["cli"]
    values = reader.read(pspec.load("cisco_ios"), text)
    t = inv.tunnels["vpn-44a8938f-0"]

    def read(key: str) -> str:
        found = set(values[key])
        assert len(found) == 1, (key, values[key])
        return found.pop()

    assert read("ike_version") == "1"
    assert (read("ike_encryption"), read("ike_integrity"), read("ike_dh")) == ("aes-128", "sha1", "2")
    assert read("ike_lifetime") == str(t.ike.lifetime)
    assert (read("ipsec_encryption"), read("ipsec_integrity"), read("pfs")) == ("aes-128", "sha1", "2")
    assert read("ipsec_lifetime") == "3600"
    assert values["peer"] == ["72.21.209.225", "72.21.209.193"]
    assert values["inside_local"] == ["169.254.255.2/30", "169.254.255.6/30"]
    assert values["bgp_neighbor"] == ["169.254.255.1", "169.254.255.5"]
    assert read("bgp_remote_asn") == "7224"
    assert read("mss") == "1387"
    assert read("dpd_interval") == "10"


def test_reader_policy_based_subnets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_SAMPLE_PSK_ALIBABA_CISCO", PSK1)
    inv = inventory.load(EXAMPLES / "alibaba-cisco_ios-5")
    spec = pspec.load("cisco_ios")
    v1 = reader.read(spec, render.render_device(inv, "fw-ikev1").files["cli"])
    v2 = reader.read(spec, render.render_device(inv, "fw-ikev2").files["cli"])
    assert set(v1["local_subnet"]) == {"10.10.10.0/24"}
    assert v1["remote_subnet"] == ["192.168.10.0/24", "192.168.11.0/24"]
    assert v1["static_route"] == ["192.168.10.0/24", "192.168.11.0/24"]
    assert (v1["ike_version"], v2["ike_version"]) == (["1"], ["2"])
    assert (v2["ike_encryption"], v2["ike_integrity"], v2["pfs"]) == (["aes-128"], ["sha1"], [])


def _write_inventory(tmp: Path, tunnels: str, device_extra: str = "") -> Path:
    (tmp / "hosts.yaml").write_text(f"""
cloud:
  data: {{role: cloud, provider: generic, public_ips: [203.0.113.1, 203.0.113.2, 203.0.113.3],
          vpc_subnets: [198.19.16.0/24, 198.19.17.0/24]}}
dev:
  hostname: dev.example.invalid
  platform: cisco_ios
  data:
    role: device
    wan_interface: GigabitEthernet0/1
    public_ip: 198.51.100.9
    lan_subnets: [198.18.16.0/24]
    bgp_asn: 65010
{device_extra}
""")
    (tmp / "tunnels.yaml").write_text(tunnels)
    return tmp


def test_several_tunnels_do_not_collide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_T_PSK", PSK1)
    d = _write_inventory(tmp_path, """
tunnels:
  - {name: pol-a, cloud: cloud, device: dev, cloud_ip: 203.0.113.1, psk: {env: TS_T_PSK}, routing: {mode: policy},
     ike: {version: 1, encryption: aes-256, integrity: sha256, dh_group: 14, lifetime: 28800},
     ipsec: {encryption: aes-256, integrity: sha256, pfs_group: none, lifetime: 3600}}
  - {name: pol-b, cloud: cloud, device: dev, cloud_ip: 203.0.113.2, psk: {env: TS_T_PSK}, routing: {mode: policy},
     ike: {version: 2, encryption: aes-128, integrity: sha1, dh_group: 14, lifetime: 28800},
     ipsec: {encryption: aes-256-gcm, integrity: sha256, pfs_group: 14, lifetime: 3600}}
  - {name: vti-c, cloud: cloud, device: dev, cloud_ip: 203.0.113.3, psk: {env: TS_T_PSK},
     ike: {version: 2, encryption: aes-256, integrity: sha256, dh_group: 19, lifetime: 28800},
     ipsec: {encryption: aes-256, integrity: sha256, pfs_group: 19, lifetime: 3600},
     routing: {mode: static, inside: {local: 169.254.20.2/30, remote: 169.254.20.1}, routes: [198.19.17.0/24]}}
""")
    inv = inventory.load(d)
    lines = render.render_device(inv, "dev").lines()
    text = "\n".join(lines)
    # one crypto map on the WAN interface, one entry per policy-based tunnel, own ACLs
    assert re.findall(r"^crypto map pol-a (\d+) ipsec-isakmp$", text, re.M) == ["10", "20"]
    assert text.count("\n crypto map pol-a") == 1
    assert sorted(set(re.findall(r"^access-list (\d+) ", text, re.M))) == ["100", "101"]
    assert "crypto isakmp policy 1" in text and "crypto isakmp policy 2" not in text  # IKEv1 only
    assert "interface Tunnel3" in text  # tunnel_base 1 + index 2
    # PFS off: no `set pfs` in pol-a's entry; GCM: no separate integrity transform
    entry_a = text.split("crypto map pol-a 10 ipsec-isakmp")[1].split("exit")[0]
    assert "set pfs" not in entry_a
    assert "crypto ipsec transform-set pol-b esp-gcm 256\n" in text + "\n"
    # one IKEv2 policy listing both IKEv2 proposals
    pol = text.split("crypto ikev2 policy pol-b\n")[1].split("exit")[0]
    assert pol.split() == ["proposal", "pol-b", "proposal", "vti-c"]
    assert "ip route 198.19.17.0 255.255.255.0 Tunnel3" in text


def test_unsupported_algorithm_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_T_PSK", PSK1)
    d = _write_inventory(tmp_path, """
tunnels:
  - {name: gcm-ike, cloud: cloud, device: dev, psk: {env: TS_T_PSK}, routing: {mode: policy},
     ike: {version: 2, encryption: aes-256-gcm, integrity: sha256, dh_group: 14, lifetime: 28800},
     ipsec: {encryption: aes-256, integrity: sha256, pfs_group: 14, lifetime: 3600}}
""")
    with pytest.raises(UnsupportedAlgorithm):
        render.render_device(inventory.load(d), "dev")
