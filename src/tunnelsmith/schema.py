"""The inventory as a JSON Schema (draft 2020-12), for editors, CI and `tunnelsmith schema`.

One schema describes the four files as one document `{hosts, groups, defaults, tunnels}` (see
`document()`), so a single validation covers an inventory directory. Enumerations (providers,
gateway types, algorithms, DH groups, platforms) are read at run time from the cloud profiles and
the platform folders: adding a profile or a platform extends the schema without code. The schema
checks shape and spelling; `tunnelsmith.validate` checks meaning (overlaps, quotas, secrets...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tunnelsmith import clouds
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.yamlio import load_strict

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"^{_OCTET}(\.{_OCTET}){{3}}$"
PREFIX = rf"^{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?[0-9])$"
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"  # no newline, CR, NUL or other control character


def _union(phase: str, key: str) -> list[Any]:
    """Every value any provider profile accepts for one parameter, in first-seen order."""
    out: list[Any] = []
    for name in clouds.available():
        for gt in clouds.profile(name).gateway_types():
            for v in clouds.profile(name).allowed(gt, phase, key) or []:
                if v not in out:
                    out.append(v)
    return out


def _gateway_types() -> list[str]:
    out: list[str] = []
    for name in clouds.available():
        out += [g for g in clouds.profile(name).gateway_types() if g not in out]
    return out


def _text(**extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "pattern": NO_CONTROL, **extra}


def _int(lo: int, hi: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _defs() -> dict[str, Any]:
    platforms = pspec.available()
    ike_versions = _union("ike", "versions") or [1, 2]
    enc = sorted(set(_union("ike", "encryption")) | set(_union("ipsec", "encryption")))
    integ = sorted(set(_union("ike", "integrity")) | set(_union("ipsec", "integrity")))
    groups = sorted(set(_union("ike", "dh_groups")) | set(_union("ipsec", "pfs_groups")))
    data_props: dict[str, Any] = {
        "role": {"enum": ["cloud", "device"], "description": "cloud: a cloud VPN gateway; device: on-prem"},
        # cloud gateways
        "provider": {"enum": clouds.available(), "description": "cloud profile, templates/clouds/<name>.yaml"},
        "public_ips": {"type": "array", "items": {"$ref": "#/$defs/ipv4"}, "minItems": 1, "uniqueItems": True},
        "vpc_subnets": {"type": "array", "items": {"$ref": "#/$defs/prefix"}, "minItems": 1},
        "gateway_type": {"enum": _gateway_types()},
        "bgp_asn": _int(1, 4294967295),
        "peer_log": {"type": "object", "description": "where the gateway's IKE log can be read (lab)"},
        # devices
        "public_ip": {"$ref": "#/$defs/ipv4"},
        "lan_subnets": {"type": "array", "items": {"$ref": "#/$defs/prefix"}},
        "wan_interface": _text(),
        "wan_mtu": _int(576, 9216),
        "path_mtu": _int(576, 9216),
        "wan_nat": {"type": "boolean"},
        "password_ref": {"$ref": "#/$defs/secret_ref"},
        "ssh": {"type": "object", "additionalProperties": False, "properties": {
            "key_file": _text(), "known_hosts": _text(), "trust_on_first_use": {"type": "boolean"},
            "timeout": {"type": "number", "exclusiveMinimum": 0}}},
        "description": {"type": "string"},
    }
    for p in platforms:  # platform options: data.<platform>: {...}
        data_props[p] = {"type": "object", "description": f"options for the {p} platform",
                         "properties": {"os_version": _text()}}
    host_props: dict[str, Any] = {
        "hostname": _text(description="management address for SSH"),
        "platform": {"enum": platforms},
        "username": _text(),
        "port": _int(1, 65535),
        "groups": {"type": "array", "items": _text()},
        "data": {"$ref": "#/$defs/data"},
        "connection_options": {"type": "object"},
    }
    ike = {"type": "object", "additionalProperties": False, "properties": {
        "version": {"enum": ike_versions},
        "mode": {"enum": ["main", "aggressive"]},
        "encryption": {"enum": enc},
        "integrity": {"enum": integ},
        "dh_group": {"enum": groups},
        "lifetime": _int(60, 604800)}}
    ipsec = {"type": "object", "additionalProperties": False, "properties": {
        "encryption": {"enum": enc},
        "integrity": {"enum": integ},
        "pfs_group": {"enum": [*groups, None, False, "none", "off"]},
        "lifetime": _int(60, 604800),
        "protocol": {"enum": sorted(set(_union("ipsec", "protocols")) or {"esp"})},
        "dpd": {"oneOf": [{"type": "boolean"}, {
            "type": "object", "additionalProperties": False, "properties": {
                "enabled": {"type": "boolean"}, "interval": _int(1, 3600), "retries": _int(1, 100),
                "action": {"enum": ["restart", "clear", "hold"]}}}]}}}
    routing = {
        "type": "object", "additionalProperties": False, "required": ["mode"],
        "properties": {
            "mode": {"enum": ["policy", "static", "bgp"]},
            "selectors": {"type": "array", "minItems": 1, "items": {
                "type": "object", "additionalProperties": False, "required": ["local", "remote"],
                "properties": {"local": {"$ref": "#/$defs/prefix"}, "remote": {"$ref": "#/$defs/prefix"}}}},
            "inside": {"type": "object", "additionalProperties": False, "required": ["local", "remote"],
                       "properties": {"local": {"$ref": "#/$defs/prefix",
                                                "description": "device's inside address/prefix"},
                                      "remote": {"$ref": "#/$defs/ipv4"}}},
            "routes": {"type": "array", "items": {"$ref": "#/$defs/prefix"}},
            "bgp": {"type": "object", "additionalProperties": False, "properties": {
                "local_asn": _int(1, 4294967295), "remote_asn": _int(1, 4294967295),
                "hold_time": _int(3, 65535), "keepalive": _int(1, 21845),
                "advertise": {"type": "array", "items": {"$ref": "#/$defs/prefix"}}}}},
        "allOf": [
            {"if": {"properties": {"mode": {"enum": ["static", "bgp"]}}},
             "then": {"required": ["inside"]}},
            {"if": {"properties": {"mode": {"const": "policy"}}},
             "then": {"not": {"anyOf": [{"required": ["inside"]}, {"required": ["bgp"]}]}}}],
    }
    tunnel_props = {
        "name": _text(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
        "description": {"type": "string"},
        "cloud": _text(description="a host with data.role cloud"),
        "device": _text(description="a host with data.role device"),
        "cloud_ip": {"$ref": "#/$defs/ipv4"},
        "ike": ike,
        "ipsec": ipsec,
        "identities": {"type": "object", "additionalProperties": False, "properties": {
            "local": _text(pattern=r"^[^\s\x00-\x1f\x7f]+$"), "remote": _text(pattern=r"^[^\s\x00-\x1f\x7f]+$")}},
        "psk": {"$ref": "#/$defs/secret_ref"},
        "routing": routing,
        "ping": {"type": "object", "additionalProperties": False, "required": ["source", "target"],
                 "properties": {"source": {"$ref": "#/$defs/ipv4"}, "target": {"$ref": "#/$defs/ipv4"},
                                "count": _int(1, 100)}},
        "initiation": {"enum": ["start", "trap", "none"]},
        "mtu": _int(576, 9000),
        "mss": _int(536, 8960),
    }
    return {
        "ipv4": {"type": "string", "pattern": IPV4},
        "prefix": {"type": "string", "pattern": PREFIX},
        "secret_ref": {
            "description": "where a secret lives, never the secret itself",
            "oneOf": [
                {"type": "object", "additionalProperties": False, "required": ["env"],
                 "properties": {"env": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}}},
                {"type": "object", "additionalProperties": False, "required": ["file", "key"],
                 "properties": {"file": _text(), "key": _text()}}]},
        "data": {"type": "object", "additionalProperties": False, "properties": data_props},
        "host": {"type": "object", "additionalProperties": False, "properties": host_props},
        "defaults": {"type": "object", "additionalProperties": False,
                     "properties": {k: v for k, v in host_props.items() if k != "groups"}},
        "tunnel_fields": {"type": "object", "additionalProperties": False, "properties": tunnel_props},
        "tunnel": {"$ref": "#/$defs/tunnel_fields", "required": ["name", "cloud", "device", "psk", "routing"]},
        "hosts_file": {"type": "object", "additionalProperties": {"$ref": "#/$defs/host"},
                       "propertyNames": {"pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"}},
        "groups_file": {"type": "object", "additionalProperties": {"$ref": "#/$defs/host"}},
        "defaults_file": {"$ref": "#/$defs/defaults"},
        "tunnels_file": {"type": "object", "additionalProperties": False, "required": ["tunnels"],
                         "properties": {"defaults": {"$ref": "#/$defs/tunnel_fields"},
                                        "tunnels": {"type": "array", "items": {"$ref": "#/$defs/tunnel"}}}},
    }


def inventory_schema() -> dict[str, Any]:
    """JSON Schema of an inventory document {hosts, groups, defaults, tunnels} (see `document`)."""
    return {
        "$schema": DIALECT,
        "$id": "https://tunnelsmith.example.invalid/schema/inventory.json",
        "title": "tunnelsmith inventory",
        "description": "hosts.yaml, groups.yaml, defaults.yaml (Nornir SimpleInventory with data.role "
                       "cloud|device) and tunnels.yaml, as one document keyed by file stem",
        "type": "object",
        "additionalProperties": False,
        "required": ["hosts", "tunnels"],
        "properties": {
            "hosts": {"$ref": "#/$defs/hosts_file"},
            "groups": {"$ref": "#/$defs/groups_file"},
            "defaults": {"$ref": "#/$defs/defaults_file"},
            "tunnels": {"$ref": "#/$defs/tunnels_file"},
        },
        "$defs": _defs(),
    }


def document(directory: str | Path) -> dict[str, Any]:
    """An inventory directory as the one document the schema describes (absent files: empty)."""
    d = Path(directory)
    out: dict[str, Any] = {}
    for stem in ("hosts", "groups", "defaults", "tunnels"):
        path = d / f"{stem}.yaml"
        if path.exists():
            out[stem] = load_strict(path) or {}
    return out
