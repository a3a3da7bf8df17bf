"""Lab tests: real namespaces, charon, sshd. Skipped unless root with the lab's system tools.

`lab` (session scope) brings the default lab up once in a temporary lab directory and takes
it down at the end; TUNNELSMITH_LAB_DIR points there for the session so the inventory's PSK
references (`${TUNNELSMITH_LAB_DIR}/secrets.yaml`) resolve to the lab's generated keys.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tunnelsmith import inventory
from tunnelsmith import secrets as secretmod
from tunnelsmith.model import Inventory

REPO = Path(__file__).resolve().parents[2]
LAB_INVENTORY = REPO / "inventory" / "lab"
TOOLS = ("ip", "swanctl", "sshd", "nft", "nsenter", "unshare", "ssh-keygen")
CHARON = "/usr/lib/ipsec/charon"


def _missing() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if not os.access(CHARON, os.X_OK):
        missing.append(CHARON)
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
