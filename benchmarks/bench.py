"""tunnelsmith benchmarks: print figures, assert nothing.

    .venv/bin/python benchmarks/bench.py [--tunnels N] [--no-lab]

1. Offline: a synthetic inventory of N tunnels over every platform (devices of 4 tunnels each):
   load, validate and render times, per tunnel, and peak Python memory (tracemalloc).
2. Lab (root, lab tools present, no lab already up): `lab up` cold and warm (the issue's target:
   under 20 s for the default lab), `rollout --yes`, a second (no-change) rollout, `verify`,
   `lab down`. It uses a temporary lab directory and takes down only what it brought up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TS = str(Path(sys.executable).parent / "tunnelsmith")
WAN = {"strongswan": "eth0", "cisco_ios": "GigabitEthernet0/0", "juniper_junos": "ge-0/0/0",
       "huawei_vrp": "GigabitEthernet0/0/1", "hp_comware": "GigabitEthernet1/0", "hillstone_stoneos": "ethernet0/0"}


def synthetic(directory: Path, tunnels: int) -> None:
    """N tunnels, 4 per device, platforms in turn; one generic cloud gateway per device."""
    from tunnelsmith.platforms import spec as pspec

    platforms = [p for p in pspec.available() if p in WAN]
    hosts: dict[str, dict] = {}
    specs = []
    for i in range(tunnels):
        d, k = divmod(i, 4)
        dev, cloud = f"dev{d}", f"gw{d}"
        platform = platforms[d % len(platforms)]
        a, b = divmod(d, 250)
        if dev not in hosts:
            hosts[dev] = {"hostname": f"{dev}.example.invalid", "platform": platform, "username": "admin",
                          "data": {"role": "device", "wan_interface": WAN[platform],
                                   "public_ip": f"198.51.{100 + a}.{b + 1}",
                                   "lan_subnets": [f"10.{a}.{b}.0/24"]}}
            ips = [f"203.{(d * 4 + j) // 250}.{113 + a}.{(d * 4 + j) % 250 + 1}" for j in range(4)]
            hosts[cloud] = {"data": {"role": "cloud", "provider": "generic", "public_ips": ips,
                                     "vpc_subnets": [f"172.{16 + a}.{b}.{k * 64}/26" for k in range(4)]}}
        specs.append({"name": f"t{i}", "cloud": cloud, "device": dev, "psk": {"env": "TS_BENCH_PSK"},
                      "cloud_ip": hosts[cloud]["data"]["public_ips"][k],
                      "ike": {"version": 1 + i % 2, "mode": "main", "encryption": "aes-256", "integrity": "sha256",
                              "dh_group": 14, "lifetime": 28800},
                      "ipsec": {"encryption": "aes-256", "integrity": "sha256", "pfs_group": 14, "lifetime": 3600,
                                "dpd": {"enabled": True, "interval": 10, "retries": 3}},
                      "routing": {"mode": "policy", "selectors": [
                          {"local": f"10.{a}.{b}.0/24", "remote": f"172.{16 + a}.{b}.{k * 64}/26"}]}})
    for name, doc in (("hosts.yaml", hosts), ("tunnels.yaml", {"tunnels": specs})):
        (directory / name).write_text(yaml.safe_dump(doc))


def offline(tunnels: int) -> None:
    from tunnelsmith import inventory, render, validate

    os.environ["TS_BENCH_PSK"] = "bench-key-0123456789"
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        synthetic(d, tunnels)
        tracemalloc.start()
        t0 = time.perf_counter()
        inv = inventory.load(d)
        t1 = time.perf_counter()
        problems = validate.validate(inv)
        t2 = time.perf_counter()
        for dev in inv.devices:
            render.render_device(inv, dev)
        t3 = time.perf_counter()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    n = len(inv.tunnels)
    print(f"offline: {n} tunnels on {len(inv.devices)} devices ({len(problems)} validation problems)")
    for what, secs in (("load", t1 - t0), ("validate", t2 - t1), ("render", t3 - t2)):
        print(f"  {what:<9} {secs:7.3f} s   {1000 * secs / n:6.2f} ms/tunnel")
    print(f"  peak Python memory {peak / 2**20:.1f} MiB")


def timed(label: str, argv: list[str], env: dict[str, str]) -> None:
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    print(f"  {label:<22} {time.perf_counter() - t0:6.2f} s   exit {out.returncode}")
    if out.returncode != 0:
        print("    " + (out.stderr.strip().splitlines() or [""])[-1][:200])


def _device_per_platform(inv_dir: str) -> list[tuple[str, str]]:
    """The first device of each platform in the lab inventory."""
    hosts = yaml.safe_load((Path(inv_dir) / "hosts.yaml").read_text())
    groups = yaml.safe_load((Path(inv_dir) / "groups.yaml").read_text()) or {}
    seen: dict[str, str] = {}
    for name, h in hosts.items():
        platform = h.get("platform") or next((groups[g].get("platform") for g in h.get("groups") or []
                                              if (groups.get(g) or {}).get("platform")), None)
        if platform and (h.get("data") or {}).get("role", "device") != "cloud" and platform not in seen:
            seen[platform] = name
    return sorted(seen.items())


def lab() -> None:
    if os.geteuid() != 0 or not shutil.which("swanctl"):
        print("lab: skipped (needs root and the lab's system packages)")
        return
    if subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.strip():
        print("lab: skipped (network namespaces exist already: run `tunnelsmith lab down` first)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TUNNELSMITH_LAB_DIR": f"{tmp}/lab"}
        inv, runs = str(REPO / "inventory" / "lab"), f"{tmp}/runs"
        print("lab (default lab inventory):")
        try:
            timed("lab up (cold)", [TS, "lab", "up", "-i", inv], env)
            timed("lab up (warm)", [TS, "lab", "up", "-i", inv], env)
            timed("rollout --yes", [TS, "rollout", "-i", inv, "--yes", "--runs-dir", runs], env)
            timed("rollout (no change)", [TS, "rollout", "-i", inv, "--yes", "--runs-dir", runs], env)
            timed("verify", [TS, "verify", "-i", inv, "--runs-dir", runs], env)
            print("  per platform (one device each, --limit):")
            for platform, device in _device_per_platform(inv):
                timed(f"  verify {platform}", [TS, "verify", "-i", inv, "--limit", device, "--runs-dir", runs], env)
                timed(f"  rollout {platform}", [TS, "rollout", "-i", inv, "--yes", "--limit", device,
                                                "--rotate-secrets", "--runs-dir", runs], env)
        finally:
            timed("lab down", [TS, "lab", "down"], env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tunnels", type=int, default=400)
    ap.add_argument("--no-lab", action="store_true")
    args = ap.parse_args()
    offline(args.tunnels)
    if not args.no_lab:
        lab()


if __name__ == "__main__":
    main()
