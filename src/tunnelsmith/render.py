"""Render one host's configuration from the intent with the platform's Jinja2 templates.

A platform's `platform.yaml` lists, per side (`device`, `cloud`), the outputs to render:
    sides:
      device:
        outputs:
          - {path: /etc/swanctl/swanctl.conf, template: swanctl.conf.j2, when: {format: swanctl}}
`when` is matched against the device's platform options (with the platform's
`option_defaults`). CLI platforms render one output, conventionally `path: cli`.

Templates see: `ends` (list of TunnelEnd), `device`, `cloud`, `psk` (tunnel name -> value),
`options`, `platform`, `mtu_mss`, plus filters: `spell('<table>')` (algorithm spelling; raises
UnsupportedAlgorithm when the platform cannot do it), `netmask`, `wildcard`, `network`,
`prefixlen`, `ip`, `quote` (platform string quoting), `hostmask`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2

from tunnelsmith import secrets as secretmod
from tunnelsmith import views
from tunnelsmith.errors import InventoryError, Problem
from tunnelsmith.model import Inventory, Side, TunnelEnd
from tunnelsmith.platforms import options as popts
from tunnelsmith.platforms import spec as pspec

SecretSource = Callable[[str], str]  # tunnel name -> PSK value


@dataclass
class RenderedConfig:
    host: str
    platform: str
    side: str
    files: dict[str, str] = field(default_factory=dict)  # output path -> content

    def text(self, masked: bool = True) -> str:
        parts = []
        for path, content in self.files.items():
            parts.append(f"### {path}\n{content.rstrip()}\n")
        out = "\n".join(parts)
        return secretmod.mask(out) if masked else out

    def lines(self, path: str | None = None) -> list[str]:
        """The non-blank lines of one output (CLI platforms push these one by one).

        Split on "\\n" only: `str.splitlines()` also breaks on U+2028, U+0085, VT, FF ..., which
        would turn half a value into a command of its own. A line that still holds such a break
        is refused (`check_breaks`); validation refuses those values first, this is the second guard.
        """
        key = path if path else next(iter(self.files), "")
        content = self.files.get(key, "")
        check_breaks(self.host, key, content)
        return [ln.rstrip(" \t") for ln in content.split("\n") if ln.strip(" \t")]


# Everything `str.splitlines()` or a terminal treats as a line break, except "\n" itself.
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def check_breaks(host: str, path: str, text: str) -> None:
    """Refuse rendered text holding any line break but "\\n" (a value would become its own line)."""
    if not any(ch in text for ch in LINE_BREAKS):
        return
    for no, line in enumerate(text.split("\n"), 1):
        bad = next((ch for ch in line if ch in LINE_BREAKS), None)
        if bad is not None:
            raise InventoryError([Problem(
                "", f"host {host}", path or "rendered",
                f"rendered line {no} holds line break U+{ord(bad):04X}; refusing to push it (a value in the "
                "inventory carries it: validate it)")])


def _net(value: Any) -> ipaddress.IPv4Network:
    if isinstance(value, ipaddress.IPv4Interface):
        return value.network
    if isinstance(value, ipaddress.IPv4Network):
        return value
    return ipaddress.IPv4Network(str(value), strict=False)


def _quote_factory(style: str | None) -> Callable[[Any], str]:
    def quote(value: Any) -> str:
        s = str(value)
        if style == "double":  # Junos, swanctl: values were validated to carry no quotes
            return '"' + s + '"'
        return s

    return quote


_ENVIRONMENTS: dict[tuple[str, str | None], jinja2.Environment] = {}


def environment(platform: pspec.PlatformSpec, variant: str | None) -> jinja2.Environment:
    """One Jinja2 environment per platform and OS variant: templates compile once per process."""
    key = (platform.name, variant)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _new_environment(platform, variant)
    return _ENVIRONMENTS[key]


def _new_environment(platform: pspec.PlatformSpec, variant: str | None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(platform.directory)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    algo = platform.algorithms(variant)
    env.filters["spell"] = lambda value, table: algo.spell(table, value)
    env.filters["netmask"] = lambda v: str(_net(v).netmask)
    env.filters["wildcard"] = lambda v: str(_net(v).hostmask)
    env.filters["hostmask"] = lambda v: str(_net(v).hostmask)
    env.filters["network"] = lambda v: str(_net(v).network_address)
    env.filters["prefixlen"] = lambda v: _net(v).prefixlen
    env.filters["ip"] = lambda v: str(v.ip) if isinstance(v, ipaddress.IPv4Interface) else str(v)
    env.filters["quote"] = _quote_factory(platform.safety().get("quote"))
    env.globals["algo"] = algo
    return env


def platform_options(platform: pspec.PlatformSpec, options: dict[str, Any]) -> dict[str, Any]:
    merged = dict(platform.raw.get("option_defaults") or {})
    merged.update(options or {})
    return merged


def render_ends(platform_name: str, host: str, side: Side, ends: list[TunnelEnd], *, psk: dict[str, str],
                options: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> RenderedConfig:
    """Render a list of tunnel ends with a platform's templates (used for both sides)."""
    platform = pspec.load(platform_name)
    opts = platform_options(platform, options or {})
    variant = opts.get("os_version") or platform.default_variant
    env = environment(platform, variant)
    outputs = (platform.section("sides").get(side) or {}).get("outputs") or []
    if not outputs:
        raise ValueError(f"platform {platform_name} has no templates for the {side} side")
    ctx = {"ends": ends, "psk": psk, "options": opts, "platform": platform, "host": host, "side": side}
    ctx.update(extra or {})
    rendered = RenderedConfig(host=host, platform=platform_name, side=side)
    for out in popts.selected(outputs, opts):
        text = env.get_template(out["template"]).render(**ctx)
        check_breaks(host, out["path"], text)
        if text.strip() or out.get("keep_empty"):
            rendered.files[out["path"]] = text
    return rendered


def resolve_psks(inv: Inventory, ends: list[TunnelEnd]) -> dict[str, str]:
    from pathlib import Path

    return {e.name: secretmod.resolve(e.tunnel.psk, Path(inv.directory)) for e in ends}


def render_device(inv: Inventory, device: str, *, psk: dict[str, str] | None = None) -> RenderedConfig:
    dev = inv.devices[device]
    ends = views.device_ends(inv, device)
    if psk is None:
        psk = resolve_psks(inv, ends)
    clouds_by_name = {e.tunnel.cloud: inv.clouds[e.tunnel.cloud] for e in ends}
    return render_ends(dev.platform, device, "device", ends, psk=psk, options=dev.options,
                       extra={"device": dev, "clouds": clouds_by_name})


def emulation_platforms() -> list[str]:
    """Platforms that can play a cloud gateway: those with templates for the cloud side."""
    return [p for p in pspec.available() if (pspec.load(p).section("sides").get("cloud") or {}).get("outputs")]


def render_cloud_emulation(inv: Inventory, cloud: str, platform: str | None = None, *,
                           psk: dict[str, str] | None = None, options: dict[str, Any] | None = None,
                           only: Callable[[str], bool] | None = None, extra: dict[str, Any] | None = None
                           ) -> RenderedConfig:
    """The cloud gateway's own configuration, as an IPsec daemon (the lab runs it for real).

    `only` keeps the tunnels whose name it accepts (the lab renders each tunnel namespace apart);
    `extra` adds template context (`lab_tunnel_ns`).
    """
    if platform is None:
        candidates = emulation_platforms()
        if not candidates:
            raise ValueError("no platform has templates for the cloud side")
        platform = candidates[0]
    gw = inv.clouds[cloud]
    ends = [e for e in views.cloud_ends(inv, cloud) if only is None or only(e.name)]
    if psk is None:
        psk = resolve_psks(inv, ends)
    context = {"cloud": gw, "devices": {e.tunnel.device: inv.devices[e.tunnel.device] for e in ends}, **(extra or {})}
    return render_ends(platform, cloud, "cloud", ends, psk=psk, options=options or {}, extra=context)
