"""Every run keeps a directory: runs/<run_id>/<device>/ with what was rendered, what changed,
the SSH session log, the collected status output and the verdict.

Everything written here goes through the secret masker, except pre-change backups, which must
hold the device's real configuration to be restorable: those are created exclusively (never
overwritten) with mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import json
import os
import re
import secrets as pysecrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import UsageError
from tunnelsmith.platforms.base import Backup, Change

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def safe_component(name: str) -> str:
    """A host or run name as one directory name that stays where it is put.

    Validation refuses unsafe host names already; this is the second guard. A name that is not
    plain (a '/', '..', a leading dot, an absolute path, control characters) is percent-encoded
    with a '%' prefix, so it can neither climb out of the run directory nor collide with a plain name.
    """
    if _SAFE.match(name) and ".." not in name:
        return name
    encoded = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else
                      "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in name)
    return ("%" + encoded)[:200] or "%"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + pysecrets.token_hex(3)


@dataclass
class RunDir:
    root: Path
    run_id: str

    @classmethod
    def create(cls, base: str | Path, run_id: str | None = None) -> RunDir:
        run_id = run_id or new_run_id()
        root = Path(base) / run_id
        try:
            root.mkdir(parents=True, exist_ok=False)
            os.chmod(root, 0o700)
        except OSError as exc:  # --runs-dir is a file, unwritable, on a full disk ...
            raise UsageError(f"--runs-dir {base}: cannot create the run directory {root}: "
                             f"{exc.strerror or exc}") from None
        return cls(root=root, run_id=run_id)

    @classmethod
    def open(cls, base: str | Path, run_id: str) -> RunDir:
        if not _SAFE.match(run_id) or ".." in run_id:
            raise FileNotFoundError(f"no run {run_id!r} under {base} (a run id is one plain name)")
        root = Path(base) / run_id
        if not root.is_dir():
            raise FileNotFoundError(f"no run {run_id} under {base}")
        return cls(root=root, run_id=run_id)

    def device_dir(self, device: str) -> Path:
        d = self.root / safe_component(device)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def write(self, device: str | None, name: str, text: str) -> Path:
        """Write a masked artifact (rendered config, diff, status output, report)."""
        d = self.device_dir(device) if device else self.root
        path = d / name
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"refusing to write {name!r} outside the run directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secretmod.mask(text), encoding="utf-8")
        return path

    def write_json(self, device: str | None, name: str, data: Any) -> Path:
        return self.write(device, name, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")

    def session_log(self, device: str) -> Path:
        return self.device_dir(device) / "session.log"

    # --- backups: exclusive, unmasked, 0600 ---------------------------------------------
    def write_backup(self, backup: Backup) -> Path:
        d = self.device_dir(backup.host) / "backup"
        d.mkdir(mode=0o700, exist_ok=True)
        path = d / "backup.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrite
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"host": backup.host, "platform": backup.platform, "files": backup.files}, fh, indent=2)
        return path

    def read_backup(self, device: str) -> Backup:
        path = self.root / safe_component(device) / "backup" / "backup.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        return Backup(host=data["host"], platform=data["platform"], files=data["files"])

    def write_change(self, change: Change) -> Path:
        """change.json: what the push did (no secrets: counts and flags), for a later rollback."""
        return self.write_json(change.host, "change.json", change.as_dict())

    def read_change(self, device: str) -> Change | None:
        path = self.root / safe_component(device) / "change.json"
        if not path.exists():
            return None
        return Change.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def has_backup(self, device: str) -> bool:
        return (self.root / safe_component(device) / "backup" / "backup.json").exists()
