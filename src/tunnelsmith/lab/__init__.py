"""The local lab: real peers in network namespaces (see /work/shared/LAB.md and `lab.api`)."""

from tunnelsmith.lab.api import (
    block_ike,
    charon_uris,
    check_host_routes,
    cloud_log,
    device_ssh_params,
    down,
    exec_in,
    reload_cloud,
    status,
    swanctl,
    up,
)
from tunnelsmith.lab.plan import LabPlan, address_problems, route_conflicts
from tunnelsmith.lab.status import LabStatus, NodeStatus

__all__ = [
    "LabPlan",
    "LabStatus",
    "NodeStatus",
    "address_problems",
    "block_ike",
    "charon_uris",
    "check_host_routes",
    "cloud_log",
    "device_ssh_params",
    "down",
    "exec_in",
    "reload_cloud",
    "route_conflicts",
    "status",
    "swanctl",
    "up",
]
