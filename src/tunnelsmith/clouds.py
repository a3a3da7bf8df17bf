"""Cloud provider profiles: allowed values, defaults, quotas and routing modes, all as data.

A profile lives in `templates/clouds/<name>.yaml`; adding a provider is adding that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tunnelsmith.resources import clouds_root, load_yaml


@dataclass(frozen=True)
class CloudProfile:
    name: str
    raw: dict[str, Any]

    @property
    def title(self) -> str:
        return self.raw.get("title", self.name)

    @property
    def cloud_asn(self) -> int | None:
        return self.raw.get("cloud_asn")

    @property
    def routing_modes(self) -> list[str]:
        return list(self.raw.get("routing_modes", []))

    @property
    def quotas(self) -> dict[str, int]:
        return dict(self.raw.get("quotas") or {})

    @property
    def rules(self) -> dict[str, Any]:
        return dict(self.raw.get("rules") or {})

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.raw.get("defaults") or {})

    @property
    def mtu(self) -> int | None:
        return self.raw.get("mtu")

    @property
    def mss(self) -> int | None:
        return self.raw.get("mss")

    @property
    def public_ips_per_gateway(self) -> int | None:
        return self.raw.get("public_ips_per_gateway")

    def gateway_types(self) -> list[str]:
        return list((self.raw.get("gateway_types") or {}).keys())

    def allowed(self, gateway_type: str, phase: str, param: str) -> list[Any] | None:
        """Allowed values for e.g. ('standard', 'ike', 'encryption'); None when unconstrained."""
        gt = (self.raw.get("gateway_types") or {}).get(gateway_type) or {}
        values = (gt.get(phase) or {}).get(param)
        return None if values is None else list(values)


def available() -> list[str]:
    return sorted(p.stem for p in clouds_root().glob("*.yaml"))


@cache
def profile(name: str) -> CloudProfile:
    path = clouds_root() / f"{name}.yaml"
    if not path.exists():
        raise KeyError(name)
    return CloudProfile(name=name, raw=load_yaml(path))
