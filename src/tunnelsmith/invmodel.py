"""The one model of the inventory files (pydantic v2): it validates them and it *is* the JSON Schema.

`document_model()` describes `{hosts, groups, defaults, tunnels}` (the four files as one
document); `tunnelsmith schema` prints its JSON Schema and `inventory.load` validates every file
with it before anything else reads a value, so the two cannot disagree. Every mapping is closed
(an unknown key is an error with a "did you mean"), every value typed strictly (no "22" for 22).
Enumerations (providers, gateway types, algorithms, platforms and their option keys) come from
the cloud profiles and platform folders at run time. Meaning (overlaps, quotas, reachability of
secrets) is checked later by `tunnelsmith.validate`.

Deliberately no `from __future__ import annotations`: the models are built inside a function from
run-time enumerations, and pydantic must see the evaluated annotations.
"""

import functools
import math
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tunnelsmith import clouds
from tunnelsmith import platform_names as pnames
from tunnelsmith.platforms import spec as pspec

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"^{_OCTET}(\.{_OCTET}){{3}}$"
PREFIX = rf"^{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?[0-9])$"
# Refused in every inventory string: C0 and C1 controls, DEL, line/paragraph separators, zero-width
# and bidirectional formatting characters, the byte-order mark.
FORBIDDEN_CHARS = r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
NO_CONTROL = f"^[^{FORBIDDEN_CHARS}]*$"
NO_BLANK = f"^[^\\s{FORBIDDEN_CHARS}]+$"
HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"  # also a safe directory name (no /, no leading dot)
TUNNEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_TEXT = 255
SECRET_LIKE = re.compile(r"pass|pwd|secret|psk|pre_?shared|token|community|private_?key|^key$|^enable$",
                         re.I)


class Closed(BaseModel):
    """A mapping whose every key is known and whose values are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re", frozen=True)


# --- value types ----------------------------------------------------------------------------------
def Text(pattern: str = NO_CONTROL, max_length: int = MAX_TEXT, **kw: Any) -> Any:
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=pattern, **kw)]


def Int(lo: int, hi: int) -> Any:
    return Annotated[int, Field(ge=lo, le=hi), BeforeValidator(_whole)]


def _whole(v: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so does the model (but never True or '3')."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    return v


def _same(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def Enum(values: list[Any], **kw: Any) -> Any:
    """One of `values`, compared as JSON compares (bools are not numbers)."""
    allowed = list(values)

    def check(v: Any) -> Any:
        for a in allowed:
            if _same(v, a):
                return a
        raise PydanticCustomError("enum", "must be one of {allowed}", {"allowed": allowed})

    return Annotated[Any, BeforeValidator(check), WithJsonSchema({"enum": allowed, **kw})]


IPv4 = Annotated[str, Field(pattern=IPV4, description="an IPv4 address")]
Prefix = Annotated[str, Field(pattern=PREFIX, description="an IPv4 prefix a.b.c.d/len")]


def _unique(v: Any) -> Any:
    if isinstance(v, list):
        seen: list[Any] = []
        for x in v:
            if x in seen:
                raise PydanticCustomError("unique", "lists {value} twice", {"value": x})
            seen.append(x)
    return v


PFS_OFF = [None, False, "none", "off"]


def _pfs(v: Any) -> Any:
    v = _whole(v)
    if any(_same(v, off) for off in PFS_OFF) or (type(v) is int and 1 <= v <= 32):
        return v
    raise PydanticCustomError("enum", "must be one of {allowed}", {"allowed": ["a DH group 1-32", *PFS_OFF]})


Pfs = Annotated[Any, BeforeValidator(_pfs), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 32}, {"enum": PFS_OFF}]})]


def Names(pattern: str) -> Callable[[dict[str, Any]], None]:
    """JSON Schema for a mapping keyed by names matching `pattern` (pydantic emits patternProperties)."""

    def extra(s: dict[str, Any]) -> None:
        s["propertyNames"] = {"pattern": pattern}

    return extra


def _check_names(pattern: str, what: str) -> Callable[[Any], Any]:
    rx = re.compile(pattern)

    def check(v: Any) -> Any:
        if isinstance(v, dict):
            for k in v:
                if not isinstance(k, str) or not rx.match(k):
                    raise PydanticCustomError(
                        "name", "{what} name {name} is not allowed: use letters, digits, '_', '.', '-', "
                        "starting with a letter or digit (it names files and directories)",
                        {"what": what, "name": k})
        return v

    return check


# --- the model, built once from the profiles and platform folders present -------------------------
def _union(phase: str, key: str) -> list[Any]:
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


def _option_type(platform: str, key: str, default: Any) -> Any:
    """An option's type: one of its `option_choices` when the platform lists them, else its
    default's type (platform.yaml option_defaults); options whose default is null take one word."""
    spec = pspec.load(platform)
    choices = (spec.raw.get("option_choices") or {}).get(key)
    if choices:
        return Enum(list(choices)) | None
    if isinstance(default, bool):
        return bool | None
    if isinstance(default, int):
        return Int(0, 2**31 - 1) | None
    if isinstance(default, float):
        return float | None
    return Text(NO_BLANK, 63) | None


def _platform_options(platform: str) -> type[BaseModel]:
    defaults = pspec.load(platform).raw.get("option_defaults") or {}
    fields: dict[str, Any] = {k: (_option_type(platform, k, v), None) for k, v in defaults.items()}
    return create_model(f"options_{platform}", __base__=Closed, __doc__=f"options of the {platform} platform",
                        **fields)


def _secret_ref_check(cls: Any, v: Any) -> Any:
    if not isinstance(v, dict):
        raise PydanticCustomError("secret_ref", "must be a reference {{env: NAME}} or {{file: PATH, key: NAME}}, "
                                  "never the secret itself")
    has_env, has_file, has_key = "env" in v, "file" in v, "key" in v
    if not ((has_env and not (has_file or has_key)) or (has_file and has_key and not has_env)):
        raise PydanticCustomError("secret_ref", "must be either {{env: NAME}} or {{file: PATH, key: NAME}}")
    return v


def _no_secret_keys(v: Any) -> Any:
    """Open mappings (connection extras) may hold anything but a secret."""
    if isinstance(v, dict):
        for k in v:
            if SECRET_LIKE.search(str(k)):
                raise PydanticCustomError("secret_key", "{key} looks like a secret: secrets must not be written in "
                                          "inventory YAML; use password_ref: {{env: NAME}}", {"key": str(k)})
    return v


def _dpd_bool(cls: Any, v: Any) -> Any:
    return {"enabled": v} if isinstance(v, bool) else v


def _routing_rules(self: Any) -> Any:
    if self.mode in ("static", "bgp") and self.inside is None:
        raise PydanticCustomError("routing", "{mode} routing needs inside: {{local: IP/PREFIX, remote: IP}}",
                                  {"mode": self.mode})
    if self.mode == "policy" and (self.inside is not None or self.bgp is not None):
        raise PydanticCustomError("routing", "policy routing takes no inside or bgp settings")
    return self


TUNNEL_REQUIRED = ("cloud", "device", "psk", "routing")


def _tunnel_required(self: Any) -> Any:
    given = set(self.defaults.model_fields_set) if self.defaults is not None else set()
    missing = [[i, k] for i, t in enumerate(self.tunnels) for k in TUNNEL_REQUIRED
               if k not in given and k not in t.model_fields_set]
    if missing:
        raise PydanticCustomError("tunnel_required", "is required (tunnels.yaml defaults do not give it)",
                                  {"missing": missing})
    return self


def _one_of(*alternatives: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def extra(s: dict[str, Any]) -> None:
        s["oneOf"] = list(alternatives)

    return extra


def _dpd_schema(s: dict[str, Any]) -> None:
    inner = dict(s)
    s.clear()
    s["oneOf"] = [{"type": "boolean"}, inner]


@functools.lru_cache(maxsize=1)
def document_model() -> type[BaseModel]:
    """The model of one inventory document {hosts, groups, defaults, tunnels}."""
    platforms = pspec.available()
    ike_versions = _union("ike", "versions") or [1, 2]
    enc = sorted(set(_union("ike", "encryption")) | set(_union("ipsec", "encryption")))
    integ = sorted(set(_union("ike", "integrity")) | set(_union("ipsec", "integrity")))
    groups = sorted(set(_union("ike", "dh_groups")) | set(_union("ipsec", "pfs_groups")))
    protocols = sorted(set(_union("ipsec", "protocols")) or {"esp"})

    class SecretRef(Closed):
        """Where a secret lives, never the secret itself."""

        model_config = ConfigDict(json_schema_extra={"oneOf": [
            {"required": ["env"], "not": {"anyOf": [{"required": ["file"]}, {"required": ["key"]}]}},
            {"required": ["file", "key"], "not": {"required": ["env"]}}]})
        env: Text(ENV_NAME) = None
        file: Text(max_length=4096) = None
        key: Text() = None
        _check = model_validator(mode="before")(_secret_ref_check)

    class Ssh(Closed):
        key_file: Text(max_length=4096) = None
        known_hosts: Text(max_length=4096) = None
        trust_on_first_use: bool = None
        timeout: Annotated[float, Field(gt=0, le=3600)] = None

    class PeerLog(Closed):
        """Where a cloud gateway's IKE log can be read (the lab's emulated gateways)."""

        source: Enum(["lab"])
        platform: Enum(platforms)

    data_fields: dict[str, Any] = {
        "role": (Enum(["cloud", "device"], description="cloud: a cloud VPN gateway; device: on-prem"), None),
        "provider": (Enum(clouds.available(), description="cloud profile, templates/clouds/<name>.yaml"), None),
        "public_ips": (Annotated[list[IPv4], BeforeValidator(_unique), Field(min_length=1),
                                 WithJsonSchema({"type": "array", "items": {"type": "string", "pattern": IPV4},
                                                 "minItems": 1, "uniqueItems": True})], None),
        "vpc_subnets": (Annotated[list[Prefix], Field(min_length=1)], None),
        "gateway_type": (Enum(_gateway_types()), None),
        "bgp_asn": (Int(1, 4294967295), None),
        "peer_log": (PeerLog, None),
        "public_ip": (IPv4, None),
        "lan_subnets": (list[Prefix], None),
        "wan_interface": (Text(max_length=1024), None),
        "wan_mtu": (Int(576, 9216), None),
        "path_mtu": (Int(576, 9216), None),
        "wan_nat": (bool, None),
        "password_ref": (SecretRef, None),
        "ssh": (Ssh, None),
        "description": (Annotated[str, Field(max_length=1024, pattern=NO_CONTROL)], None),
    }
    for p in platforms:
        data_fields[p] = (_platform_options(p), None)
    Data = create_model("data", __base__=Closed, __doc__="host data (inherited the Nornir way)",
                        **data_fields)

    class ConnectionOption(Closed):
        hostname: Text() = None
        port: Int(1, 65535) = None
        username: Text() = None
        platform: Text() = None
        extras: Annotated[dict[str, Any], BeforeValidator(_no_secret_keys)] = None

    host_fields: dict[str, Any] = {
        "hostname": (Text(NO_BLANK, 253, description="management address for SSH"), None),
        "platform": (Enum(pnames.accepted()), None),
        "username": (Text(max_length=64), None),
        "port": (Int(1, 65535), None),
        "data": (Data, None),
        "connection_options": (dict[str, ConnectionOption], None),
    }
    Defaults = create_model("defaults", __base__=Closed, **host_fields)
    Host = create_model("host", __base__=Closed, groups=(list[Text(NO_BLANK, 64)], None), **host_fields)

    algo = Text(NO_BLANK, 32)  # which names exist is the provider's and platform's business (validate)

    class Ike(Closed):
        version: Enum(ike_versions) = None
        mode: Enum(["main", "aggressive"]) = None
        encryption: Annotated[algo, Field(examples=enc)] = None
        integrity: Annotated[algo, Field(examples=integ)] = None
        dh_group: Annotated[Int(1, 32), Field(examples=groups)] = None
        lifetime: Int(60, 604800) = None

    class Dpd(Closed):
        enabled: bool = None
        interval: Int(1, 3600) = None
        retries: Int(1, 100) = None
        action: Enum(["restart", "clear", "hold"]) = None
        _bool = model_validator(mode="before")(_dpd_bool)

    class Ipsec(Closed):
        encryption: Annotated[algo, Field(examples=enc)] = None
        integrity: Annotated[algo, Field(examples=integ)] = None
        pfs_group: Pfs = None
        lifetime: Int(60, 604800) = None
        protocol: Annotated[algo, Field(examples=protocols)] = None
        dpd: Annotated[Dpd, Field(json_schema_extra=_dpd_schema)] = None

    class Selector(Closed):
        local: Prefix
        remote: Prefix

    class Inside(Closed):
        local: Annotated[Prefix, Field(description="device's inside address/prefix")]
        remote: IPv4

    class Bgp(Closed):
        local_asn: Int(1, 4294967295) = None
        remote_asn: Int(1, 4294967295) = None
        hold_time: Int(3, 65535) = None
        keepalive: Int(1, 21845) = None
        advertise: list[Prefix] = None

    class Routing(Closed):
        model_config = ConfigDict(json_schema_extra={"allOf": [
            {"if": {"properties": {"mode": {"enum": ["static", "bgp"]}}}, "then": {"required": ["inside"]}},
            {"if": {"properties": {"mode": {"const": "policy"}}},
             "then": {"not": {"anyOf": [{"required": ["inside"]}, {"required": ["bgp"]}]}}}]})
        mode: Enum(["policy", "static", "bgp"])
        selectors: Annotated[list[Selector], Field(min_length=1)] = None
        inside: Inside = None
        routes: list[Prefix] = None
        bgp: Bgp = None
        _rules = model_validator(mode="after")(_routing_rules)

    class Identities(Closed):
        local: Text(max_length=1024) = None
        remote: Text(max_length=1024) = None

    class Ping(Closed):
        source: IPv4
        target: IPv4
        count: Int(1, 100) = None

    tunnel_fields: dict[str, Any] = {
        "name": (Text(max_length=1024), None),
        "description": (Annotated[str, Field(max_length=1024, pattern=NO_CONTROL)], None),
        "cloud": (Text(HOST_NAME, 63, description="a host with data.role cloud"), None),
        "device": (Text(HOST_NAME, 63, description="a host with data.role device"), None),
        "cloud_ip": (IPv4, None),
        "ike": (Ike, None),
        "ipsec": (Ipsec, None),
        "identities": (Identities, None),
        "psk": (SecretRef, None),
        "routing": (Routing, None),
        "ping": (Ping, None),
        "initiation": (Enum(["start", "trap", "none"]), None),
        "mtu": (Int(576, 9000), None),
        "mss": (Int(536, 8960), None),
    }
    TunnelFields = create_model("tunnel_fields", __base__=Closed, **tunnel_fields)
    Tunnel = create_model("tunnel", __base__=Closed, **{**tunnel_fields, "name": (Text(max_length=1024), ...)})

    class TunnelsFile(Closed):
        """tunnels.yaml: `defaults` apply to every tunnel; what they do not give, each tunnel must."""

        model_config = ConfigDict(json_schema_extra={"allOf": [
            {"if": {"not": {"required": ["defaults"], "properties": {"defaults": {"required": [k]}}}},
             "then": {"properties": {"tunnels": {"items": {"required": [k]}}}}} for k in TUNNEL_REQUIRED]})
        defaults: TunnelFields = None
        tunnels: list[Tunnel]
        _required = model_validator(mode="after")(_tunnel_required)

    host_map = Annotated[dict[str, Host], BeforeValidator(_check_names(HOST_NAME, "host")),
                         Field(json_schema_extra=Names(HOST_NAME))]
    group_map = Annotated[dict[str, Host], BeforeValidator(_check_names(HOST_NAME, "group")),
                          Field(json_schema_extra=Names(HOST_NAME))]

    class Document(Closed):
        """hosts.yaml, groups.yaml, defaults.yaml (Nornir SimpleInventory with data.role cloud|device)
        and tunnels.yaml, as one document keyed by file stem."""

        model_config = ConfigDict(title="tunnelsmith inventory")
        hosts: host_map
        groups: group_map = None
        defaults: Defaults = None
        tunnels: TunnelsFile

    return Document


def known_keys(loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the model knows in the mapping at `loc` (for "did you mean"), or None."""
    t: Any = document_model()
    for part in loc:
        t = _step(t, part)
        if t is None:
            return None
    t = _unwrap(t)
    if isinstance(t, type) and issubclass(t, BaseModel):
        return list(t.model_fields)
    return None


def _unwrap(t: Any) -> Any:
    import typing

    while True:
        origin = typing.get_origin(t)
        if origin is Annotated:
            t = typing.get_args(t)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            if len(args) != 1:
                return t
            t = args[0]
        else:
            return t


def _step(t: Any, part: Any) -> Any:
    import typing

    t = _unwrap(t)
    if isinstance(t, type) and issubclass(t, BaseModel):
        f = t.model_fields.get(str(part))
        return f.annotation if f is not None else None
    origin = typing.get_origin(t)
    if origin is dict:
        return typing.get_args(t)[1]
    if origin is list and isinstance(part, int):
        return typing.get_args(t)[0]
    return None
