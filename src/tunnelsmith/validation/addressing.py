"""Addressing checks: overlapping subnets, tunnel inside addresses, cloud IP reuse, ping addresses.

Besides the inventory's own addresses they read only the provider's `rules:` (inside ranges,
per-connection cloud IPs).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from tunnelsmith import clouds
from tunnelsmith.model import Inventory, Net, Tunnel
from tunnelsmith.validation.reporting import Report, fmt


# --- subnets ---------------------------------------------------------------------------------
def _overlap(a: Net, b: Net) -> str:
    if a == b:
        return "is the same network as"
    if a.subnet_of(b):
        return "is inside"
    if b.subnet_of(a):
        return "contains"
    return "overlaps"


def check_subnets(inv: Inventory, r: Report) -> None:
    """Seed 001 (4.1): the two ends' subnets must neither overlap nor contain each other."""
    pairs_done: set[tuple[str, str]] = set()
    for t in inv.tunnels.values():
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        if t.routing.mode == "policy":
            for i, s in enumerate(t.routing.selectors):
                if s.local.overlaps(s.remote):
                    r.tunnel(t, f"routing.selectors[{i}]", f"local {s.local} {_overlap(s.local, s.remote)} "
                             f"remote {s.remote}; the two ends of a tunnel must not overlap or contain "
                             "each other")
        else:
            for route in t.routing.static_routes:
                for lan in device.lan_subnets:
                    if route.overlaps(lan):
                        r.tunnel(t, "routing.routes", f"route {route} {_overlap(route, lan)} the device's "
                                 f"own LAN {lan}; traffic for the LAN would be sent into the tunnel")
        if (device.name, cloud.name) in pairs_done:
            continue
        pairs_done.add((device.name, cloud.name))
        for lan in device.lan_subnets:
            for vpc in cloud.vpc_subnets:
                if lan.overlaps(vpc):
                    r.host(device.name, "data.lan_subnets", f"LAN {lan} {_overlap(lan, vpc)} VPC subnet {vpc} "
                           f"of {cloud.name} (tunnel {t.name}); the networks on both ends must not overlap")


# --- inside addresses ------------------------------------------------------------------------
def check_inside(inv: Inventory, r: Report) -> None:
    """Provider rules for tunnel inside addresses, and no two tunnels sharing an inside network."""
    by_device: dict[str, list[Tunnel]] = defaultdict(list)
    by_cloud: dict[str, list[Tunnel]] = defaultdict(list)
    for t in inv.tunnels.values():
        il = t.routing.inside_local
        if il is None:
            continue
        by_device[t.device].append(t)
        by_cloud[t.cloud].append(t)
        profile = clouds.profile(inv.clouds[t.cloud].provider)
        rule = profile.rules.get("inside") or {}
        if "network" in rule and not il.network.subnet_of(ipaddress.IPv4Network(rule["network"])):
            r.tunnel(t, "routing.inside.local", f"{profile.title} takes tunnel inside addresses from "
                     f"{rule['network']}; {il.network} is outside it")
        if "prefixlen" in rule and il.network.prefixlen != rule["prefixlen"]:
            r.tunnel(t, "routing.inside.local", f"{profile.title} needs a /{rule['prefixlen']} inside network, "
                     f"not /{il.network.prefixlen}")
        for reserved in rule.get("reserved") or []:
            if il.network.overlaps(ipaddress.IPv4Network(reserved)):
                r.tunnel(t, "routing.inside.local", f"{il.network} overlaps {reserved}, which "
                         f"{profile.title} reserves")
    for owner, groups in (("device", by_device), ("cloud gateway", by_cloud)):
        for name, ts in groups.items():
            for i, a in enumerate(ts):
                for b in ts[i + 1:]:
                    na, nb = a.routing.inside_local.network, b.routing.inside_local.network
                    if na.overlaps(nb) and not (owner == "cloud gateway" and a.device == b.device):
                        r.tunnel(b, "routing.inside.local", f"inside network {nb} overlaps {na} of tunnel "
                                 f"{a.name} on the same {owner} {name}")


# --- cloud IPs -------------------------------------------------------------------------------
def check_cloud_ips(inv: Inventory, r: Report) -> None:
    """One IKE peer pair per tunnel; and per-connection cloud IPs stay with one customer gateway."""
    by_pair: dict[tuple[str, Any], list[Tunnel]] = defaultdict(list)
    by_ip: dict[tuple[str, Any], list[Tunnel]] = defaultdict(list)
    for t in sorted(inv.tunnels.values(), key=lambda t: (t.device, t.index)):
        by_pair[(t.device, t.cloud_ip)].append(t)
        by_ip[(t.cloud, t.cloud_ip)].append(t)
    for (device, ip), ts in by_pair.items():
        for t in ts[1:]:
            r.tunnel(t, "cloud_ip", f"tunnel {ts[0].name} of {device} already uses cloud IP {ip}; two tunnels "
                     "between the same two public addresses cannot be told apart by IKE")
    for (cloud_name, ip), ts in by_ip.items():
        devices = {t.device for t in ts}
        if len(devices) < 2:
            continue
        profile = clouds.profile(inv.clouds[cloud_name].provider)
        first = ts[0]
        for t in ts[1:]:
            if t.device == first.device:
                continue
            if profile.rules.get("cloud_ips_per_connection"):
                r.tunnel(t, "cloud_ip", f"{profile.title} gives every connection its own outside IPs; {ip} "
                         f"already serves device {first.device} (tunnel {first.name})")
            elif inv.devices[t.device].public_ip == inv.devices[first.device].public_ip:
                r.tunnel(t, "cloud_ip", f"devices {first.device} and {t.device} share public IP "
                         f"{inv.devices[t.device].public_ip} and both peer with {ip}; the cloud identifies "
                         "its customer gateway by that address")


# --- ping ------------------------------------------------------------------------------------
def check_ping(inv: Inventory, r: Report) -> None:
    """The verification ping must travel through the tunnel: both ends inside protected ranges."""
    for t in inv.tunnels.values():
        if t.ping is None:
            continue
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        ro = t.routing
        local: list[Net] = [s.local for s in ro.selectors]
        remote: list[Net] = [s.remote for s in ro.selectors] + list(ro.static_routes)
        if ro.route_based:
            local += list(device.lan_subnets)
            if ro.inside_local is not None:
                local.append(ipaddress.IPv4Network(f"{ro.inside_local.ip}/32"))
            if ro.inside_remote is not None:
                remote.append(ipaddress.IPv4Network(f"{ro.inside_remote}/32"))
            if ro.bgp is not None:
                local += list(ro.bgp.advertise)
                remote += list(cloud.vpc_subnets)
        for field, ip, nets, side in (("ping.source", t.ping.source, local, "local (device)"),
                                      ("ping.target", t.ping.target, remote, "remote (cloud)")):
            if not any(ip in n for n in nets):
                r.tunnel(t, field, f"{ip} is not inside the tunnel's protected {side} ranges "
                         f"{fmt(dict.fromkeys(nets)) or '(none)'}; the ping would not cross the tunnel")
