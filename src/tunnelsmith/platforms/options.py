"""Platform options in platform data: the one matcher for `when:` and option-dependent values.

Platform data may make an entry depend on the device's platform options (host
`data.<platform>: {...}` over the platform's `option_defaults`):

    outputs:  - {path: /etc/ipsec.conf, template: ipsec.conf.j2, when: {format: ipsec}}
    commit:   {command: "commit", when: {os_version: v8}}

`when` holds when every listed option equals its value (an empty or missing `when` always
holds). Render, the drivers and the lab use these two functions, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def matches_when(when: dict[str, Any] | None, options: dict[str, Any]) -> bool:
    """True when every option named in `when` has the given value in `options`."""
    return all(options.get(k) == v for k, v in (when or {}).items())


def resolve(value: Any, options: dict[str, Any]) -> Any:
    """A value that may depend on options: `{command: X, when: {...}}` is X when `when` holds, else None.

    Anything else (a plain command string, None, a list) is returned unchanged.
    """
    if isinstance(value, dict) and "command" in value:
        return value["command"] if matches_when(value.get("when"), options) else None
    return value


def selected(items: Iterable[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of a list (outputs, activate steps, parsers ...) whose `when` holds."""
    return [item for item in items if matches_when(item.get("when"), options)]
