"""schema.inventory_schema: a valid draft 2020-12 schema that accepts the shipped inventories and
rejects typical mistakes; its enumerations follow the cloud profiles and platforms present."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tunnelsmith import clouds, schema
from tunnelsmith.platforms import spec as pspec

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "inventory" / "lab"
GUIDE = ROOT / "inventory" / "examples" / "ctyun-guide"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    s = schema.inventory_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def errors(validator: jsonschema.Draft202012Validator, doc: dict[str, Any]) -> list[str]:
    return ["/".join(map(str, e.absolute_path)) + ": " + e.message for e in validator.iter_errors(doc)]


def test_schema_dialect() -> None:
    assert schema.inventory_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_lab_inventory_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert errors(validator, schema.document(LAB)) == []


def test_ctyun_guide_inventory_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    doc = schema.document(GUIDE)
    missing = sorted({h.get("platform") for h in doc["hosts"].values()} - {None} - set(pspec.available()))
    if missing:
        pytest.skip(f"platforms not added yet: {', '.join(missing)}")
    assert errors(validator, doc) == []


def test_enums_follow_profiles_and_platforms() -> None:
    defs = schema.inventory_schema()["$defs"]
    assert defs["data"]["properties"]["provider"]["enum"] == clouds.available()
    platforms = defs["host"]["properties"]["platform"]["enum"]
    assert platforms[: len(pspec.available())] == pspec.available()  # then Nornir/NAPALM aliases
    ike = defs[defs["tunnel_fields"]["properties"]["ike"]["$ref"].split("/")[-1]]
    groups = ike["properties"]["dh_group"]["examples"]
    for name in clouds.available():
        for gt in clouds.profile(name).gateway_types():
            assert set(clouds.profile(name).allowed(gt, "ike", "dh_groups") or []) <= set(groups)


def lab_doc() -> dict[str, Any]:
    return copy.deepcopy(schema.document(LAB))


MISTAKES = [
    ("provider typo", lambda d: d["hosts"]["ctyun-gw"]["data"].update(provider="ctyum"),
     "hosts/ctyun-gw/data/provider"),
    ("field typo", lambda d: d["hosts"]["ctyun-gw"]["data"].update(vpc_subnet=["198.19.16.0/24"]),
     "hosts/ctyun-gw/data"),
    ("address not IPv4", lambda d: d["hosts"]["onprem-a"]["data"].update(public_ip="198.51.100.256"),
     "hosts/onprem-a/data/public_ip"),
    ("prefix without length", lambda d: d["hosts"]["jd-gw"]["data"].update(vpc_subnets=["198.19.32.0"]),
     "hosts/jd-gw/data/vpc_subnets/0"),
    ("plain password", lambda d: d["hosts"]["onprem-a"].update(password="hunter2"), "hosts/onprem-a"),
    ("unknown platform", lambda d: d["groups"]["onprem"].update(platform="openswan"), "groups/onprem/platform"),
    ("plain PSK", lambda d: d["tunnels"]["tunnels"][0].update(psk="secret"), "tunnels/tunnels/0/psk"),
    ("two DH groups", lambda d: d["tunnels"]["tunnels"][0]["ike"].update(dh_group=[2, 14]),
     "tunnels/tunnels/0/ike/dh_group"),
    ("two words for an algorithm", lambda d: d["tunnels"]["tunnels"][0]["ipsec"].update(encryption="aes 128"),
     "tunnels/tunnels/0/ipsec/encryption"),
    ("routing mode", lambda d: d["tunnels"]["tunnels"][0]["routing"].update(mode="dynamic"),
     "tunnels/tunnels/0/routing/mode"),
    ("route-based without inside", lambda d: d["tunnels"]["tunnels"][1]["routing"].pop("inside"),
     "tunnels/tunnels/1/routing"),
    ("newline in identity", lambda d: d["tunnels"]["tunnels"][0].update(identities={"local": "a\nb"}),
     "tunnels/tunnels/0/identities/local"),
    ("missing psk", lambda d: d["tunnels"]["tunnels"][0].pop("psk"), "tunnels/tunnels/0"),
    ("unknown tunnel field", lambda d: d["tunnels"]["tunnels"][0].update(pfs=2), "tunnels/tunnels/0"),
    ("mtu too small", lambda d: d["tunnels"]["tunnels"][0].update(mtu=100), "tunnels/tunnels/0/mtu"),
]


@pytest.mark.parametrize(("what", "change", "where"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_typical_mistakes_fail(validator: jsonschema.Draft202012Validator, what: str, change: Any,
                               where: str) -> None:
    doc = lab_doc()
    change(doc)
    errs = errors(validator, doc)
    assert any(e.split(": ", 1)[0] == where for e in errs), (what, errs)


def test_document_reads_yaml_files(tmp_path: Path) -> None:
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump({"h": {"data": {"role": "cloud"}}}))
    (tmp_path / "tunnels.yaml").write_text("tunnels: []\n")
    assert schema.document(tmp_path) == {"hosts": {"h": {"data": {"role": "cloud"}}}, "tunnels": {"tunnels": []}}
