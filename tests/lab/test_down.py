"""down stops only what it recorded, deletes only its `ts-` objects, and leaves nothing behind."""

from __future__ import annotations

import json
import subprocess

from tunnelsmith import lab as labapi
from tunnelsmith.lab import state
from tunnelsmith.lab.state import Proc

from .conftest import Lab


def _netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def test_down_leaves_nothing_then_up_gives_a_fresh_lab(lab: Lab) -> None:
    # what a used box has written under /etc, which a fresh box must not show
    labapi.exec_in(lab.lab_dir, "onprem-a", ["sh", "-c", "mkdir -p /etc/tunnelsmith && echo x > /etc/tunnelsmith/x"
                                             " && echo 'conn left-over' >> /etc/ipsec.conf"])
    before = state.load(lab.lab_dir)  # down works from this record alone, no inventory
    procs = [p for n in before.nodes.values() for p in n.procs.values()]
    assert procs and before.namespaces and before.links
    records = [json.loads(r.read_text()) for r in lab.lab_dir.glob("nodes/*/tunnels/*/tunnel.json")]
    tunnel_ns = {r["tunnel"]["ns"] for r in records}
    charons = [Proc(**r["charon"]) for r in records if r["charon"]]
    assert len(tunnel_ns) == len(charons) == 20  # 10 route-based twin tunnels, a namespace on each end
    assert tunnel_ns <= _netns() and all(p.alive() for p in charons)
    result = labapi.down(lab.lab_dir)
    assert any(c.startswith("netns ts-inet") for c in result.changed)
    assert not any(p.alive() for p in procs + charons)
    assert not (_netns() & (set(before.namespaces) | tunnel_ns))
    assert not (_root_links() & set(before.links))
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    assert not any(f"dev {link} " in routes for link in before.links)
    after = state.load(lab.lab_dir)
    assert after.namespaces == [] and after.links == [] and after.nodes == {}
    assert labapi.down(lab.lab_dir).changed == []  # a second down is a no-op
    assert not labapi.status(None, lab.lab_dir).up

    # Bring the session lab back: a device comes back as a fresh box without tunnel config.
    again = labapi.up(lab.inv, lab.lab_dir)
    assert again.up, again.table()
    conf_d = labapi.exec_in(lab.lab_dir, "onprem-a", ["ls", "-A", "/etc/swanctl/conf.d"]).stdout
    assert conf_d.strip() == ""
    conns = labapi.exec_in(lab.lab_dir, "onprem-a", ["swanctl", "--list-conns"]).stdout
    assert conns.strip() == ""
    # onprem-a is an ipsec.conf box: fresh means nothing configured, nothing left from the last lab
    for device in ("onprem-a", "onprem-b"):
        conf = labapi.exec_in(lab.lab_dir, device, ["cat", "/etc/ipsec.conf"]).stdout
        assert conf.split() == ["config", "setup"], conf
        assert labapi.exec_in(lab.lab_dir, device, ["cat", "/etc/ipsec.secrets"]).stdout == ""
        assert labapi.exec_in(lab.lab_dir, device, ["ls", "/etc/tunnelsmith"], check=False).returncode != 0
    status = labapi.exec_in(lab.lab_dir, "onprem-a", ["ipsec", "statusall"]).stdout
    assert "Connections:\nSecurity Associations (0 up, 0 connecting):" in status, status
