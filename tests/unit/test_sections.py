"""Which ipsec.conf conns the strongSwan files driver takes down before `ipsec update`.

The section rules are the shipped platform data (`files.take_down`), so these cases test what a
device would act on. The real effect on SAs is proven in the lab:
tests/lab/test_e2e.py::test_changed_proposal_replaces_the_sa.
"""

from __future__ import annotations

from typing import Any

import pytest

from tunnelsmith.platforms import sections
from tunnelsmith.platforms import spec as pspec


def rules() -> dict[str, Any]:
    take = pspec.load("strongswan").section("files")["take_down"]
    return next(r for r in take if r.get("when") == {"format": "ipsec"})["sections"]


BASE = """\
# Rendered by tunnelsmith for x (device side). Do not edit by hand.
config setup
    uniqueids=yes

conn %default
    authby=psk
    type=tunnel

conn t
    keyexchange=ikev2
    ike=aes128-sha256-modp2048!

conn t-1
    also=t
    leftsubnet=198.18.1.0/24
    auto=start

conn t-2
    also=t
    leftsubnet=198.18.2.0/24
    auto=start

conn u
    keyexchange=ikev1
    esp=aes128-sha1-modp1024!
    auto=start
"""



@pytest.mark.parametrize("case, edit, expected", [
    ("unchanged", lambda t: t, []),
    ("blanks and comments only", lambda t: t.replace("    also=t\n", "\talso=t   \n  # note\n\n"), []),
    ("one conn's ESP", lambda t: t.replace("esp=aes128-sha1", "esp=aes256-sha1"), ["u"]),
    ("one pair of a multi-pair tunnel", lambda t: t.replace("198.18.2.0", "198.18.3.0"), ["t-2"]),
    ("the shared IKE settings (also= parent)", lambda t: t.replace("ike=aes128", "ike=aes256"), ["t", "t-1", "t-2"]),
    ("conn %default", lambda t: t.replace("authby=psk", "authby=secret"), ["t", "t-1", "t-2", "u"]),
    ("a conn removed", lambda t: t[: t.index("conn u")], ["u"]),
])
def test_changed_conns_are_taken_down(case: str, edit: Any, expected: list[str]) -> None:
    assert sections.changed(BASE, edit(BASE), rules()) == expected, case


def test_nothing_known_before_means_nothing_taken_down() -> None:
    """No file on the device before (first deployment): nothing runs that could be stale."""
    assert sections.changed(None, BASE, rules()) == []


def test_removed_ipsec_conf_takes_every_conn_down() -> None:
    """Rolling back to "no ipsec.conf" (a first deployment undone): the old conns go."""
    assert sections.changed(BASE, None, rules()) == ["t", "t-1", "t-2", "u"]


def test_lines_outside_any_conn_are_not_a_section() -> None:
    text = BASE.replace("config setup\n    uniqueids=yes", "config setup\n    uniqueids=no")
    assert sections.changed(BASE, text, rules()) == []
