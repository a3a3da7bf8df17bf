"""Tunnel intents for the conformance suite, written as temporary Nornir inventories.

One device of the platform under test and two generic cloud gateways; addresses follow
shared/LAB.md (198.18.0.0/15 LANs and management, 198.51.100.0/24 and 203.0.113.0/24 underlay,
169.254.0.0/16 inside addresses). PSKs come from environment variables set per test.
"""

from __future__ import annotations

import re
import secrets as pysecrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith.platforms import spec as pspec

WAN_CANDIDATES = ("GigabitEthernet0/0/1", "GigabitEthernet0/1", "ge-0/0/1", "ethernet0/1", "GigabitEthernet1/0",
                  "eth0")

IKE1 = {"version": 1, "mode": "main", "encryption": "aes-128", "integrity": "sha1", "dh_group": 14,
        "lifetime": 86400}
IKE2 = {"version": 2, "encryption": "aes-256", "integrity": "sha256", "dh_group": 14, "lifetime": 28800}
DPD_ON = {"enabled": True, "interval": 10, "retries": 3}
DPD_OFF = {"enabled": False}

# intent name -> tunnels (device side); `cloud`/`device` are filled in
INTENTS: dict[str, list[dict[str, Any]]] = {
    "ikev1-policy-1pair-pfs-dpd": [{
        "name": "t1", "ike": IKE1,
        "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14, "lifetime": 3600, "dpd": DPD_ON},
        "routing": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"}]}}],
    "ikev2-policy-3pairs-nopfs-nodpd": [{
        "name": "t1", "ike": IKE2,
        "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": None, "lifetime": 3600,
                  "dpd": DPD_OFF},
        "routing": {"mode": "policy", "selectors": [
            {"local": "198.18.16.0/24", "remote": "198.19.16.0/24"},
            {"local": "198.18.16.0/24", "remote": "198.19.17.0/24"},
            {"local": "198.18.17.0/24", "remote": "198.19.16.0/24"}]}}],
    "ikev1-3des-sha256-dh2-nopfs": [{
        "name": "t1", "ike": {**IKE1, "encryption": "3des", "integrity": "sha256", "dh_group": 2},
        "ipsec": {"encryption": "3des", "integrity": "sha256", "pfs_group": None, "lifetime": 3600,
                  "dpd": {"enabled": True, "interval": 20, "retries": 3}},
        "routing": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"}]}}],
    "ikev2-static": [{
        "name": "t1", "ike": IKE2,
        "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600, "dpd": DPD_ON},
        "routing": {"mode": "static", "inside": {"local": "169.254.10.2/30", "remote": "169.254.10.1"},
                    "routes": ["198.19.16.0/24", "198.19.17.0/24"]}}],
    "ikev2-bgp": [{
        "name": "t1", "ike": {**IKE2, "encryption": "aes-128"},
        "ipsec": {"encryption": "aes-128", "integrity": "sha256", "pfs_group": 5, "lifetime": 3600, "dpd": DPD_ON},
        "routing": {"mode": "bgp", "inside": {"local": "169.254.20.2/30", "remote": "169.254.20.1"},
                    "bgp": {"local_asn": 65010, "remote_asn": 64512}}}],
    "two-tunnels-policy-and-static": [
        {"name": "ta", "ike": IKE1,
         "ipsec": {"encryption": "aes-128", "integrity": "sha1", "pfs_group": 14, "lifetime": 3600, "dpd": DPD_ON},
         "routing": {"mode": "policy", "selectors": [{"local": "198.18.16.0/24", "remote": "198.19.16.0/24"}]}},
        {"name": "tb", "cloud": "cloud2", "ike": IKE2,
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": None, "lifetime": 7200,
                   "dpd": DPD_ON},
         "routing": {"mode": "static", "inside": {"local": "169.254.30.2/30", "remote": "169.254.30.1"},
                     "routes": ["198.19.32.0/24"]}}],
    "two-bgp-tunnels-one-cloud": [
        {"name": "tx", "cloud_ip": "203.0.113.10", "ike": IKE2,
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600, "dpd": DPD_ON},
         "routing": {"mode": "bgp", "inside": {"local": "169.254.40.2/30", "remote": "169.254.40.1"}}},
        {"name": "ty", "cloud_ip": "203.0.113.11", "ike": IKE2,
         "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600, "dpd": DPD_ON},
         "routing": {"mode": "bgp", "inside": {"local": "169.254.40.6/30", "remote": "169.254.40.5"}}}],
}


def wan_interface(platform: str) -> str:
    pat = pspec.load(platform).interface_pattern()
    return next((n for n in WAN_CANDIDATES if pat is None or pat.search(n)), "eth0")


def psk_env(name: str) -> str:
    return "TS_CONFORMANCE_PSK_" + re.sub(r"\W", "_", name).upper()


@dataclass
class Built:
    directory: Path
    psks: dict[str, str]


def build_inventory(root: Path, platform: str, intent: str, monkeypatch: pytest.MonkeyPatch) -> Built:
    """Write hosts.yaml / tunnels.yaml for one platform and one intent; set the PSK env vars."""
    d = root / f"inv-{platform}-{intent}"
    d.mkdir(parents=True)
    hosts = {
        "cloud1": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.10", "203.0.113.11"],
                            "vpc_subnets": ["198.19.16.0/24", "198.19.17.0/24"], "bgp_asn": 64512}},
        "cloud2": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.20"],
                            "vpc_subnets": ["198.19.32.0/24"], "bgp_asn": 64513}},
        "dev1": {"hostname": "198.18.0.2", "platform": platform, "username": "admin",
                 "data": {"role": "device", "wan_interface": wan_interface(platform), "public_ip": "198.51.100.10",
                          "lan_subnets": ["198.18.16.0/24", "198.18.17.0/24"], "bgp_asn": 65010}},
    }
    tunnels = []
    psks: dict[str, str] = {}
    for t in INTENTS[intent]:
        t = {"cloud": "cloud1", "device": "dev1", **t}
        env = psk_env(t["name"])
        psks[t["name"]] = "Ts" + pysecrets.token_hex(12)  # letters and digits: valid on every platform
        monkeypatch.setenv(env, psks[t["name"]])
        t["psk"] = {"env": env}
        tunnels.append(t)
    (d / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    (d / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": tunnels}, sort_keys=False))
    return Built(d, psks)


def emulation_for(platform: str) -> dict[str, Any]:
    """The platform's own `emulation:` data (platform.yaml); empty when it has none."""
    return pspec.load(platform).section("emulation")


@pytest.fixture
def make_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def make(platform: str, intent: str) -> Built:
        return build_inventory(tmp_path, platform, intent, monkeypatch)

    return make


@pytest.fixture
def emulation_of() -> Any:
    return emulation_for


@pytest.fixture
def intent_tunnels() -> dict[str, list[dict[str, Any]]]:
    return INTENTS


def cli_platforms() -> list[str]:
    return [p for p in pspec.available() if pspec.load(p).driver == "cli"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`platform`: every platform folder; `cli_platform`: those with the cli driver; `intent`: INTENTS."""
    if "platform" in metafunc.fixturenames:
        metafunc.parametrize("platform", pspec.available())
    if "cli_platform" in metafunc.fixturenames:
        metafunc.parametrize("cli_platform", cli_platforms())
    if "intent" in metafunc.fixturenames:
        metafunc.parametrize("intent", list(INTENTS))
