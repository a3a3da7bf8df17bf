"""Vendor-neutral IPsec status, filled from any platform's parsed show output.

Each platform's TextFSM templates produce rows with the field names below (lower case);
`from_rows` turns them into these objects. Field names are the contract between the
per-platform parser data and the generic verifier.

IKE rows:   name, state, version, local_host, remote_host, local_id, remote_id, proposal,
            established_seconds
CHILD rows: ike_name, name, state, local_ts (list), remote_ts (list), bytes_in, bytes_out,
            packets_in, packets_out, proposal, spi_in, spi_out, remote_host (the peer, where the
            output names one per SA: how an SA is told apart when it shows no IKE SA name)
Ping rows:  sent, received, loss_pct, rtt_min, rtt_avg, rtt_max

States are neutral words (STATES): `up` (the SA carries traffic), `connecting` (being
negotiated), `down` (anything else). A parser's TextFSM `state` is the vendor's word; its
`state_map` in platform.yaml (regex -> neutral word, first match wins, no match: `down`) turns
it into a neutral one, and the vendor's word stays in `vendor_state` for messages. Nothing here
knows a vendor's words.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

UP, CONNECTING, DOWN = "up", "connecting", "down"
STATES = (UP, CONNECTING, DOWN)


def neutral_state(vendor_state: str, state_map: dict[str, str]) -> str:
    """The neutral word for a vendor's state: the first `state_map` regex that matches, else `down`."""
    for pattern, neutral in state_map.items():
        if re.search(pattern, vendor_state):
            return neutral
    return DOWN


def map_states(rows: list[dict[str, Any]], state_map: dict[str, str]) -> list[dict[str, Any]]:
    """Give parsed rows neutral states (`state`), keeping the device's word in `vendor_state`."""
    for r in rows:
        vendor = str(r.get("state") or "")
        r["vendor_state"] = vendor
        r["state"] = neutral_state(vendor, state_map)
    return rows


@dataclass
class IkeSa:
    name: str
    state: str
    version: int | None = None
    local_host: str | None = None
    remote_host: str | None = None
    local_id: str | None = None
    remote_id: str | None = None
    proposal: str | None = None
    established_seconds: int | None = None
    vendor_state: str | None = None  # the device's own word for `state`

    @property
    def up(self) -> bool:
        return self.state == UP


@dataclass
class ChildSa:
    ike_name: str
    name: str
    state: str
    local_ts: list[str] = field(default_factory=list)
    remote_ts: list[str] = field(default_factory=list)
    bytes_in: int | None = None
    bytes_out: int | None = None
    packets_in: int | None = None
    packets_out: int | None = None
    proposal: str | None = None
    vendor_state: str | None = None
    remote_host: str | None = None

    @property
    def up(self) -> bool:
        return self.state == UP


@dataclass
class DeviceStatus:
    ike: list[IkeSa] = field(default_factory=list)
    children: list[ChildSa] = field(default_factory=list)

    def children_for(self, ike_name: str) -> list[ChildSa]:
        return [c for c in self.children if c.ike_name == ike_name]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PingResult:
    source: str
    target: str
    sent: int
    received: int
    loss_pct: float
    rtt_ms: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(v: Any) -> int | None:
    if v in (None, "", []):
        return None
    try:
        return int(str(v).replace(",", ""))
    except ValueError:
        return None


def _list(v: Any) -> list[str]:
    if v in (None, ""):
        return []
    if isinstance(v, list):
        return [x for x in (str(i).strip() for i in v) if x]
    return [x for x in str(v).replace(",", " ").split() if x]


def from_rows(ike_rows: list[dict[str, Any]], child_rows: list[dict[str, Any]]) -> DeviceStatus:
    st = DeviceStatus()
    for r in ike_rows:
        st.ike.append(IkeSa(name=str(r.get("name", "")), state=str(r.get("state", "")),
                            version=_int(r.get("version")), local_host=r.get("local_host") or None,
                            remote_host=r.get("remote_host") or None, local_id=r.get("local_id") or None,
                            remote_id=r.get("remote_id") or None, proposal=r.get("proposal") or None,
                            established_seconds=_int(r.get("established_seconds")),
                            vendor_state=r.get("vendor_state") or None))
    for r in child_rows:
        st.children.append(ChildSa(ike_name=str(r.get("ike_name", "")), name=str(r.get("name", "")),
                                    state=str(r.get("state", "")), local_ts=_list(r.get("local_ts")),
                                    remote_ts=_list(r.get("remote_ts")), bytes_in=_int(r.get("bytes_in")),
                                    bytes_out=_int(r.get("bytes_out")), packets_in=_int(r.get("packets_in")),
                                    packets_out=_int(r.get("packets_out")), proposal=r.get("proposal") or None,
                                    vendor_state=r.get("vendor_state") or None,
                                    remote_host=r.get("remote_host") or None))
    return st
