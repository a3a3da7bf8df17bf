"""YAML and secrets-file reading with limits, so a hostile or mistaken file fails fast and located.

PyYAML silently keeps the last of two duplicate keys, expands aliases without bound when the
result is walked (a few hundred bytes can stand for billions of nodes), follows merge keys that
hide where a value came from, and reads whatever encoding it is handed. Here every file is read
as bytes (size-bounded), decoded as strict UTF-8 (an error names the byte offset), composed into
nodes whose expanded size is counted before anything is built, and constructed with duplicate and
merge keys refused. Problems are `YamlFileError`s carrying the file and, where known, the line.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_NODES = 200_000  # nodes after alias expansion; the largest shipped inventory has a few thousand


class YamlFileError(ValueError):
    """A file that cannot be used as YAML input; `line` is 1-based when known."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path, self.message, self.line = str(path), message, line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class DuplicateKeyError(YamlFileError):
    def __init__(self, path: Path | str, key: str, line: int):
        self.key = key
        super().__init__(path, f"duplicate name {key!r} (line {line}); YAML would silently keep only the last one",
                         line)


# libyaml's parser when available (several times faster on large inventories); same safe constructors.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):  # type: ignore[valid-type,misc]
    """Safe loader that records each mapping's key lines and refuses duplicate and merge keys."""

    path: str = "<yaml>"
    lines: dict[int, dict[Any, int]]


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise YamlFileError(loader.path, "merge keys (<<) are not supported: they hide where a value "
                                "comes from; write the keys out or use Nornir groups", line)
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlFileError(loader.path, "a mapping key must be a plain name, not a list or mapping", line)
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(loader.path, str(key), line)
        seen[key] = line
        out[key] = loader.construct_object(value_node, deep=deep)
    loader.lines[id(out)] = seen
    return out


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(node: yaml.Node, path: str) -> int:
    """Nodes the document stands for with every alias expanded (memoised, so computing it is cheap)."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise YamlFileError(path, "a recursive alias (an anchor used inside itself)", n.start_mark.line + 1)
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in n.value)
        active.discard(key)
        memo[key] = total
        if total > MAX_NODES:
            raise YamlFileError(path, f"aliases expand this document to more than {MAX_NODES} values "
                                "(an alias bomb?)", n.start_mark.line + 1)
        return total

    return size(node)


def decode(path: Path | str, data: bytes) -> str:
    """Strict UTF-8 (a UTF-8 byte-order mark is dropped); anything else names the byte offset."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlFileError(path, "is UTF-16 encoded (byte-order mark at byte 0); save it as UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlFileError(path, f"is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset "
                            f"{exc.start}", line) from None


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes; directories, FIFOs, devices, unreadable and oversized files are refused."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise YamlFileError(path, "file not found") from None
    except OSError as exc:
        raise YamlFileError(path, f"cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise YamlFileError(path, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise YamlFileError(path, "is not a regular file (a FIFO, socket or device); refused")
    if st.st_size > limit:
        raise YamlFileError(path, f"is {st.st_size} bytes; the limit is {limit}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise YamlFileError(path, f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # swapped after the stat
            raise YamlFileError(path, "is not a regular file; refused")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise YamlFileError(path, f"is larger than the limit of {limit} bytes")
    return data


@dataclass
class Loaded:
    """A parsed document and the line of every mapping key (by id of the mapping, valid while `doc` lives)."""

    doc: Any
    lines: dict[int, dict[Any, int]] = field(default_factory=dict)

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the deepest key of `path` that exists in the document."""
        node, line = self.doc, None
        for part in path:
            if isinstance(node, dict) and part in node:
                line = self.lines.get(id(node), {}).get(part, line)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                break
        return line


def parse(text: str, path: Path | str = "<yaml>", loader_cls: type = StrictLoader) -> Loaded:
    """Compose, bound, then construct one YAML document."""
    loader = loader_cls(text)
    loader.path = str(path)
    loader.lines = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return Loaded(None, {})
        _expanded_size(node, str(path))
        return Loaded(loader.construct_document(node), loader.lines)
    except YamlFileError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlFileError(path, f"not valid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(path, f"not valid YAML: {str(exc).splitlines()[0] if str(exc) else 'error'}") from None
    except RecursionError:
        raise YamlFileError(path, "nested too deeply") from None
    finally:
        loader.dispose()


def load_file(path: Path | str) -> Loaded:
    p = Path(path)
    return parse(decode(p, read_bytes(p)), p)


def load_strict(path: Path | str) -> Any:
    """The document in one file (YamlFileError on any problem)."""
    return load_file(path).doc


