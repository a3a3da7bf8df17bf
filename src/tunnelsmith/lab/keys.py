"""Lab credentials: SSH client key, device host keys, known_hosts, pre-shared keys.

Everything is generated only when missing so repeated `lab up` calls keep the same identities
(pinned host keys stay valid). All of it lives in the lab directory, never in the repository.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import yaml

from tunnelsmith import secrets as secretmod
from tunnelsmith.lab.state import write_private

SECRETS_FILE = "secrets.yaml"


def _keygen(path: Path, comment: str) -> None:
    if path.exists() and path.with_suffix(".pub").exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)
    path.chmod(0o600)


def client_key(lab_dir: Path) -> Path:
    """The ed25519 key the toolkit logs in with (ssh/id_ed25519, 0600)."""
    key = lab_dir / "ssh" / "id_ed25519"
    (lab_dir / "ssh").mkdir(parents=True, exist_ok=True, mode=0o700)
    _keygen(key, "tunnelsmith-lab-client")
    return key


def host_key(node_dir: Path, name: str) -> Path:
    key = node_dir / "ssh" / "ssh_host_ed25519_key"
    _keygen(key, f"tunnelsmith-lab-{name}")
    return key


def known_hosts_line(host: str, port: int, pubkey_file: Path) -> str:
    kind, blob = pubkey_file.read_text().split()[:2]
    where = host if port == 22 else f"[{host}]:{port}"
    return f"{where} {kind} {blob}"


def write_known_hosts(lab_dir: Path, entries: list[tuple[str, int, Path]]) -> Path:
    """ssh/known_hosts with each device's real host key, keyed by its management address."""
    path = lab_dir / "ssh" / "known_hosts"
    text = "".join(known_hosts_line(h, p, pub) + "\n" for h, p, pub in entries)
    if not path.exists() or path.read_text() != text:
        write_private(path, text, 0o644)
    return path


def ensure_psks(lab_dir: Path, tunnels: list[str]) -> Path:
    """secrets.yaml (0600): one random PSK per tunnel; existing keys are kept."""
    path = lab_dir / SECRETS_FILE
    current: dict[str, str] = {}
    if path.exists():
        current = {str(k): str(v) for k, v in (yaml.safe_load(path.read_text()) or {}).items()}
    # A key that starts with 0 is refused by AWS; keys of older labs that do are replaced.
    missing = [t for t in tunnels if t not in current or current[t].startswith("0")]
    for t in missing:
        # a letter, then hex: safe on every platform's CLI, in quotes, and for every cloud's rules
        current[t] = "k" + secrets.token_hex(20)
    if missing or not path.exists():
        write_private(path, yaml.safe_dump(current, sort_keys=True))
        secretmod.clear_cache()
    else:
        path.chmod(0o600)
    return path


def lab_psks(lab_dir: Path) -> dict[str, str]:
    path = lab_dir / SECRETS_FILE
    if not path.exists():
        return {}
    values = {str(k): str(v) for k, v in (yaml.safe_load(path.read_text()) or {}).items()}
    for v in values.values():
        secretmod.MASKER.add(v)
    return values
