"""Explain a failed tunnel the way an expert would, from evidence, in one line.

Evidence: the device daemon's log lines for this tunnel, optionally the peer's (a cloud that
exposes its VPN log; the lab's cloud gateways do), the SA state, and reachability probes. The
log knowledge is data: each platform's `verify.yaml` has `diagnosis.patterns` (regex -> class,
ordered, first match wins) and `diagnosis.peer_patterns` for the responder's view. Generic
reasoning here only combines that with SA state and probes:

* only the latest negotiation attempt counts: device log lines from the last attempt start
  (`diagnosis.attempt_start`), peer log lines stamped from then on (`diagnosis.timestamp`).
* phase 1 down and no log match: the peer never answered -> peer_unreachable (and, if it
  answers ICMP, "UDP 500/4500 blocked?"); it answered part of the exchange, then went silent
  -> psk_mismatch (IKEv1 main mode: a wrong key makes message 5 undecryptable).
* phase 2 rejected with NO_PROPOSAL_CHOSEN: pfs_mismatch when the peer's log shows offered and
  configured proposals that differ only in the DH group, else proposal_mismatch.
* phases up but ping lost: no_route, with what the route probe and the SA counters show.

Every log key is the platform's: a key the platform's data lacks means that evidence is not
available (no log lines name the tunnel without `line_keys`; no proposal comparison without
`received_proposals`, `configured_proposals`, `proposal_split` and `dh_token`; no timestamps
without `timestamp.regex` and `timestamp.format`), never a guess in another vendor's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tunnelsmith.model import TunnelEnd
from tunnelsmith.platforms.spec import PlatformSpec
from tunnelsmith.verify import TunnelVerdict

CLASSES = ("psk_mismatch", "proposal_mismatch", "peer_unreachable", "no_peer_config", "pfs_mismatch",
           "selector_mismatch", "no_route", "unknown")


@dataclass
class Evidence:
    device_log: str = ""
    peer_log: str | None = None
    peer_platform: str | None = None  # which platform's log format peer_log is in
    probes: dict[str, Any] = field(default_factory=dict)  # peer_icmp: bool, route: str, counters_before...


def relevant_lines(log: str, end: TunnelEnd, spec: PlatformSpec, peer_view: bool = False) -> list[str]:
    """Log lines about this tunnel: the platform says how lines name a connection (`line_keys`).

    No `line_keys`: the platform's log cannot be tied to a tunnel, so there are no lines. `window`
    keeps only the last N of them (no `window`: all).
    """
    diag = spec.section("diagnosis")
    keys = [k.format(name=end.name, remote_ip=end.local_ip if peer_view else end.remote_ip,
                     local_ip=end.remote_ip if peer_view else end.local_ip)
            for k in diag.get("line_keys") or []]
    if not keys:
        return []
    lines = [ln for ln in log.splitlines() if any(k in ln for k in keys)]
    window = diag.get("window")
    return lines[-int(window):] if window else lines


def _timestamp(line: str, diag: dict[str, Any]) -> datetime | None:
    ts = diag.get("timestamp") or {}
    if not ts.get("regex") or not ts.get("format"):
        return None
    m = re.search(ts["regex"], line)
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.group(1).split()), ts["format"])
    except ValueError:
        return None


def latest_attempt(lines: list[str], diag: dict[str, Any]) -> tuple[list[str], datetime | None]:
    """Only the most recent negotiation attempt counts: older failures are history, not evidence."""
    rx = diag.get("attempt_start")
    if not rx:
        return lines, None
    starts = [i for i, ln in enumerate(lines) if re.search(rx, ln)]
    if not starts:
        return lines, None
    window = lines[starts[-1]:]
    return window, _timestamp(window[0], diag)


def since(lines: list[str], when: datetime | None, diag: dict[str, Any], slack: float = 2.0) -> list[str]:
    """Lines stamped at or after `when` (all lines when either side has no timestamps)."""
    if when is None:
        return lines
    keep = []
    for ln in lines:
        t = _timestamp(ln, diag)
        if t is not None and (t.year == 1900) != (when.year == 1900):
            # syslog stamps carry no year (strptime gives 1900): compare within the other's year
            t = t.replace(year=when.year) if t.year == 1900 else t.replace(year=1900)
        if t is None or (t - when).total_seconds() >= -slack:
            keep.append(ln)
    return keep


def _match(patterns: list[dict[str, Any]], lines: list[str], phase: str | None) -> tuple[dict[str, Any], str] | None:
    for pat in patterns:
        if phase and pat.get("phase") not in (None, phase):
            continue
        rx = re.compile(pat["regex"])
        for ln in reversed(lines):  # the most recent evidence counts
            if rx.search(ln):
                return pat, ln
    return None


def _proposal_diff(lines: list[str], spec: PlatformSpec) -> str | None:
    """'PFS ...' when offered and configured phase 2 proposals differ only in the DH group.

    The platform's data says how its log shows them: `received_proposals` / `configured_proposals`
    (group 1: the phase 2 proposal list), `proposal_split` (regex between algorithm tokens) and
    `dh_token` (a token that is a DH group). Without all four there is nothing to compare.
    """
    diag = spec.section("diagnosis")
    keys = ("received_proposals", "configured_proposals", "proposal_split", "dh_token")
    if not all(diag.get(k) for k in keys):
        return None
    rx_recv, rx_conf, rx_split, rx_dh = (re.compile(diag[k]) for k in keys)
    recv = conf = None
    for ln in lines:
        if m := rx_recv.search(ln):
            recv = m.group(1)
        if m := rx_conf.search(ln):
            conf = m.group(1)
    if not recv or not conf:
        return None

    def split(p: str) -> tuple[set[str], set[str]]:
        toks = {t for t in rx_split.split(p) if t}
        return {t for t in toks if not rx_dh.match(t)}, {t for t in toks if rx_dh.match(t)}

    r_other, r_dh = split(recv)
    c_other, c_dh = split(conf)
    if r_dh != c_dh and (r_other & c_other) == r_other | c_other:
        return f"PFS group offered {sorted(r_dh) or ['none']} vs configured {sorted(c_dh) or ['none']}"
    if r_other != c_other:
        return f"ESP proposal offered {recv.strip()} vs configured {conf.strip()}"
    return None


def diagnose(end: TunnelEnd, verdict: TunnelVerdict, evidence: Evidence, spec: PlatformSpec,
             peer_spec: PlatformSpec | None = None) -> dict[str, str] | None:
    if verdict.ok:
        return None
    diag = spec.section("diagnosis")
    peer_diag = (peer_spec or spec).section("diagnosis")
    lines, started = latest_attempt(relevant_lines(evidence.device_log, end, spec), diag)
    peer_lines = since(relevant_lines(evidence.peer_log or "", end, peer_spec or spec, peer_view=True),
                       started, peer_diag)
    p1_up = verdict.phase1.get("state") == "up"
    p2_up = bool(verdict.phase2) and all(c["state"] == "up" for c in verdict.phase2)
    phase = "1" if not p1_up else ("2" if not p2_up else "data")

    def result(cls: str, message: str) -> dict[str, str]:
        return {"class": cls, "message": message}

    if phase in ("1", "2"):
        # The peer's own words are the strongest evidence when we have them.
        peer_hit = _match(peer_diag.get("peer_patterns") or [], peer_lines, phase)
        hit = _match(diag.get("patterns") or [], lines, phase)
        chosen = peer_hit or hit
        if chosen:
            pat, line = chosen
            cls = pat["class"]
            if cls == "proposal_mismatch" and phase == "2":
                why = _proposal_diff(peer_lines, peer_spec or spec)
                if why and why.startswith("PFS"):
                    return result("pfs_mismatch", f"phase 2 rejected: {why}")
                if why:
                    return result("proposal_mismatch", f"phase 2 rejected: {why}")
            msg = pat.get("message", cls).format(peer=end.remote_ip, name=end.name)
            src = "peer log" if chosen is peer_hit else "device log"
            return result(cls, f"{msg} ({src}: {line.strip()[-160:]})")
    if phase == "1":
        answered = _match(diag.get("answered") or [], lines, None)
        if answered and _match(diag.get("gave_up") or [], lines, None):
            return result("psk_mismatch", f"{end.remote_ip} answered the key exchange but authentication never "
                          "completed: the pre-shared keys (or IDs) differ")
        icmp = evidence.probes.get("peer_icmp")
        if icmp is True:
            return result("peer_unreachable", f"no IKE answer from {end.remote_ip} though it answers ping: "
                          "UDP 500/4500 is blocked on the path, or the peer has no VPN configured for us")
        if icmp is False:
            return result("peer_unreachable", f"{end.remote_ip} answers neither IKE nor ping: check the WAN path and "
                          "the peer's public IP")
        return result("peer_unreachable", f"no IKE answer from {end.remote_ip} (UDP 500/4500)")
    if phase == "2":
        return result("unknown", "phase 1 is up but a CHILD SA is missing and no log line says why; check the "
                      "selectors and proposals on both ends")
    # Both phases up, traffic does not pass.
    route = evidence.probes.get("route")
    out_grew = evidence.probes.get("bytes_out_grew")
    in_grew = evidence.probes.get("bytes_in_grew")
    if out_grew is False:
        return result("no_route", f"ping {verdict.ping and verdict.ping.get('target')} did not enter the tunnel "
                      f"(CHILD SA bytes out did not grow); route on the device: {route or 'unknown'}")
    if out_grew and in_grew is False:
        return result("no_route", "traffic leaves through the tunnel but nothing comes back: the cloud side has no "
                      "route back, a security group/ACL drops it, or the WAN interface source-NATs the flow")
    return result("no_route", f"SAs are up but ping fails; route on the device: {route or 'unknown'}")
