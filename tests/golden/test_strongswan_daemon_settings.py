"""/etc/strongswan.d/tunnelsmith.conf (seed 001 3.3.4.1 step 7): with more than 3 IKEv1
connections charon.max_ikev1_exchanges must exceed their number; both file formats get it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from tunnelsmith import inventory, render


def _inventory(tmp_path: Path, v1: int, v2: int):
    hosts = {
        "gw": {"data": {"role": "cloud", "provider": "generic", "public_ips": ["203.0.113.1"],
                        "vpc_subnets": ["198.19.0.0/24"]}},
        "dev": {"hostname": "198.18.0.2", "platform": "strongswan",
                "data": {"role": "device", "wan_interface": "eth0", "public_ip": "198.51.100.1",
                         "lan_subnets": ["198.18.1.0/24"]}},
    }
    tunnels = [{"name": f"t{i}", "cloud": "gw", "device": "dev", "psk": {"env": "TS_TEST_PSK"},
                "ike": {"version": 1 if i < v1 else 2},
                "routing": {"mode": "policy", "selectors": [{"local": f"198.18.{i + 1}.0/24",
                                                             "remote": f"198.19.{i + 1}.0/24"}]}}
               for i in range(v1 + v2)]
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (tmp_path / "tunnels.yaml").write_text(yaml.safe_dump({"tunnels": tunnels}))
    return inventory.load(tmp_path)


@pytest.mark.parametrize("fmt", ["swanctl", "ipsec"])
@pytest.mark.parametrize(("v1", "v2", "expected"), [(4, 1, 5), (6, 0, 7), (3, 2, None), (0, 5, None)])
def test_max_ikev1_exchanges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, v1: int, v2: int,
                             expected: int | None) -> None:
    monkeypatch.setenv("TS_TEST_PSK", "test-only-key")
    inv = _inventory(tmp_path, v1, v2)
    inv.devices["dev"] = dataclasses.replace(inv.devices["dev"], options={"format": fmt})
    files = render.render_device(inv, "dev").files
    conf = files.get("/etc/strongswan.d/tunnelsmith.conf")
    if expected is None:
        assert conf is None
        return
    assert conf is not None
    m = re.search(r"charon\s*\{\s*max_ikev1_exchanges\s*=\s*(\d+)\s*\}", conf)
    assert m and int(m.group(1)) == expected > v1
    # and the connections themselves are in the chosen format
    main = "/etc/ipsec.conf" if fmt == "ipsec" else "/etc/swanctl/conf.d/tunnelsmith.conf"
    assert main in files
    assert len(re.findall(r"keyexchange=ikev1|version = 1", files[main])) == v1
