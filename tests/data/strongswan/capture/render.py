"""Render ./inventory's device (both formats) and cloud side into /tmp/tscap/cfg for lab.sh."""

import dataclasses
import pathlib

from tunnelsmith import inventory, render

inv = inventory.load(pathlib.Path(__file__).parent / "inventory")
psk = {t: "tscap-capture-only-key" for t in inv.tunnels}  # throwaway lab key, never a real one
out = pathlib.Path("/tmp/tscap/cfg")
out.mkdir(parents=True, exist_ok=True)
for fmt in ("swanctl", "ipsec"):
    inv.devices["cap-dev"] = dataclasses.replace(inv.devices["cap-dev"], options={"format": fmt})
    for p, text in render.render_device(inv, "cap-dev", psk=psk).files.items():
        (out / f"dev-{fmt}-{pathlib.Path(p).name}").write_text(text)
for p, text in render.render_cloud_emulation(inv, "cap-cloud", psk=psk).files.items():
    (out / f"cloud-{pathlib.Path(p).name}").write_text(text)
