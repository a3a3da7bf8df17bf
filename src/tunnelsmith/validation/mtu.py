"""MTU and MSS checks: the tunnel MTU must fit the underlay and the MSS must fit the tunnel MTU.
"""

from __future__ import annotations

from tunnelsmith import views
from tunnelsmith.model import Inventory
from tunnelsmith.validation.reporting import Report

MIN_MTU = 576
TCP_IP_HEADERS = views.TCP_IP_HEADERS


# --- MTU -------------------------------------------------------------------------------------
def check_mtu(inv: Inventory, r: Report) -> None:
    for t in inv.tunnels.values():
        device, cloud = inv.devices[t.device], inv.clouds[t.cloud]
        mtu, mss = views.mtu_mss(device, cloud, t)
        underlay = min(device.wan_mtu, device.path_mtu)
        if mtu < MIN_MTU:
            r.tunnel(t, "mtu", f"tunnel MTU {mtu} (from WAN MTU {device.wan_mtu}, path MTU {device.path_mtu}) "
                     f"is below the IPv4 minimum of {MIN_MTU}")
        if t.mtu is not None and t.mtu > underlay:
            r.tunnel(t, "mtu", f"tunnel MTU {t.mtu} exceeds the underlay MTU {underlay} "
                     f"(min of WAN {device.wan_mtu} and path {device.path_mtu})")
        if mss > mtu - TCP_IP_HEADERS:
            r.tunnel(t, "mss", f"MSS {mss} exceeds tunnel MTU {mtu} - {TCP_IP_HEADERS} = {mtu - TCP_IP_HEADERS}; "
                     "TCP segments would not fit")
