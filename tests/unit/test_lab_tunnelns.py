"""The tunnel-namespace emulation of a tunnel interface: addressing, NAT rules and cleanup records.

The namespaces themselves are built for real by the lab tests (tests/lab/test_twins.py); this
checks what is decided before any command runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunnelsmith.lab import tunnelns
from tunnelsmith.lab.tunnelns import TunnelNs


def _spec(tmp_path: Path, index: int = 2, **kw: object) -> TunnelNs:
    base = dict(ns=f"ts-n-r1-{index}", router_ns="ts-d-r1", index=index, link="198.19.240.4/30",
                peer="203.0.113.30", public="198.51.100.30", wan_if="wan0", dir=str(tmp_path / f"t{index}"),
                inside="169.254.20.2/30", inside_remote="169.254.20.1", routes=("198.19.48.0/24",))
    base.update(kw)
    return TunnelNs(**base)  # type: ignore[arg-type]


def test_addresses_interface_and_socket(tmp_path: Path) -> None:
    t = _spec(tmp_path)
    assert (str(t.router_addr), str(t.tunnel_addr)) == ("198.19.240.5/30", "198.19.240.6/30")
    assert t.router_if == "ts-tun2" and len(t.router_if) <= 15
    assert t.uri == f"unix://{tmp_path}/t2/charon.vici" and t.table == 1002


def test_nat_moves_only_this_peers_ike_to_this_tunnel(tmp_path: Path) -> None:
    rules = tunnelns._nat_rules(_spec(tmp_path))
    assert "ip saddr 203.0.113.30 ip daddr 198.51.100.30 udp dport { 500, 4500 } dnat to 198.19.240.6" in rules
    assert 'ip saddr 198.19.240.6 ip daddr 203.0.113.30 oifname "wan0" snat to 198.51.100.30' in rules
    assert "table ip ts_tun2" in rules


def test_build_refuses_a_namespace_without_the_lab_prefix(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="without the lab prefix"):
        tunnelns.build(_spec(tmp_path, ns="prod-vrf"))


def test_teardown_all_reads_every_record_and_skips_broken_ones(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    torn: list[TunnelNs] = []
    monkeypatch.setattr(tunnelns, "teardown", torn.append)
    for i in (1, 2):
        t = _spec(tmp_path, index=i, sources=("198.19.48.0/24",))
        Path(t.dir).mkdir(parents=True)
        tunnelns._record(t, None)
    (tmp_path / "t3").mkdir()
    (tmp_path / "t3" / tunnelns.RECORD).write_text("{not json")
    assert tunnelns.teardown_all(tmp_path) == ["ts-n-r1-1", "ts-n-r1-2"]
    assert torn[0] == _spec(tmp_path, index=1, sources=("198.19.48.0/24",))  # tuples round-trip
    assert json.loads((tmp_path / "t1" / tunnelns.RECORD).read_text())["charon"] is None
    assert tunnelns.recorded(torn[0]) is None  # no charon was ever started
