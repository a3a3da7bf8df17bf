"""Secret references and masking.

Pre-shared keys and passwords are never stored in inventory YAML: a tunnel names an
environment variable or a key in a secrets file (mode 0600, outside the inventory). Every value
resolved here is registered with the process-wide masker, so logs, diffs, reports and
exception texts can be scrubbed with `mask()` before anything is written or printed.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path
from typing import Any

import yaml

from tunnelsmith.model import SecretRef

MASK = "********"
# Values shorter than this are not masked (masking every "x" would garble all text); validation
# refuses pre-shared keys that short, so no real secret falls below it.
MIN_MASKED = 4
PSK_MIN_LENGTH = 8
LAB_DIR_DEFAULT = "/var/lib/tunnelsmith-lab"


class SecretError(Exception):
    """A reference that cannot be resolved; the message never contains a secret value."""


class Masker:
    """Remembers every secret value seen and replaces it in any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if not value or len(value) < MIN_MASKED:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                # longest first so a secret that contains another is masked whole
                alts = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alts))

    def values(self) -> list[str]:
        with self._lock:
            return sorted(self._values)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)


MASKER = Masker()


def mask(text: str) -> str:
    return MASKER.mask(text)


class MaskingStream:
    """A text stream wrapper that masks every write: nothing printed through it can leak a key."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(mask(text))

    def flush(self) -> None:
        self._stream.flush()

    def getvalue(self) -> str:  # for io.StringIO targets (tests)
        return self._stream.getvalue()

    def isatty(self) -> bool:
        return bool(getattr(self._stream, "isatty", lambda: False)())


def expand_path(raw: str) -> Path:
    """Expand ~ and $VARS; ${TUNNELSMITH_LAB_DIR} defaults to the lab's state directory."""
    env = dict(os.environ)
    env.setdefault("TUNNELSMITH_LAB_DIR", LAB_DIR_DEFAULT)

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return env.get(name, m.group(0))

    return Path(os.path.expanduser(re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, raw)))


def check_secrets_file(path: Path, inventory_dir: Path | None) -> str | None:
    """Why a secrets file is unsafe to read, or None when it is fine."""
    if not path.exists():
        return f"secrets file {path} does not exist"
    if inventory_dir is not None:
        try:
            path.resolve().relative_to(inventory_dir.resolve())
            return f"secrets file {path} is inside the inventory directory; keep secrets outside it"
        except ValueError:
            pass
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return f"secrets file {path} has mode {mode:04o}; it must not be readable by group or others (0600)"
    return None


_file_cache: dict[Path, dict[str, str]] = {}


def _load_file(path: Path) -> dict[str, str]:
    if path not in _file_cache:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise SecretError(f"secrets file {path} must hold a mapping of name: value")
        _file_cache[path] = {str(k): str(v) for k, v in data.items()}
    return _file_cache[path]


def clear_cache() -> None:
    _file_cache.clear()


def resolve(ref: SecretRef, inventory_dir: Path | None = None) -> str:
    """The secret's value (registered with the masker), or SecretError saying what is missing."""
    if ref.env:
        value = os.environ.get(ref.env)
        if value is None or value == "":
            raise SecretError(f"environment variable {ref.env} is not set")
    else:
        if not ref.file or not ref.key:
            raise SecretError("a file reference needs both 'file' and 'key'")
        path = expand_path(ref.file)
        why = check_secrets_file(path, inventory_dir)
        if why:
            raise SecretError(why)
        values = _load_file(path)
        if ref.key not in values:
            raise SecretError(f"key {ref.key!r} not found in secrets file {path}")
        value = values[ref.key]
    MASKER.add(value)
    return value
