"""JSON Schemas (draft 2020-12) of a platform folder's data: platform.yaml, verify.yaml, algorithms.yaml.

`tunnelsmith.platforms.spec.load` validates every file with these before building a PlatformSpec,
so a misspelt key fails at load time, naming the file and the key, instead of being silently
ignored by the code that would have read it. Wherever templates/platforms/README.md documents the
keys of a mapping, the schema lists exactly those (`additionalProperties: false`); free-form maps
(option_defaults, status command keys, state_map regexes, algorithm tables) are checked for shape.
A new key is added here and in README.md together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from tunnelsmith.status import STATES

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# reader: keys tunnelsmith.reader reads (README.md "reader"); kept in step by tests/unit/test_platform_schema.py
READER_KEYS = ("ike_version", "ike_mode", "ike_encryption", "ike_integrity", "ike_dh", "ike_lifetime",
               "ipsec_encryption", "ipsec_integrity", "pfs", "ipsec_lifetime", "peer", "local_subnet",
               "remote_subnet", "static_route", "inside_local", "bgp_neighbor", "bgp_remote_asn", "mss",
               "dpd_interval")


class PlatformDataError(ValueError):
    """A platform data file does not match its schema."""


def _obj(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


STR = {"type": "string"}
OPT_STR = {"type": ["string", "null"]}
STR_LIST = {"type": "array", "items": STR}
NUM = {"type": "number"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
WHEN = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}}

# A command that may depend on platform options: "text", null, or {command: "text", when: {option: value}}.
COMMAND = {"oneOf": [OPT_STR, _obj({"command": STR, "when": WHEN}, ("command",))]}
CONFIRM_STEP = _obj({"expect": STR, "answer": STR}, ("expect",))
CONFIRM = {"oneOf": [{"type": "null"}, CONFIRM_STEP, {"type": "array", "items": CONFIRM_STEP}]}
MATCH_REPLACE = _obj({"match": STR, "replace": STR}, ("match",))

OUTPUT = _obj({"path": STR, "template": STR, "when": WHEN, "keep_empty": BOOL}, ("path", "template"))
SIDE = _obj({"outputs": {"type": "array", "items": OUTPUT}}, ("outputs",))

ROLLBACK = _obj({
    "method": {"enum": ["commands", "configure_replace", "reapply"]},
    "commands": {"type": "array", "items": {"oneOf": [STR, _obj({"command": STR, "confirm": CONFIRM},
                                                                   ("command",))]}},
    "uncommitted": {"oneOf": [OPT_STR, STR_LIST]},
    "prepare": OPT_STR,
    "prepare_confirm": CONFIRM,
    "command": OPT_STR,
    "command_confirm": CONFIRM,
    "error_patterns": STR_LIST,
    "fallback": {"enum": ["reapply", None]},
    # `indented`: the rule applies only to sub-mode lines (true) or only to top-level lines (false)
    "negate": {"type": "array",
               "items": _obj({"match": STR, "replace": STR, "indented": BOOL}, ("match", "replace"))},
    "exit": OPT_STR,
    "read": OPT_STR,
}, ("method",))

CONFIG = _obj({
    "enter": COMMAND, "exit": COMMAND, "commit": COMMAND, "commit_confirmed": COMMAND,
    "commit_check": COMMAND, "save": COMMAND, "save_confirm": CONFIRM, "backup": COMMAND,
    "rollback": ROLLBACK,
    "diff_ignore": STR_LIST, "negation": STR_LIST,
    "normalize": {"type": "array", "items": MATCH_REPLACE},
    "compare_prefix": STR_LIST,
    "compare": {"enum": ["path", "line"]},
    "commit_error_patterns": STR_LIST,
    "save_error_patterns": STR_LIST,
    "timeout": NUM,
    "line_prompt": OPT_STR,
    "error_patterns": STR_LIST,
}, ("enter", "exit", "backup", "error_patterns"))

FILES = _obj({
    "mode": STR,
    "activate": {"type": "array", "items": _obj({"command": STR, "when": WHEN}, ("command",))},
    "take_down": {"type": "array", "items": _obj({
        "when": WHEN, "path": STR, "command": STR, "timeout": NUM,
        "sections": _obj({"header": STR, "inherit": STR, "always": STR_LIST, "skip": STR, "comment": STR},
                         ("header",)),
    }, ("path", "sections", "command"))},
    "ensure_up": _obj({"when": WHEN, "marker": STR, "initiate": STR, "rounds": INT, "settle": NUM},
                      ("marker", "initiate")),
    "error_patterns": STR_LIST,
})

PARSER = _obj({
    "command": STR,
    "template": STR,
    "kind": {"enum": ["ike", "child"]},
    "when": WHEN,
    # vendor state (regex) -> neutral state; first match wins, no match: down (status.py)
    "state_map": {"type": "object", "minProperties": 1, "additionalProperties": {"enum": list(STATES)}},
}, ("command", "template", "kind", "state_map"))

STATUS = _obj({
    "commands": {"type": "object", "additionalProperties": COMMAND},
    "parsers": {"type": "array", "items": PARSER},
}, ("commands", "parsers"))

PING = _obj({"command": STR, "template": OPT_STR, "unsupported": STR}, ("command", "template"))

SAFETY = _obj({
    "quote": {"enum": ["none", "double"]},
    "interface_name": STR, "name_pattern": STR,
    "psk_forbidden": STR, "psk_forbidden_prefixes": STR_LIST, "psk_no_edge_blanks": BOOL,
    "psk_max_length": INT, "psk_min_length": INT, "forbidden_in_strings": STR,
    "max_word_length": INT,
    "identity_forms": {"type": "array", "items": {"enum": ["address", "fqdn", "user_fqdn", "key_id"]}},
    "identity_fqdn_prefix": STR, "identity_key_id": STR, "identity_wildcards_option": STR,
    "identity_max_length": INT,
})

_READER_ONE = {"regex": STR, "table": STR, "map": {"type": "object"}, "as": {"enum": ["netmask", "wildcard"]}}
READER_ENTRY = _obj({**_READER_ONE, "alternatives": {"type": "array", "items": _obj(_READER_ONE, ("regex",))}},
                    ("regex",))
READER = {"type": "object", "propertyNames": {"enum": list(READER_KEYS)}, "additionalProperties": READER_ENTRY}

PATTERN = _obj({"class": STR, "regex": STR, "phase": {"enum": ["1", "2", "data"]}, "message": STR},
               ("class", "regex"))
REGEX_ONLY = _obj({"regex": STR}, ("regex",))
DIAGNOSIS = _obj({
    "log_command": OPT_STR,
    "initiate": STR, "initiate_child": STR,
    "line_keys": STR_LIST, "window": INT,
    "patterns": {"type": "array", "items": PATTERN},
    "peer_patterns": {"type": "array", "items": PATTERN},
    "attempt_start": STR,
    "timestamp": _obj({"regex": STR, "format": STR}, ("regex", "format")),
    "received_proposals": STR, "configured_proposals": STR, "proposal_split": STR, "dh_token": STR,
    "answered": {"type": "array", "items": REGEX_ONLY},
    "gave_up": {"type": "array", "items": REGEX_ONLY},
})

VERIFY = _obj({
    "route_based_selectors": {"enum": ["any", "explicit"]},
    "route_probe": STR, "peer_probe": STR,
    # IKE versions whose phase 1 is read off an IPsec SA with the peer (no tested IKE SA parser)
    "phase1_from_phase2": {"type": "array", "items": {"enum": [1, 2]}},
    "selectors_shown": BOOL,  # false: the parsed IPsec SA output names no selectors (match by peer)
})

PROMPT_STEP = {"oneOf": [STR, _obj({"prompt": STR, "accept": STR}, ("prompt",))]}
DIALOGUE = {"oneOf": [{"type": "null"}, _obj({"match": STR, "prompts": {"type": "array", "items": PROMPT_STEP},
                                              "ok": STR}, ("match",))]}
EMULATION = _obj({
    "hostname": STR, "username": STR,
    "prompts": _obj({"exec": STR, "config": STR, "submode": STR}),
    "config_banner": OPT_STR,
    "config_prompt_prefix": OPT_STR,  # printed above the configuration-mode prompt (Junos `[edit]`)
    "keep_unmatched_negations": BOOL,  # a negation that removes nothing is shown as a statement (VRP)
    "exit_uncommitted": {"oneOf": [{"type": "null"}, _obj({"prompt": STR, "accept": STR}, ("prompt",))]},
    "error": STR, "caret": BOOL,
    "structural": STR_LIST,
    "negate": {"type": "array", "items": _obj({"match": STR, "target": STR}, ("match", "target"))},
    "running_header": STR_LIST, "running_footer": STR_LIST,
    "show_candidate": OPT_STR, "rollback_command": OPT_STR, "rollback_ok": STR,
    "commit_ok": STR, "commit_check_ok": STR, "commit_confirmed_ok": STR, "commit_error": STR,
    "commit_leaves_config_mode": BOOL,
    "save_prompts": {"type": "array", "items": PROMPT_STEP}, "save_ok": STR, "save_abort": STR,
    "prepare": DIALOGUE, "replace": DIALOGUE,
    "sample_running": STR_LIST,
})

PLATFORM = {
    "$schema": DIALECT,
    "title": "templates/platforms/<name>/platform.yaml",
    **_obj({
        "name": STR, "title": STR,
        "driver": STR,
        "netmiko_device_type": STR,
        "option_defaults": {"type": "object"},
        "option_choices": {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}},
        "nornir_aliases": {"type": "object", "additionalProperties": {"type": ["object", "null"]}},
        "default_variant": OPT_STR,
        "variants": STR_LIST,
        "sides": _obj({"device": SIDE, "cloud": SIDE}, ("device",)),
        "config": CONFIG,
        "files": FILES,
        "status": STATUS,
        "ping": PING,
        "safety": SAFETY,
        "reader": READER,
        "diagnosis": DIAGNOSIS,
        "verify": VERIFY,
        "emulation": EMULATION,
    }, ("name", "driver", "netmiko_device_type", "sides", "status", "ping")),
}

VERIFY_FILE = {
    "$schema": DIALECT,
    "title": "templates/platforms/<name>/verify.yaml",
    **_obj({"verify": VERIFY, "diagnosis": DIAGNOSIS}),
}

_SPELLING = {"type": ["string", "number", "null"]}
_TABLE = {"type": "object", "additionalProperties": _SPELLING}
ALGORITHMS = {
    "$schema": DIALECT,
    "title": "templates/platforms/<name>/algorithms.yaml",
    "type": "object",
    # the six standard tables plus any table the platform's templates use (README.md, "algorithms.yaml")
    "properties": {"variants": {"type": "object", "additionalProperties": {
        "type": "object", "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"}, "additionalProperties": _TABLE}}},
    "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
    "additionalProperties": _TABLE,
}

SCHEMAS = {"platform.yaml": PLATFORM, "verify.yaml": VERIFY_FILE, "algorithms.yaml": ALGORITHMS}


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties") or {})
        extra = sorted(str(k) for k in error.instance if k not in known)
        return f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} (known: {', '.join(sorted(known))})"
    if error.validator == "enum" and "propertyNames" in error.schema_path:
        return f"unknown key {error.instance!r} (known: {', '.join(map(str, error.validator_value))})"
    if error.validator == "oneOf" and error.context:
        # the alternative that got furthest (a mapping with a misspelt key, not "is not a string")
        typed = [e for e in error.context if e.validator != "type"] or list(error.context)
        best = max(typed, key=lambda e: len(list(e.path)))
        sub = ".".join(str(p) for p in best.path)
        return (f"{sub}: " if sub else "") + _describe(best)
    return error.message


def errors(kind: str, data: Any) -> list[str]:
    """'<key path>: <problem>' for every way `data` breaks the schema of file `kind` (e.g. 'platform.yaml')."""
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind])
    found = sorted(validator.iter_errors(data if data is not None else {}), key=lambda e: list(map(str, e.path)))
    return [f"{_where(e)}: {_describe(e)}" for e in found]


def check(path: Path, data: Any) -> None:
    """Raise PlatformDataError naming the file and the key when `data` (read from `path`) breaks its schema."""
    problems = errors(path.name, data)
    if problems:
        raise PlatformDataError(f"{path}: " + "; ".join(problems) if len(problems) == 1 else
                                f"{path}:\n" + "\n".join(f"  {p}" for p in problems))
