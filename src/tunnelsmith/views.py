"""Build `TunnelEnd` views (one tunnel seen from the device or the cloud side) and MTU/MSS.

MTU rule (seed 001, 3.7): user MTU = min(WAN MTU, path MTU) - 101 (IPsec overhead), and
MSS = MTU - 40 (IP + TCP headers): 1399 / 1359 at 1500. A cloud profile may fix its own values
(AWS: 1436 / 1387); a tunnel may override both.
"""

from __future__ import annotations

from tunnelsmith import clouds
from tunnelsmith.model import CloudGateway, Device, Inventory, Side, Tunnel, TunnelEnd

IPSEC_OVERHEAD = 101
TCP_IP_HEADERS = 40


ETHERNET_MTU = 1500


def mtu_mss(device: Device, cloud: CloudGateway, tunnel: Tunnel) -> tuple[int, int]:
    """(tunnel MTU, TCP MSS) for one tunnel.

    A profile's fixed values (AWS 1436 / 1387) are published for a 1500-byte underlay; when the
    device's WAN or path MTU is smaller (PPPoE: 1492) both shrink by the difference, otherwise the
    encrypted packets would no longer fit the WAN link.
    """
    profile = clouds.profile(cloud.provider)
    underlay = min(device.wan_mtu, device.path_mtu)
    shortfall = max(0, ETHERNET_MTU - underlay)
    profile_mtu = profile.mtu - shortfall if profile.mtu else None
    profile_mss = profile.mss - shortfall if profile.mss else None
    mtu = tunnel.mtu or profile_mtu or (underlay - IPSEC_OVERHEAD)
    mss = tunnel.mss or (profile_mss if (profile_mss and not tunnel.mtu) else None) or (mtu - TCP_IP_HEADERS)
    return mtu, mss


def end(inv: Inventory, tunnel: Tunnel, side: Side) -> TunnelEnd:
    device = inv.devices[tunnel.device]
    cloud = inv.clouds[tunnel.cloud]
    mtu, mss = mtu_mss(device, cloud, tunnel)
    r = tunnel.routing
    if side == "device":
        return TunnelEnd(
            tunnel=tunnel, side=side, local_ip=device.public_ip, remote_ip=tunnel.cloud_ip,
            local_id=tunnel.local_id, remote_id=tunnel.remote_id, selectors=r.selectors,
            inside_local=r.inside_local, inside_remote=r.inside_remote, routes=r.static_routes,
            local_asn=r.bgp.local_asn if r.bgp else device.bgp_asn,
            remote_asn=r.bgp.remote_asn if r.bgp else cloud.bgp_asn, mtu=mtu, mss=mss)
    # The cloud side: everything mirrored. Its "routes" are the device's LAN prefixes.
    inside_local = inside_remote = None
    if r.inside_local is not None and r.inside_remote is not None:
        from ipaddress import IPv4Interface

        inside_local = IPv4Interface(f"{r.inside_remote}/{r.inside_local.network.prefixlen}")
        inside_remote = r.inside_local.ip
    cloud_routes = tuple(dict.fromkeys(s.local for s in r.selectors)) if r.route_based else ()
    return TunnelEnd(
        tunnel=tunnel, side=side, local_ip=tunnel.cloud_ip, remote_ip=device.public_ip,
        local_id=tunnel.remote_id, remote_id=tunnel.local_id,
        selectors=tuple(s.mirrored() for s in r.selectors), inside_local=inside_local,
        inside_remote=inside_remote, routes=cloud_routes,
        local_asn=r.bgp.remote_asn if r.bgp else cloud.bgp_asn,
        remote_asn=r.bgp.local_asn if r.bgp else device.bgp_asn, mtu=mtu, mss=mss)


def device_ends(inv: Inventory, device: str) -> list[TunnelEnd]:
    return [end(inv, t, "device") for t in inv.tunnels_of(device)]


def cloud_ends(inv: Inventory, cloud: str) -> list[TunnelEnd]:
    return [end(inv, t, "cloud") for t in inv.tunnels_of_cloud(cloud)]
