"""Which conns the ipsec.conf activation takes down before `ipsec update`, run as shipped.

The two activation commands come from the strongSwan platform data; they run with `sh` against
a temporary copy of /etc (the path is rewritten) and with `ipsec down` replaced by `echo`, so
the test sees exactly the conn list the device would act on. Real effect on SAs: test_e2e.py,
test_changed_proposal_replaces_the_legacy_sa.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tunnelsmith.platforms import spec as pspec

STAMP = "tunnelsmith/ipsec.conf.active"
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


def _commands() -> tuple[str, str]:
    steps = [s["command"] for s in pspec.load("strongswan").section("files")["activate"]
             if s.get("when") == {"format": "ipsec"}]
    compute = next(c for c in steps if "ipsec.down" in c and "awk" in c)
    down = next(c for c in steps if "ipsec down" in c)
    # ordering matters: the list is taken down before `ipsec update`, the copy is made after it
    assert steps.index(compute) < steps.index(down) < steps.index("ipsec update") < next(
        i for i, c in enumerate(steps) if STAMP in c and "cp " in c)
    return compute, down


def taken_down(tmp: Path, active: str | None, new: str | None) -> list[str]:
    etc = tmp / "etc"
    (etc / "tunnelsmith").mkdir(parents=True, exist_ok=True)
    for rel, text in ((STAMP, active), ("ipsec.conf", new)):
        (etc / rel).unlink(missing_ok=True)
        if text is not None:
            (etc / rel).write_text(text)
    compute, down = _commands()
    assert compute.startswith("(cd /etc;")
    subprocess.run(["sh", "-c", compute.replace("cd /etc;", f"cd {etc};", 1)], check=True)
    out = subprocess.run(["sh", "-c", down.replace("/etc/", f"{etc}/").replace("ipsec down", "echo DOWN")],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("taken down:")
    return sorted(out.split(":", 1)[1].split())


@pytest.mark.parametrize("case, edit, expected", [
    ("unchanged", lambda t: t, []),
    ("blanks and comments only", lambda t: t.replace("    also=t\n", "\talso=t   \n  # note\n\n"), []),
    ("one conn's ESP", lambda t: t.replace("esp=aes128-sha1", "esp=aes256-sha1"), ["u"]),
    ("one pair of a multi-pair tunnel", lambda t: t.replace("198.18.2.0", "198.18.3.0"), ["t-2"]),
    ("the shared IKE settings (also= parent)", lambda t: t.replace("ike=aes128", "ike=aes256"), ["t", "t-1", "t-2"]),
    ("conn %default", lambda t: t.replace("authby=psk", "authby=secret"), ["t", "t-1", "t-2", "u"]),
    ("a conn removed", lambda t: t[: t.index("conn u")], ["u"]),
])
def test_changed_conns_are_taken_down(tmp_path: Path, case: str, edit, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert taken_down(tmp_path, BASE, edit(BASE)) == expected, case


def test_first_activation_takes_nothing_down(tmp_path: Path) -> None:
    """Without the copy of what was activated, nothing is known to differ from what starter runs."""
    assert taken_down(tmp_path, None, BASE) == []


def test_removed_ipsec_conf_takes_every_conn_down(tmp_path: Path) -> None:
    """Rolling back to "no ipsec.conf" (a first deployment undone): the old conns go."""
    assert taken_down(tmp_path, BASE, None) == ["t", "t-1", "t-2", "u"]
