"""The cloud side of the intent, written the way the provider's console asks for it.

A cloud VPN gateway is configured by hand in a web console (or from a parameter sheet), not over
SSH. `render_console` fills `templates/clouds/<provider>.console.j2` with the cloud's view of
every tunnel (`views.cloud_ends`: local = the cloud), grouped by connection (one cloud gateway +
one device), so an operator can copy each form field. Labels and spellings are the console's own
and live in the template, never here. Pre-shared keys are masked unless `show_secrets=True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from tunnelsmith import clouds, views
from tunnelsmith import secrets as secretmod
from tunnelsmith.model import CloudGateway, Device, Inventory, TunnelEnd
from tunnelsmith.resources import clouds_root


@dataclass(frozen=True)
class Connection:
    """What a console calls one VPN/IPsec connection: one cloud gateway with one device."""

    device: Device
    ends: list[TunnelEnd]  # cloud-side views of this device's tunnels, in the device's order

    @property
    def modes(self) -> list[str]:
        return sorted({e.routing.mode for e in self.ends})

    @property
    def bgp(self) -> bool:
        return any(e.routing.mode == "bgp" for e in self.ends)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(clouds_root())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # plain text for an operator, not HTML
    )


def template_name(provider: str) -> str:
    return f"{provider}.console.j2"


def render_console(inv: Inventory, cloud: str, *, show_secrets: bool = False) -> str:
    """The console forms (or parameter sheet) for one cloud gateway; PSKs masked by default."""
    gw: CloudGateway = inv.clouds[cloud]
    profile = clouds.profile(gw.provider)
    ends = views.cloud_ends(inv, cloud)
    by_device: dict[str, list[TunnelEnd]] = {}
    for e in sorted(ends, key=lambda e: (e.tunnel.device, e.index)):
        by_device.setdefault(e.tunnel.device, []).append(e)
    connections = [Connection(device=inv.devices[d], ends=es) for d, es in by_device.items()]
    psk: dict[str, str] = {}
    for e in ends:
        if show_secrets:
            psk[e.name] = secretmod.resolve(e.tunnel.psk, Path(inv.directory))
        else:
            psk[e.name] = f"{secretmod.MASK} ({e.tunnel.psk.describe()}; --show-secrets prints it)"
    text = _environment().get_template(template_name(gw.provider)).render(
        cloud=gw, profile=profile, connections=connections, ends=ends, psk=psk, show_secrets=show_secrets)
    return text
