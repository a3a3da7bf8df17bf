"""Secret references and masking.

Pre-shared keys and passwords are never stored in inventory YAML: a tunnel names an
environment variable or a key in a secrets file (mode 0600, outside the inventory). Every value
resolved here is registered with the process-wide masker, so logs, diffs, reports and
exception texts can be scrubbed with `mask()` before anything is written or printed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import yaml

from tunnelsmith.errors import TunnelsmithError
from tunnelsmith.model import SecretRef

MASK = "********"
# Values shorter than this are not masked (masking every "x" would garble all text); validation
# refuses pre-shared keys that short, so no real secret falls below it.
MIN_MASKED = 4
PSK_MIN_LENGTH = 8
LAB_DIR_DEFAULT = "/var/lib/tunnelsmith-lab"
LAB_DIR_PLACEHOLDER = "${TUNNELSMITH_LAB_DIR}"
MAX_SECRETS_FILE = 1 << 20  # bytes; a secrets file is a handful of lines


class SecretError(TunnelsmithError):
    """A reference that cannot be resolved; the message never contains a secret value."""

    exit_code = 2


# --- device-encrypted forms ------------------------------------------------------------------
# Cisco type 7 is a reversible XOR with this well-known table; IOS picks a seed of 0-15.
_TYPE7_XLAT = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def cisco_type7(value: str, seed: int) -> str:
    """The Cisco type 7 form of `value` with one seed (IOS shows keys this way)."""
    out = [f"{seed:02d}"]
    for i, ch in enumerate(value):
        out.append(f"{ord(ch) ^ ord(_TYPE7_XLAT[(seed + i) % len(_TYPE7_XLAT)]):02X}")
    return "".join(out)


def cisco_type7_decode(token: str) -> str | None:
    """The text behind a Cisco type 7 token (two seed digits, then hex pairs), or None."""
    try:
        seed = int(token[:2])
        data = bytes.fromhex(token[2:])
    except ValueError:
        return None
    if seed > 15:
        return None
    return "".join(chr(b ^ ord(_TYPE7_XLAT[(seed + i) % len(_TYPE7_XLAT)])) for i, b in enumerate(data))


# A token that may be a type 7 key: seed 00-15 and an even number of hex digits.
_TYPE7_RE = re.compile(r"(?<![0-9A-Za-z])(?:0[0-9]|1[0-5])(?:[0-9A-Fa-f]{2}){2,}(?![0-9A-Za-z])")


# Key arguments of statements, masked whatever their value: the key's position in the statement
# says it is a key, so masking it reveals nothing. Group 1 is kept, group 2 is the key.
_KEY_STATEMENTS = [
    # a plain or typed key after a key keyword: pre-shared-key cipher X, key simple X, pre-share "X",
    # ascii-text "X", password 7 X, secret 5 X ...
    r"(\b(?:pre-shared-key|pre-share|ascii-text|plaintext|cipher|simple)[ \t]+"
    r"(?:(?:[0-9]|ascii-text|simple|cipher|plaintext|hexadecimal)[ \t]+)*)(?!address\b|hostname\b|local\b|remote\b)"
    r"(\"[^\"\n]*\"|[^\s]+)",
    r"(\b(?:key|password|secret)[ \t]+[5-9][ \t]+)(\S+)",                 # Cisco key 7 / password 7 / secret 5
    r"(\bcrypto (?:isakmp|ikev2) key[ \t]+(?:[0-9][ \t]+)?)(\S+)",           # crypto isakmp key X address ...
    r"(\bpre-shared-key\b[^\n]*?[ \t]key[ \t]+(?:(?:[0-9]|simple|cipher|plaintext)[ \t]+)?)(\S+)",
    r"(\bsecret[ \t]*=[ \t]*)(\"[^\"\n]*\"|\S+)",                             # swanctl.conf secret = "X"
    r"(:[ \t]*PSK[ \t]+)(\"[^\"\n]*\"|\S+)",                                   # ipsec.secrets : PSK "X"
]
# Encrypted keys recognisable by their form alone, masked wherever they appear.
_ENCRYPTED_TOKENS = [
    r"\$9\$[^\s\";]+",              # Junos $9$...
    r"\$[156]\$[^\s\";]+",          # crypt(3) hashes (Junos encrypted-password)
    r"%\^%#.*?%\^%#",               # Huawei %^%#...%^%#
    r"%@%@.*?%@%@",                 # Huawei V8 %@%@...%@%@
    r"%\$%\$.*?%\$%\$",             # Huawei %$%$...%$%$
    r"\$c\$\d\$[^\s\"]+",           # H3C $c$3$...
]
_STATEMENT_RE = re.compile("|".join(f"(?:{p})" for p in _KEY_STATEMENTS))
_TOKEN_RE = re.compile("|".join(f"(?:{p})" for p in _ENCRYPTED_TOKENS))


def _mask_statements(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        groups = [g for g in m.groups()]
        for i in range(0, len(groups), 2):
            if groups[i] is not None:
                return groups[i] + MASK
        return MASK

    return _STATEMENT_RE.sub(sub, _TOKEN_RE.sub(MASK, text))


_VOCABULARY: frozenset[str] | None = None


def vocabulary() -> frozenset[str]:
    """Words of every platform's configuration language (its templates and data), lower-cased.

    A secret that is one of these words is masked only where it is a statement's key argument:
    masking it wherever it appears would mark `crypto map m 10 ipsec-isakmp` and so tell the key.
    Validation refuses such keys; the masker must not reveal them meanwhile.
    """
    global _VOCABULARY
    if _VOCABULARY is None:
        from tunnelsmith.resources import platforms_root

        words: set[str] = set()
        for path in Path(platforms_root()).rglob("*"):
            if path.suffix in (".j2", ".yaml") and path.is_file():
                words.update(w.lower() for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*[A-Za-z0-9]",
                                                            path.read_text(encoding="utf-8")))
        _VOCABULARY = frozenset(words)
    return _VOCABULARY


class Masker:
    """Remembers every secret value seen and replaces it, and its encrypted forms, in any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._masked: set[str] = set()  # the values masked wherever they occur
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._stale = False

    def add(self, value: str) -> None:
        if not value or len(value) < MIN_MASKED:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            if value.lower() not in vocabulary():
                self._masked.add(value)
                self._stale = True

    def values(self) -> list[str]:
        """Every value and its Cisco type 7 forms, to keep out of logs (Netmiko's session-log no_log)."""
        with self._lock:
            values = set(self._values)
        forms = {cisco_type7(v, seed) for v in values if v.isascii() for seed in range(16)}
        return sorted(values | forms)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._stale:
                # longest first so a secret that contains another is masked whole
                alts = sorted(self._masked, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alts)) if alts else None
                self._stale = False
            return self._pattern

    def _type7(self, m: re.Match[str]) -> str:
        return MASK if cisco_type7_decode(m.group(0)) in self._values else m.group(0)

    def mask(self, text: str) -> str:
        if not text:
            return text
        text = _mask_statements(text)
        if self._values:
            text = _TYPE7_RE.sub(self._type7, text)
        pattern = self._compiled()
        return pattern.sub(MASK, text) if pattern is not None else text


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

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, ... of the wrapped stream
        return getattr(self._stream, name)


# --- the terminal ----------------------------------------------------------------------------
class MaskingFilter(logging.Filter):
    """Masks a log record's message; drops its traceback (a located message says what went wrong)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(shorten(record.getMessage(), 2000))
        record.args = None
        if record.exc_info and not os.environ.get("TUNNELSMITH_DEBUG"):
            exc = record.exc_info[1]
            record.msg += f" ({type(exc).__name__}: {mask(shorten(str(exc), 300))})" if exc else ""
            record.exc_info = None
            record.exc_text = None
        elif record.exc_info:
            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with no line break but "\\n", each "\\n" followed by an indent: nothing it quotes can
    pass for a line of its own."""
    return _BREAKS.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text).replace("\n", "\n    ")


def shorten(text: str, limit: int = 120) -> str:
    """`text` cut to `limit` characters (a long value must not flood a message)."""
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


class _StderrHandler(logging.Handler):
    """Writes each record as one masked line to whatever sys.stderr is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(one_line(mask(self.format(record))) + "\n")
        except Exception:  # a broken terminal must not end the run
            self.handleError(record)


def guard_terminal() -> None:
    """Everything reaching stderr is masked: Python's, third-party libraries' log lines and crashes.

    stderr is wrapped in a MaskingStream; every log record is masked when made; the root logger
    writes WARNING and above to stderr, one record a line (third-party tracebacks reduced to their
    message); an unexpected exception prints one masked line, its masked traceback only with
    TUNNELSMITH_DEBUG=1.
    """
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr)
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler(logging.WARNING)
        handler.addFilter(MaskingFilter())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        logging.lastResort = handler
    if not getattr(logging.getLogRecordFactory(), "_masks", False):
        logging.setLogRecordFactory(_masking_factory(logging.getLogRecordFactory()))
    logging.captureWarnings(True)
    sys.excepthook = _excepthook


def _masking_factory(make: Any) -> Any:
    """Every log record is masked as it is made, for every handler: Nornir logs a task's arguments
    (the rendered configuration, keys included) at INFO, and whoever configures logging sees them."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        with contextlib.suppress(Exception):  # a record whose arguments do not format stays as it is
            record.msg, record.args = mask(record.getMessage()), None
        return record

    factory._masks = True  # type: ignore[attr-defined]
    return factory


def _excepthook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
    if os.environ.get("TUNNELSMITH_DEBUG"):
        sys.stderr.write(mask("".join(traceback.format_exception(kind, exc, tb))))
        return
    text = mask(f"error: unexpected {kind.__name__}: {shorten(str(exc), 300)}"
                " (set TUNNELSMITH_DEBUG=1 for the masked traceback)")
    sys.stderr.write(one_line(text).replace("\n    ", " ") + "\n")


# --- paths and files -------------------------------------------------------------------------
def expand_path(raw: str) -> Path:
    """Expand ~ and the one placeholder ${TUNNELSMITH_LAB_DIR} (default: the lab's state directory).

    Any other `$` is refused: expanding $VARS let an inventory print any environment variable
    (another inventory's PSK) in an error message.
    """
    rest = raw.replace(LAB_DIR_PLACEHOLDER, "")
    if "$" in rest:
        raise SecretError(f"path {shorten(raw)!r}: only {LAB_DIR_PLACEHOLDER} is expanded in paths; "
                          "any other '$' is refused (write the path out)")
    lab = os.environ.get("TUNNELSMITH_LAB_DIR") or LAB_DIR_DEFAULT
    return Path(os.path.expanduser(raw.replace(LAB_DIR_PLACEHOLDER, lab)))


def check_secrets_file(path: Path, inventory_dir: Path | None) -> str | None:
    """Why a secrets file is unsafe to read, or None when it is fine."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"secrets file {path} does not exist"
    except OSError as exc:
        return f"secrets file {path} cannot be read: {exc.strerror}"
    if inventory_dir is not None:
        try:
            path.resolve().relative_to(inventory_dir.resolve())
            return f"secrets file {path} is inside the inventory directory; keep secrets outside it"
        except ValueError:
            pass
    return _unsafe(path, st)


def _unsafe(path: Path, st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return f"secrets file {path} is not a regular file (a FIFO, device or directory is refused)"
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return f"secrets file {path} has mode {mode:04o}; it must not be readable by group or others (0600)"
    if st.st_uid != os.geteuid():
        return f"secrets file {path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_size > MAX_SECRETS_FILE:
        return f"secrets file {path} is {st.st_size} bytes; a secrets file holds at most {MAX_SECRETS_FILE}"
    return None


class _SecretsLoader(yaml.BaseLoader):
    """Every scalar is the string as written (0123456701234567 and yes stay text); no aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed in a secrets file",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _construct_mapping(loader: _SecretsLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a name", key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"key {shorten(key)!r} appears twice",
                                                    key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_SecretsLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_secrets(path: Path) -> dict[str, Any]:
    """The file's top-level mapping, read safely: no FIFO wait, no alias expansion, no number guessing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SecretError(f"secrets file {path} cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        why = _unsafe(path, os.fstat(fh.fileno()))  # the file opened, not the one stat()ed before
        if why:
            raise SecretError(why)
        raw = fh.read(MAX_SECRETS_FILE + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretError(f"secrets file {path} is not UTF-8 text (byte offset {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_SecretsLoader)  # BaseLoader builds only str/list/dict
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise SecretError(f"secrets file {path} is not a YAML mapping of name: value{where}: {problem}") from None
    if data is None or data == "":
        return {}
    if not isinstance(data, dict):
        raise SecretError(f"secrets file {path} must hold a mapping of name: value")
    return data


_file_cache: dict[Path, dict[str, Any]] = {}


def _load_file(path: Path) -> dict[str, Any]:
    if path not in _file_cache:
        _file_cache[path] = _read_secrets(path)
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
            raise SecretError(f"key {shorten(ref.key)!r} not found in secrets file {path}")
        value = values[ref.key]
        if not isinstance(value, str):
            raise SecretError(f"key {shorten(ref.key)!r} in secrets file {path} is a "
                              f"{'list' if isinstance(value, list) else 'mapping'}, not one string")
    MASKER.add(value)
    return value
