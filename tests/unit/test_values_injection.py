"""Issue 7, "Injected commands": one regression test per case. Each value ends in a located problem.

A case spoils one value of a clean inventory (one device, one cloud, two tunnels) and asserts a
problem for that field giving the reason; the render gate then refuses to render. The driver's
second guard (split on "\\n" only, refuse other breaks) is tested on rendered text directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tunnelsmith.runbooks.common import load_checked

from tunnelsmith import inventory, render
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.cli import CliDriver
from tunnelsmith.validate import validate

from .test_secrets_no_leak import write_inventory


def problems(d: Path) -> list[Problem]:
    try:
        inv = inventory.load(d)
    except InventoryError as exc:  # the loader refusing the value is as good as validation refusing it
        return exc.problems
    return validate(inv)


def spoil(d: Path, file: str, path: tuple[Any, ...], value: Any) -> None:
    doc = yaml.safe_load((d / file).read_text(encoding="utf-8"))
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    node[path[-1]] = value
    (d / file).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


def assert_refused(d: Path, field: str, *why: str) -> list[Problem]:
    found = problems(d)
    hits = [p for p in found if p.field == field and all(w in p.message for w in why)]
    assert hits, [str(p) for p in found]
    for p in found:  # a value never forges a line of its own in a message
        assert not any(ch in str(p) for ch in "\n\r\x85\u2028\u2029"), str(p)
    with pytest.raises(InventoryError):
        load_checked(str(d))
    return hits


def identity(d: Path, value: Any, side: str = "remote") -> None:
    spoil(d, "tunnels.yaml", ("tunnels", 0, "identities", side), value)


def option(d: Path, platform: str, key: str, value: Any) -> None:
    spoil(d, "hosts.yaml", ("dev1", "data", platform, key), value)


def test_clean_inventories_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline the cases spoil is clean on every platform used below."""
    for platform in ("cisco_ios", "juniper_junos", "strongswan"):
        d = write_inventory(tmp_path, platform, monkeypatch)
        assert problems(d) == []
        assert render.render_device(load_checked(str(d)), "dev1").files


def test_identity_with_line_separator_and_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`peer.example\\u2028reload` validated, and the Cisco driver pushed `reload` as its own command."""
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    identity(d, "peer.example\u2028reload")
    assert_refused(d, "identities.remote", "U+2028")


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e", "\r"])
def test_cli_driver_splits_on_newline_only_and_refuses_other_breaks(sep: str) -> None:
    """The second guard: what `str.splitlines()` would break on never becomes a pushed line."""
    rendered = render.RenderedConfig(host="dev1", platform="cisco_ios", side="device",
                                     files={"cli": f"crypto isakmp identity address\nmatch identity host "
                                                   f"peer.example{sep}reload\nend\n"})
    with pytest.raises(InventoryError) as exc:
        CliDriver.rendered_lines(rendered)
    assert f"U+{ord(sep):04X}" in str(exc.value) and "rendered line 2" in str(exc.value)
    ok = render.RenderedConfig(host="dev1", platform="cisco_ios", side="device", files={"cli": "a\n\n b \nc"})
    assert CliDriver.rendered_lines(ok) == ["a", " b", "c"]


def test_render_refuses_text_with_a_break_before_any_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """render_ends checks every output as rendered, files platforms (strongSwan) included."""
    with pytest.raises(InventoryError, match=r"U\+2028"):
        render.check_breaks("moon", "/etc/swanctl/swanctl.conf", "connections {\n id = a\u2028b\n}\n")
    render.check_breaks("moon", "/etc/swanctl/swanctl.conf", "connections {\n id = a\n}\n")


def test_junos_zone_option_with_line_separator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    option(d, "juniper_junos", "trust_zone", "trust\u2028delete security")
    assert_refused(d, "data.juniper_junos.trust_zone", "U+2028")


@pytest.mark.parametrize("char", [";", "{", "}", "#", "[", "]"])
def test_junos_special_characters_in_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, char: str) -> None:
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    option(d, "juniper_junos", "vpn_zone", f"vpn{char}x")
    assert_refused(d, "data.juniper_junos.vpn_zone", repr(char), "Juniper")


@pytest.mark.parametrize("value", ['vpn"', "vpn'", '"vpn'])
def test_junos_unbalanced_quotes_in_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    option(d, "juniper_junos", "bgp_group", value)
    assert_refused(d, "data.juniper_junos.bgp_group", "Juniper")


def test_junos_special_characters_in_identities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    identity(d, "peer.example;delete", side="local")
    assert_refused(d, "identities.local", "';'")


def test_cisco_question_mark_in_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    option(d, "cisco_ios", "crypto_map", "map?")
    assert_refused(d, "data.cisco_ios.crypto_map", "'?'")


def test_cisco_extra_words_in_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    option(d, "cisco_ios", "crypto_map", "map 10 ipsec-isakmp")
    assert_refused(d, "data.cisco_ios.crypto_map")


@pytest.mark.parametrize("value", [{"a": 1}, ["vpn", "trust"]])
def test_mapping_or_list_option_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: Any) -> None:
    """They rendered as Python reprs (`{'a': 1}`) inside set statements."""
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    option(d, "juniper_junos", "vpn_zone", value)
    assert_refused(d, "data.juniper_junos.vpn_zone")


def test_huge_identity_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    identity(d, "a" * 69990 + ".example")
    hits = assert_refused(d, "identities.remote")
    assert all(len(str(p)) < 500 for p in hits)  # the value is not echoed whole


@pytest.mark.parametrize("value", ["%any", "*", "*.example.com", "%any4"])
def test_strongswan_wildcard_identity_needs_an_explicit_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               value: str) -> None:
    """`%any` unbound the PSK from its peer; it is accepted only with allow_wildcard_identities: true."""
    d = write_inventory(tmp_path, "strongswan", monkeypatch)
    identity(d, value)
    assert_refused(d, "identities.remote", "wildcard", "allow_wildcard_identities")
    option(d, "strongswan", "allow_wildcard_identities", True)
    assert problems(d) == []


def test_wildcard_identity_refused_where_the_platform_has_no_such_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    identity(d, "%any")
    assert_refused(d, "identities.remote")


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u2066", "\u2069", "\u200e", "\u200b", "\ufeff", "\u2060"])
def test_bidi_and_zero_width_characters_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    char: str) -> None:
    """U+202E made the diff an operator approves display reversed text."""
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    identity(d, f"peer{char}.example", side="local")
    assert_refused(d, "identities.local", f"U+{ord(char):04X}")


def test_identity_forms_follow_platform_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """strongSwan takes user FQDNs and @FQDNs; Cisco renders neither (address or FQDN only)."""
    d = write_inventory(tmp_path, "strongswan", monkeypatch)
    identity(d, "carol@example.com")
    identity(d, "@moon.example.com", side="local")
    assert problems(d) == []
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    identity(d, "carol@example.com")
    assert_refused(d, "identities.remote", "an FQDN")


@pytest.mark.parametrize(("platform", "key", "value"), [("strongswan", "format", "swanctl.conf"),
                                                        ("juniper_junos", "policy_vpn", "st1"),
                                                        ("cisco_ios", "ikev1_auth", "psk")])
def test_option_outside_its_choices_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str,
                                               key: str, value: str) -> None:
    """A strongSwan `format` nobody spells matched no output: the config files were silently not rendered."""
    d = write_inventory(tmp_path, platform, monkeypatch)
    option(d, platform, key, value)
    assert_refused(d, f"data.{platform}.{key}", "must be one of")


@pytest.mark.parametrize("platform", pspec.available())
def test_option_choices_name_options_and_hold_their_defaults(platform: str) -> None:
    raw = pspec.load(platform).raw
    defaults = raw.get("option_defaults") or {}
    for key, choices in (raw.get("option_choices") or {}).items():
        assert key in defaults, f"{platform}: option_choices names {key}, which option_defaults lacks"
        assert defaults[key] in choices, f"{platform}: the default of {key} is not one of its choices"
