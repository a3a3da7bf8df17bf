"""The twin's charon backend: which CHILD SAs an interpretation becomes, and how proposals are spelt."""

from __future__ import annotations

import pytest

from tunnelsmith.twin import charon
from tunnelsmith.twin.grammar import GrammarError, compile_grammar
from tunnelsmith.twin.model import Interpretation, Proposal, TwinTunnel


def _interp() -> Interpretation:
    policy = TwinTunnel(name="map1 10", ike_version=1, local_addr="198.51.100.10", remote_addr="203.0.113.10",
                        psk='Ts"key\\1', ike=[Proposal("aes-128", "sha1", 2)], esp=[Proposal("aes-128", "sha1", 2)],
                        ike_lifetime=86400, esp_lifetime=3600, dpd_interval=10, dpd_retries=3,
                        selectors=[("198.18.16.0/24", "198.19.16.0/24"), ("198.18.17.0/24", "198.19.16.0/24")])
    route = TwinTunnel(name="Tunnel1", ike_version=2, local_addr="198.51.100.10", remote_addr="203.0.113.20",
                       psk="Tskey2222", ike=[Proposal("aes-256-gcm", None, 14)],
                       esp=[Proposal("aes-256-gcm", None, None)],
                       route_based=True, interface="Tunnel1", inside_local="169.254.10.2/30",
                       routes=["198.19.32.0/24"])
    return Interpretation(hostname="r1", interfaces={
        "Gi0/0": ["198.18.0.2/30"], "Gi0/1": ["198.51.100.10/24"], "Gi0/2": ["198.18.16.1/24"],
        "Gi0/3": ["198.18.17.1/24"], "Tunnel1": ["169.254.10.2/30"]}, tunnels=[policy, route])


def test_policy_children_follow_the_acl_and_route_children_the_routes() -> None:
    text, conns, own = charon.build(_interp(), mgmt_addr="198.18.0.2")
    assert own == {}  # no tunnel namespaces asked for: the tunnel interface is approximated by pairs
    pol, rt = conns
    assert [c[1:] for c in pol.children] == [("198.18.16.0/24", "198.19.16.0/24"), ("198.18.17.0/24", "198.19.16.0/24")]
    # inside pair, then every LAN (not the WAN, the management port or the tunnel itself) x every route
    assert [c[1:] for c in rt.children] == [("169.254.10.2/32", "169.254.10.1/32"),
                                            ("198.18.16.0/24", "198.19.32.0/24"),
                                            ("198.18.17.0/24", "198.19.32.0/24")]
    assert "proposals = aes128-sha1-modp1024" in text
    assert "esp_proposals = aes128-sha1-modp1024" in text
    assert "proposals = aes256gcm16-prfsha256-modp2048" in text
    assert "esp_proposals = aes256gcm16\n" in text
    assert "dpd_timeout = 30s" in text and "reauth_time = 85860s" in text
    assert 'secret = "Ts\\"key\\\\1"' in text  # quotes and backslashes cannot end the string


def test_unbound_means_nothing_to_run() -> None:
    text, conns, own = charon.build(Interpretation(hostname="r1", notes=["crypto map m not applied"]))
    assert conns == [] and own == {} and "connections {\n\n}" in text


def test_a_tunnel_interface_in_its_namespace_negotiates_any_to_any_through_nat() -> None:
    text, conns, own = charon.build(_interp(), mgmt_addr="198.18.0.2", tunnel_addrs={"Tunnel1": "198.19.240.2"})
    assert [c.name for c in conns] == ["t1-map1-10"]  # the policy tunnel stays in the node's charon
    assert "Tunnel1" not in text and "203.0.113.20" not in text
    conf, conn = own["Tunnel1"]
    assert conn.children == [("t2-Tunnel1-any", "0.0.0.0/0", "0.0.0.0/0")]
    assert "local_addrs = 198.19.240.2" in conf and "remote_addrs = 203.0.113.20" in conf
    assert "encap = yes" in conf and "id = 198.51.100.10" in conf  # the ID stays the public address
    assert 'secret = "Tskey2222"' in conf and "map1" not in conf


def test_inside_remote_is_the_other_host_of_the_point_to_point_network() -> None:
    assert TwinTunnel("t", 2, "a", "b", "k", [], [], inside_local="169.254.10.2/30").inside_remote == "169.254.10.1"
    assert TwinTunnel("t", 2, "a", "b", "k", [], [], inside_local="169.254.10.6/31").inside_remote == "169.254.10.7"
    assert TwinTunnel("t", 2, "a", "b", "k", [], [], inside_local="169.254.10.2/29").inside_remote is None


def test_grammar_modes_tokens_and_negation() -> None:
    g = compile_grammar({"tokens": {"num": r"\d+"},
                         "modes": {"top": [{"match": "crypto isakmp policy <num>", "enter": "isakmp"}, "hostname \\S+"],
                                   "isakmp": ["encr(?:yption)? (?:aes|3des)"]},
                         "negation": [{"match": "^no (.+)$", "as": "\\1"}]})
    assert g.match("top", "crypto isakmp policy 10").enter == "isakmp"
    assert g.accepts("isakmp", "  encryption   aes ")
    assert not g.accepts("isakmp", "encryption aes-129")
    assert not g.accepts("top", "encryption aes")  # right words, wrong mode
    assert g.accepts("top", "no hostname r1") and not g.accepts("top", "no hostnam r1")


def test_a_single_valued_setting_typed_again_replaces_its_line() -> None:
    g = compile_grammar({"tokens": {"num": r"\d+"},
                         "modes": {"top": [{"match": "ipsec profile <num>", "enter": "prof"}],
                                   "prof": ["sa duration (?:time-based|traffic-based) <num>", "peer <num>"]},
                         "settings": {"prof": ["sa duration (?:time-based|traffic-based)"]}})
    assert g.replaces("prof", "sa duration time-based 3600", "sa duration  time-based 1800")
    assert not g.replaces("prof", "sa duration traffic-based 3600", "sa duration time-based 1800")  # another setting
    assert not g.replaces("prof", "peer 1", "peer 2")  # not declared single-valued: lines accumulate
    with pytest.raises(GrammarError, match="unknown mode 'nope'"):
        compile_grammar({"modes": {"top": []}, "settings": {"nope": ["x"]}})


def test_the_twin_replaces_a_changed_lifetime_instead_of_keeping_both() -> None:
    """A changed value must take effect on the twin, as on the device (Comware ipsec profile)."""
    from tunnelsmith.platforms import spec as pspec
    from tunnelsmith.platforms.emulator import CliEmulator, dump_tree
    from tunnelsmith.twin import platform as twinplat

    running = ["ipsec profile p1 isakmp", " transform-set p1", " sa duration time-based 3600"]
    emu = CliEmulator(pspec.load("hp_comware"), running, grammar=twinplat.load("hp_comware").grammar)
    emu.execute("system-view")
    for line in ("ipsec profile p1 isakmp", " sa duration time-based 1800", "quit", "return"):
        emu.execute(line)
    assert dump_tree(emu.active) == ["ipsec profile p1 isakmp", " transform-set p1", " sa duration time-based 1800"]
