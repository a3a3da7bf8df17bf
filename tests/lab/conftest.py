"""Lab tests: real namespaces, charon, sshd. Skipped unless root with the lab's system tools.

`lab` (session scope) brings the default lab up once in a temporary lab directory and takes
it down at the end; TUNNELSMITH_LAB_DIR points there for the session so the inventory's PSK
references (`${TUNNELSMITH_LAB_DIR}/secrets.yaml`) resolve to the lab's generated keys.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tunnelsmith import inventory
from tunnelsmith import lab as labapi
from tunnelsmith import secrets as secretmod
from tunnelsmith.model import Inventory

REPO = Path(__file__).resolve().parents[2]
LAB_INVENTORY = REPO / "inventory" / "lab"
TOOLS = ("ip", "swanctl", "ipsec", "sshd", "nft", "nsenter", "unshare", "ssh-keygen")
CHARON = "/usr/lib/ipsec/charon"
STARTER = "/usr/lib/ipsec/starter"


def _missing() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    missing += [p for p in (CHARON, STARTER) if not os.access(p, os.X_OK)]
    return missing


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root"
    missing = _missing()
    if missing:
        return f"lab tests need {', '.join(missing)}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.lab)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Lab:
    inv: Inventory
    lab_dir: Path
    first_up: object  # LabStatus of the first `up`


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from tunnelsmith import lab as labapi

    lab_dir = tmp_path_factory.mktemp("tslab")
    old = os.environ.get("TUNNELSMITH_LAB_DIR")
    os.environ["TUNNELSMITH_LAB_DIR"] = str(lab_dir)
    secretmod.clear_cache()
    inv = inventory.load(LAB_INVENTORY)
    try:
        first = labapi.up(inv, lab_dir)
        print(f"\nlab up (first) took {first.elapsed_s} s\n{first.table()}")
        yield Lab(inv=inv, lab_dir=lab_dir, first_up=first)
    finally:
        labapi.down(lab_dir)
        if old is None:
            os.environ.pop("TUNNELSMITH_LAB_DIR", None)
        else:
            os.environ["TUNNELSMITH_LAB_DIR"] = old
        secretmod.clear_cache()


@dataclass
class Conns:
    """What a node's charon has loaded for one peer, as `swanctl --list-conns` shows it.

    Works for swanctl.conf and for ipsec.conf (starter's conns are listed too), so tests need
    not know which naming a format uses: one selector pair under ipsec.conf is a conn named after
    the tunnel, under swanctl a child `<tunnel>-1`.
    """

    ike: list[str] = field(default_factory=list)
    children: list[tuple[str, str, str]] = field(default_factory=list)  # (name, local, remote)
    uri: str | None = None  # the charon holding them (None: the node's own; else a tunnel namespace's)

    def carrying(self, source: str, target: str) -> str:
        """The child whose selectors carry source -> target."""
        src, dst = ipaddress.ip_address(source), ipaddress.ip_address(target)
        hits = [n for n, lo, re_ in self.children
                if src in ipaddress.ip_network(lo) and dst in ipaddress.ip_network(re_)]
        assert len(hits) == 1, (source, target, self.children)
        return hits[0]


def loaded_conns(list_conns: str, local: str | None, remote: str) -> Conns:
    """Parse `swanctl --list-conns`; keep the peer configs between these two addresses.

    local=None matches any local address: a tunnel namespace's charon leaves from its own private
    address (NATed to the public one) and holds that one tunnel only.
    """
    out = Conns()
    ike: str | None = None
    addrs: dict[str, str] = {}
    child: list[str] | None = None
    for line in list_conns.splitlines():
        top = re.match(r"^(\S+): IKEv", line)
        if top:
            ike, addrs, child = top.group(1), {}, None
            continue
        addr = re.match(r"^  (local|remote): +(\S+)$", line)
        if ike and child is None and addr:
            addrs[addr.group(1)] = addr.group(2)
            if addrs.get("remote") == remote and (local is None or addrs.get("local") == local) \
                    and len(addrs) == 2:
                out.ike.append(ike)
            continue
        head = re.match(r"^  (\S+): (TUNNEL|TRANSPORT)", line)
        if head:
            child = [head.group(1)]
            continue
        sel = re.match(r"^    (local|remote): +(\S+)$", line)
        if ike in out.ike and child is not None and sel:
            child.append(sel.group(2))
            if len(child) == 3:
                out.children.append((child[0], child[1], child[2]))
    return out


def tunnel_conns(lab: Lab, tunnel: str, side: str = "device") -> Conns:
    """The tunnel's conns on its device (or on its cloud gateway), found by the two IKE addresses."""
    from tunnelsmith import lab as labapi
    from tunnelsmith import views

    t = lab.inv.tunnels[tunnel]
    end = next(e for e in views.device_ends(lab.inv, t.device) if e.name == tunnel)
    node, local, remote = ((t.device, end.local_ip, end.remote_ip) if side == "device"
                           else (t.cloud, end.remote_ip, end.local_ip))
    for uri in labapi.charon_uris(lab.lab_dir, node):
        text = labapi.swanctl(lab.lab_dir, node, ["--list-conns"], uri=uri, check=True).stdout
        found = loaded_conns(text, str(local) if uri is None else None, str(remote))
        if found.ike:
            found.uri = uri
            return found
    return Conns()


def list_sas(lab: Lab, node: str, conns: Conns) -> str:
    """`swanctl --list-sas` of the charon that holds these conns."""
    return labapi.swanctl(lab.lab_dir, node, ["--list-sas"], uri=conns.uri).stdout


# --- shared by the end-to-end and twin tests: the tunnelsmith command, one rollout, breakage --------
TS = str(Path(sys.executable).parent / "tunnelsmith")
CONTRACT_TUNNEL = {"name", "device", "cloud", "ok", "phase1", "phase2", "ping", "diagnosis"}


def ts(*args: str, runs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TS, *args, "--runs-dir", str(runs)], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def verify_json(runs: Path, *extra: str) -> dict[str, Any]:
    out = ts("verify", "-i", str(LAB_INVENTORY), "--format", "json", *extra, runs=runs)
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    assert (out.returncode == 0) == doc["ok"]
    return doc


def tunnel(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tunnels"] if t["name"] == name)


def renegotiate(lab: Lab, device: str, name: str) -> None:
    """Tear the tunnel's IKE SA down and initiate again (the result may be a failure).

    The names are what the device's charon has loaded for this peer (swanctl.conf and ipsec.conf
    name children differently), so this works for either format.
    """
    conns = tunnel_conns(lab, name)
    assert conns.ike and conns.children, f"{device} has nothing loaded for {name}"
    for ike in conns.ike:
        labapi.swanctl(lab.lab_dir, device, ["--terminate", "--ike", ike, "--force", "--timeout", "3"],
                       uri=conns.uri, timeout=20)
    for child, _, _ in conns.children:
        labapi.swanctl(lab.lab_dir, device, ["--initiate", "--child", child, "--timeout", "15"],
                       uri=conns.uri, timeout=30)



@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def rolled_out(lab: Lab, runs: Path) -> subprocess.CompletedProcess[str]:
    out = ts("rollout", "-i", str(LAB_INVENTORY), "--yes", "--format", "json", runs=runs)
    return out



@pytest.fixture
def variant(tmp_path: Path) -> Iterator[Any]:
    """A modified copy of the lab inventory (the 'cloud console' after someone changed it)."""

    def make(edit: Any) -> inventory.Inventory:
        d = tmp_path / "inv"
        shutil.copytree(LAB_INVENTORY, d)
        doc = yaml.safe_load((d / "tunnels.yaml").read_text())
        hosts = yaml.safe_load((d / "hosts.yaml").read_text())
        edit(doc, hosts)
        (d / "tunnels.yaml").write_text(yaml.safe_dump(doc))
        (d / "hosts.yaml").write_text(yaml.safe_dump(hosts))
        return inventory.load(d)

    yield make


@pytest.fixture
def restore(lab: Lab, rolled_out: subprocess.CompletedProcess[str]) -> Iterator[None]:
    yield
    labapi.block_ike(lab.lab_dir, enabled=False)
    for cloud in lab.inv.clouds:
        labapi.reload_cloud(lab.inv, cloud, lab.lab_dir)
    sas: dict[tuple[str, str | None], str] = {}
    for name, t in lab.inv.tunnels.items():
        conns = tunnel_conns(lab, name)
        if (t.device, conns.uri) not in sas:
            sas[(t.device, conns.uri)] = list_sas(lab, t.device, conns)
        if not tunnel_up(lab, name, sas[(t.device, conns.uri)], conns):  # only what a breakage took down
            renegotiate(lab, t.device, name)


def tunnel_up(lab: Lab, name: str, list_sas: str, conns: Conns | None = None) -> bool:
    """Every IKE SA and CHILD SA the device has loaded for this tunnel is established/installed."""
    conns = conns or tunnel_conns(lab, name)
    ike_up = all(re.search(rf"^{re.escape(i)}: #\d+, ESTABLISHED", list_sas, re.M) for i in conns.ike)
    kids_up = all(re.search(rf"^\s+{re.escape(c)}: #\d+, reqid \d+, INSTALLED", list_sas, re.M)
                  for c, _, _ in conns.children)
    return bool(conns.ike) and ike_up and kids_up


def set_value(name: str, path: list[str], value: Any) -> Any:
    def edit(doc: dict[str, Any], hosts: dict[str, Any]) -> None:
        t = next(t for t in doc["tunnels"] if t["name"] == name)
        node = t
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return edit


