"""The published JSON Schema (`tunnelsmith schema`, checked with the jsonschema library) and the
loader's validator accept and refuse the same documents: every shipped inventory, and broken
variants of each touching every level (unknown keys, wrong types, enumerations, names, ranges,
secret references, routing rules, tunnels.yaml defaults)."""

from __future__ import annotations

import copy
import glob
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tunnelsmith import invcheck, inventory, schema

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = sorted({str(Path(p).parent) for p in glob.glob(str(ROOT / "inventory" / "**" / "hosts.yaml"),
                                                             recursive=True)}
                     | {str(Path(p).parent) for p in glob.glob(str(ROOT / "tests" / "data" / "**" / "hosts.yaml"),
                                                               recursive=True)})


@pytest.fixture(scope="module")
def json_validator() -> jsonschema.Draft202012Validator:
    s = schema.inventory_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def doc_of(directory: str) -> dict[str, Any]:
    doc = schema.document(directory)
    doc.setdefault("hosts", {})
    doc.setdefault("tunnels", {})
    return doc


def model_accepts(doc: dict[str, Any]) -> bool:
    return invcheck.check(doc, {}, {}) == []


def schema_accepts(v: jsonschema.Draft202012Validator, doc: dict[str, Any]) -> bool:
    return not list(v.iter_errors(doc))


def first(doc: dict[str, Any], role: str | None = None) -> dict[str, Any]:
    """The first host (of a role when one is given directly on the host) as a mutable node."""
    for h in doc["hosts"].values():
        if role is None or ((h or {}).get("data") or {}).get("role") == role:
            return h
    return next(iter(doc["hosts"].values()))


def tunnel(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["tunnels"]["tunnels"][0]


def data(doc: dict[str, Any]) -> dict[str, Any]:
    return first(doc).setdefault("data", {})


Change = Callable[[dict[str, Any]], None]
ACCEPTED: list[tuple[str, Change]] = [
    ("unchanged", lambda d: None),
    ("dpd as a boolean", lambda d: tunnel(d).setdefault("ipsec", {}).update(dpd=False)),
    ("pfs off", lambda d: tunnel(d).setdefault("ipsec", {}).update(pfs_group="none")),
    ("pfs null", lambda d: tunnel(d).setdefault("ipsec", {}).update(pfs_group=None)),
    ("mtu written 1400.0", lambda d: tunnel(d).update(mtu=1400.0)),
    ("ike version written 2.0", lambda d: tunnel(d).setdefault("ike", {}).update(version=2.0)),
    ("platform alias", lambda d: first(d, "device").update(platform="ios") if "platform" in first(d, "device")
     else None),
    ("secret in a file", lambda d: tunnel(d).update(psk={"file": "/run/s.yaml", "key": "k"})),
    ("description anywhere", lambda d: data(d).update(description="läuft – ok")),
]
REFUSED: list[tuple[str, Change]] = [
    ("unknown top-level file", lambda d: d.update(inventory={})),
    ("unknown host key", lambda d: first(d).update(usernme="x")),
    ("unknown data key", lambda d: data(d).update(lan_subnet=["10.0.0.0/24"])),
    ("password in data", lambda d: data(d).update(passwd="x")),
    ("password on the host", lambda d: first(d).update(password="x")),
    ("unknown ssh key", lambda d: data(d).update(ssh={"key_fle": "/k"})),
    ("ssh timeout zero", lambda d: data(d).update(ssh={"timeout": 0})),
    ("misspelt platform key", lambda d: data(d).update(cisco_io={"tunnel_base": 1})),
    ("unknown platform option", lambda d: data(d).update(juniper_junos={"zonee": "x"})),
    ("string for an integer option", lambda d: data(d).update(cisco_ios={"tunnel_base": "1"})),
    ("boolean for an integer option", lambda d: data(d).update(cisco_ios={"tunnel_base": True})),
    ("os_version a list", lambda d: data(d).update(huawei_vrp={"os_version": ["v5"]})),
    ("os_version unknown", lambda d: data(d).update(huawei_vrp={"os_version": "v9"})),
    ("data not a mapping", lambda d: first(d).update(data="x")),
    ("groups an int", lambda d: first(d).update(groups=3)),
    ("group not a mapping", lambda d: d.setdefault("groups", {}).update(g=["x"])),
    ("hosts not a mapping", lambda d: d.update(hosts=["x"])),
    ("host name climbs", lambda d: d["hosts"].update({"../../x": {}})),
    ("host name absolute", lambda d: d["hosts"].update({"/etc/x": {}})),
    ("string port", lambda d: first(d).update(port="22")),
    ("port out of range", lambda d: first(d).update(port=70000)),
    ("unknown platform", lambda d: first(d).update(platform="openswan")),
    ("bad role", lambda d: data(d).update(role="router")),
    ("duplicate public ip", lambda d: data(d).update(public_ips=["203.0.113.1", "203.0.113.1"])),
    ("address not IPv4", lambda d: data(d).update(public_ip="198.51.100.256")),
    ("prefix without length", lambda d: data(d).update(lan_subnets=["198.18.0.0"])),
    ("wan with a line separator", lambda d: data(d).update(wan_interface="ge-0/0/0\u2028delete")),
    ("bidi override", lambda d: data(d).update(description="abc\u202edef")),
    ("unknown dpd action", lambda d: tunnel(d).setdefault("ipsec", {}).update(dpd={"action": "explode"})),
    ("dpd a string", lambda d: tunnel(d).setdefault("ipsec", {}).update(dpd="yes")),
    ("pfs out of range", lambda d: tunnel(d).setdefault("ipsec", {}).update(pfs_group=99)),
    ("pfs true", lambda d: tunnel(d).setdefault("ipsec", {}).update(pfs_group=True)),
    ("dh group a list", lambda d: tunnel(d).setdefault("ike", {}).update(dh_group=[2, 14])),
    ("ike version 3", lambda d: tunnel(d).setdefault("ike", {}).update(version=3)),
    ("ike version true", lambda d: tunnel(d).setdefault("ike", {}).update(version=True)),
    ("ike version a string", lambda d: tunnel(d).setdefault("ike", {}).update(version="2")),
    ("unknown tunnel key", lambda d: tunnel(d).update(pfs=2)),
    ("unknown ike key", lambda d: tunnel(d).setdefault("ike", {}).update(encyption="aes-128")),
    ("tunnel without name", lambda d: tunnel(d).pop("name")),
    ("tunnel without psk", lambda d: (tunnel(d).pop("psk", None), (d["tunnels"].get("defaults") or {}).pop(
        "psk", None))),
    ("plain psk", lambda d: tunnel(d).update(psk="secret")),
    ("env and file psk", lambda d: tunnel(d).update(psk={"env": "A", "file": "/f", "key": "k"})),
    ("file psk without key", lambda d: tunnel(d).update(psk={"file": "/f"})),
    ("bad env name", lambda d: tunnel(d).update(psk={"env": "A-B"})),
    ("routing mode", lambda d: tunnel(d).update(routing={"mode": "dynamic"})),
    ("route-based without inside", lambda d: tunnel(d).update(routing={"mode": "static"})),
    ("policy with bgp", lambda d: tunnel(d).update(routing={"mode": "policy", "bgp": {}})),
    ("empty selectors", lambda d: tunnel(d).update(routing={"mode": "policy", "selectors": []})),
    ("initiation unknown", lambda d: tunnel(d).update(initiation="later")),
    ("mtu too small", lambda d: tunnel(d).update(mtu=100)),
    ("tunnels not a list", lambda d: d["tunnels"].update(tunnels={})),
    ("no tunnels key", lambda d: d.update(tunnels={})),
    ("tunnel defaults unknown key", lambda d: d["tunnels"].setdefault("defaults", {}).update(ikev=2)),
]


def _cases() -> list[Any]:
    out = []
    for inv in INVENTORIES:
        name = str(Path(inv).relative_to(ROOT))
        out += [pytest.param(inv, change, True, id=f"{name}-ok-{what}") for what, change in ACCEPTED]
        out += [pytest.param(inv, change, False, id=f"{name}-bad-{what}") for what, change in REFUSED]
    return out


@pytest.mark.parametrize(("inv", "change", "valid"), _cases())
def test_schema_and_validator_agree(json_validator: jsonschema.Draft202012Validator, inv: str, change: Change,
                                    valid: bool) -> None:
    doc = copy.deepcopy(doc_of(inv))
    if not doc["tunnels"].get("tunnels") and change in [c for _, c in ACCEPTED + REFUSED
                                                        if "tunnel" in _ or "psk" in _ or "dpd" in _]:
        pytest.skip("no tunnel to change")
    change(doc)
    by_schema, by_model = schema_accepts(json_validator, doc), model_accepts(doc)
    assert by_schema == by_model, (by_schema, [e.message[:120] for e in json_validator.iter_errors(doc)],
                                   invcheck.check(doc, {}, {}))
    # the broken variants must really be broken (the shipped ones really valid, bar the one kept broken)
    if "invalid" not in inv:
        assert by_model == valid, invcheck.check(doc, {}, {})


def test_loader_uses_the_same_model(tmp_path: Path, json_validator: jsonschema.Draft202012Validator) -> None:
    """Through the files: what the schema refuses, `inventory.load` refuses at the same place."""
    doc = copy.deepcopy(doc_of(str(ROOT / "inventory" / "lab")))
    first(doc, "device").setdefault("data", {})["lan_subnet"] = ["10.9.0.0/24"]
    for stem in ("hosts", "groups", "defaults", "tunnels"):
        if stem in doc:
            (tmp_path / f"{stem}.yaml").write_text(yaml.safe_dump(doc[stem]))
    paths = {"/".join(map(str, e.absolute_path)) for e in json_validator.iter_errors(doc)}
    _, problems = inventory.load_partial(tmp_path)
    assert problems and paths
    assert any(p.field == "data.lan_subnet" for p in problems)
