"""Validate the raw inventory files against `invmodel` and say what is wrong the way an operator reads it.

pydantic's own messages name Python types and echo whole values; here each error becomes a
`Problem` with the file, the line, the host, group or tunnel, the dotted field and a short reason
(values shortened and escaped, a "did you mean" for misspelt keys and values).
"""

from __future__ import annotations

import copy
import difflib
import re
from typing import Any

from pydantic import ValidationError

from tunnelsmith import invmodel
from tunnelsmith.errors import Problem, char_name, shown
from tunnelsmith.validation.strings import control
from tunnelsmith.yamlio import Loaded

_FORBIDDEN = re.compile(f"[{invmodel.FORBIDDEN_CHARS}]")
FILE_OF = {"hosts": "hosts.yaml", "groups": "groups.yaml", "defaults": "defaults.yaml", "tunnels": "tunnels.yaml"}


def check(doc: dict[str, Any], files: dict[str, str], loaded: dict[str, Loaded]) -> list[Problem]:
    """Every structural problem of the document {hosts, groups, defaults, tunnels}."""
    try:
        invmodel.document_model().model_validate(doc)
    except ValidationError as exc:
        return [_problem(e, doc, files, loaded) for e in _expanded(exc.errors())]
    return []


def _expanded(errors: list[Any]) -> list[Any]:
    """One error per tunnel and key for the tunnels file's "required unless defaulted" check."""
    out = []
    for e in errors:
        if e["type"] == "tunnel_required":
            for i, key in (e.get("ctx") or {}).get("missing", []):
                out.append({**e, "type": "missing", "loc": (*tuple(e["loc"]), "tunnels", i, key)})
        else:
            out.append(e)
    return out


def pruned(doc: dict[str, Any], rounds: int = 25) -> dict[str, Any] | None:
    """A copy of `doc` without the values the model refuses, so the loader can still report the
    problems of everything else in the same run; None when nothing usable is left."""
    doc = copy.deepcopy(doc)
    model = invmodel.document_model()
    for _ in range(rounds):
        try:
            model.model_validate(doc)
            return doc
        except ValidationError as exc:
            targets = {_target(e) for e in _expanded(exc.errors())}
        if None in targets:
            return None
        for loc in sorted(targets, key=lambda t: [str(x) for x in t], reverse=True):  # later list items first
            _drop(doc, loc)
    return None


def _target(e: Any) -> tuple[Any, ...] | None:
    """What to remove for one error: the refused value, the mapping lacking a required key, the whole
    list holding a refused item (but only the one tunnel of tunnels.yaml's list)."""
    loc = tuple(e["loc"])
    if e["type"] == "name" and len(loc) == 1:
        return (loc[0], (e.get("ctx") or {}).get("name"))
    loc = tuple(p for p in loc if p != "[key]")
    if e["type"] == "missing":
        loc = loc[:-1]
        if loc[:2] == ("tunnels", "tunnels") and len(loc) == 3:  # a tunnel lacking a required key
            return loc
    for i, part in enumerate(loc):
        if isinstance(part, int) and not (i == 2 and loc[:2] == ("tunnels", "tunnels")):
            loc = loc[:i]
            break
    if (loc[:1] in (("hosts",), ("tunnels",)) and len(loc) == 1) or loc == ("tunnels", "tunnels"):
        return None
    return loc


def _drop(doc: Any, loc: tuple[Any, ...]) -> None:
    node = doc
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return  # already gone with its parent
    if isinstance(node, dict):
        node.pop(loc[-1], None)
    elif isinstance(node, list) and isinstance(loc[-1], int) and loc[-1] < len(node):
        del node[loc[-1]]


def suggest(word: Any, candidates: list[Any]) -> str:
    """ "; did you mean 'x'?" when one candidate is close, else ""."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(c) for c in candidates if c is not None], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _where(loc: tuple[Any, ...], doc: dict[str, Any], files: dict[str, str]
           ) -> tuple[str, str, tuple[Any, ...], tuple[Any, ...]]:
    """(file, object, path inside the file's document, path inside the object) for a model location."""
    loc = tuple(p for p in loc if p != "[key]")
    stem = str(loc[0]) if loc else ""
    file = files.get(stem, FILE_OF.get(stem, ""))
    rest = loc[1:]
    if stem in ("hosts", "groups") and rest:
        kind = "host" if stem == "hosts" else "group"
        return file, f"{kind} {rest[0]}", rest, rest[1:]
    if stem == "defaults":
        return file, "defaults", rest, rest
    if stem == "tunnels" and rest[:1] == ("tunnels",) and len(rest) > 1 and isinstance(rest[1], int):
        i = rest[1]
        specs = (doc.get("tunnels") or {}).get("tunnels") if isinstance(doc.get("tunnels"), dict) else None
        spec = specs[i] if isinstance(specs, list) and i < len(specs) else None
        name = spec.get("name") if isinstance(spec, dict) else None
        ok = isinstance(name, str) and name and not _FORBIDDEN.search(name) and len(name) <= 64
        return file, f"tunnel {name}" if ok else f"tunnel #{i + 1}", rest, rest[2:]
    if stem == "tunnels" and rest[:1] == ("defaults",):
        return file, "tunnel defaults", rest, rest[1:]
    return file, "", rest, rest


def _dotted(parts: tuple[Any, ...]) -> str:
    """The field as the loader names it: a list's items are reported at the list (data.public_ips)."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            break
        out += f".{p}" if out else str(p)
    return out


def _item(within: tuple[Any, ...]) -> str:
    """ "entry 2: " when the problem is inside a list item, so the field stays the loader's."""
    for i, p in enumerate(within):
        if isinstance(p, int):
            tail = ".".join(str(x) for x in within[i + 1:] if not isinstance(x, int))
            return f"entry {p + 1}{' ' + tail if tail else ''}: "
    return ""


def _problem(e: Any, doc: dict[str, Any], files: dict[str, str], loaded: dict[str, Loaded]) -> Problem:
    loc = tuple(e["loc"])
    file, obj, inner, within = _where(loc, doc, files)
    field = _dotted(within)
    stem = str(loc[0]) if loc else ""
    line = loaded[stem].line_of(inner) if stem in loaded else None
    message = _item(within) + _message(e, loc)
    if e["type"] == "name" and loc[:1] in (("hosts",), ("groups",)):
        name = (e.get("ctx") or {}).get("name")
        obj = f"{'host' if loc[0] == 'hosts' else 'group'} {shown(name)}"
        line = loaded[stem].line_of((name,)) if stem in loaded else None
    return Problem(file, obj, field, message, line)


def _message(e: Any, loc: tuple[Any, ...]) -> str:
    kind, value, ctx = e["type"], e.get("input"), e.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return "is required"
    if isinstance(value, (list, tuple)) and kind.startswith(("string", "int", "bool", "float", "enum")):
        return f"has {len(value)} values {shown(value)}; the cloud accepts exactly one"
    if kind in ("enum", "int_type") and isinstance(value, str) and ("," in value or " " in value.strip()):
        return f"{shown(value)} looks like several values; give exactly one"
    if kind == "enum" and isinstance(value, str) and _FORBIDDEN.search(value):
        return _pattern("", value)
    if kind == "enum":
        allowed = list(ctx.get("allowed") or [])
        listed = ", ".join(str(a) for a in allowed) if len(allowed) <= 16 else ", ".join(
            str(a) for a in allowed[:16]) + ", ..."
        return f"must be one of {listed}, not {shown(value)}{suggest(value, allowed)}"
    if kind == "string_type":
        return f"must be a string, not {_type(value)} {shown(value)}"
    if kind == "string_pattern_mismatch":
        return _pattern(str(ctx.get("pattern", "")), value)
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is {len(value)} characters long; at most {ctx.get('max_length')} are accepted"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, not {_type(value)} {shown(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {_type(value)} {shown(value)}"
    if kind == "bool_type":
        return f"must be true or false, not {shown(value)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{shown(value)} is out of range: must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{shown(value)} is out of range: must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of keys, not {_type(value)} {shown(value)}"
    if kind == "list_type":
        return f"must be a list, not {_type(value)} {shown(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} entry"
    if kind in ("secret_ref", "routing", "name", "unique", "secret_key"):
        return _custom(e)
    return str(e.get("msg", kind))


def _custom(e: Any) -> str:
    ctx = {k: shown(v) if k in ("name", "value", "key") else v for k, v in (e.get("ctx") or {}).items()}
    try:
        return str(e.get("msg", "")).format(**ctx) if "{" in str(e.get("msg", "")) else str(e.get("msg"))
    except (KeyError, IndexError, ValueError):
        return str(e.get("msg"))


def _unknown_key(loc: tuple[Any, ...]) -> str:
    key = loc[-1]
    known = invmodel.known_keys(loc[:-1]) or []
    hint = suggest(key, known)
    if invmodel.SECRET_LIKE.search(str(key)):
        return (f"unknown field {shown(key)} looks like a secret: secrets must not be written in inventory "
                "YAML; use a reference such as password_ref: {env: NAME} (psk: {env: NAME} in tunnels.yaml)")
    listed = f"; known: {', '.join(sorted(known))}" if known else ""
    return f"unknown field {shown(key)}{hint}{listed}"


def _pattern(pattern: str, value: Any) -> str:
    text = str(value)
    bad = _FORBIDDEN.search(text)
    if bad:
        what = f"{control(text) or char_name(bad.group(0))} ({shown(bad.group(0))})"
        several = " and looks like several values" if len(text.split()) > 1 else ""
        return f"contains {what}{several}; it would break or disguise the configuration line"
    if pattern == invmodel.IPV4:
        return f"{shown(value)} is not a valid IPv4 address"
    if pattern == invmodel.PREFIX:
        return f"{shown(value)} is not a valid IPv4 network with prefix length, such as 10.0.0.0/24"
    if pattern == invmodel.ENV_NAME:
        return f"{shown(value)} is not an environment variable name"
    if pattern in (invmodel.HOST_NAME, invmodel.TUNNEL_NAME):
        return (f"{shown(value)} is not a valid name: letters, digits, '_', '.', '-', starting with a "
                "letter or digit")
    if pattern == invmodel.NO_BLANK and re.search(r"\s", text):
        return f"{shown(value)} contains a blank; give one word"
    return f"{shown(value)} is not accepted here"


def _type(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "list", dict: "mapping",
            type(None): "empty value"}.get(type(value), type(value).__name__)
