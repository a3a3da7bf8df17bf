"""The driver contract on every `cli` platform, against the data-driven emulator.

Each platform's own rendered configuration is pushed into an emulated device that speaks with
the platform's data (its platform.yaml `emulation:` section):
push applies every line, a rejected line stops the push at its number, a second push changes
nothing, commit / confirmed commit / save answer as the device would, rollback restores the backup.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tunnelsmith import inventory, render
from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms import spec as pspec
from tunnelsmith.platforms.cli import CliDriver
from tunnelsmith.platforms.emulator import CliEmulator
from tunnelsmith.platforms.spec import UnsupportedAlgorithm
from tunnelsmith.render import RenderedConfig

PREFERRED = ("two-tunnels-policy-and-static", "ikev1-policy-1pair-pfs-dpd", "ikev2-static", "ikev2-bgp")


class Setup:
    def __init__(self, platform: str, rendered: RenderedConfig, emulation: dict[str, Any], options: dict[str, Any]):
        self.platform = platform
        self.spec = pspec.load(platform)
        self.rendered = rendered
        self.emulation = emulation
        self.options = options
        self.driver = CliDriver(self.spec, options)
        self.lines = CliDriver.rendered_lines(rendered)

    def device(self, **kw: Any) -> CliEmulator:
        return CliEmulator(self.spec, None, emulation=self.emulation, options=self.options, **kw)


@pytest.fixture
def setup(cli_platform: str, make_inventory: Any, emulation_of: Any) -> Setup:
    emulation = emulation_of(cli_platform)
    assert emulation, f"{cli_platform}: platform.yaml has no `emulation:` section"
    for intent in PREFERRED:
        inv = inventory.load(make_inventory(cli_platform, intent).directory)
        try:
            rendered = render.render_device(inv, "dev1")
        except UnsupportedAlgorithm:
            continue
        return Setup(cli_platform, rendered, emulation, inv.devices["dev1"].options)
    pytest.skip(f"{cli_platform} renders none of {PREFERRED}")


def _committed(s: Setup, emu: CliEmulator) -> None:
    if s.driver.has_commit():
        s.driver.commit(emu)


def _unique_line(s: Setup) -> int:
    """1-based number of a line near the middle whose text occurs once and is compared (not ignored)."""
    cmp = s.driver.comparer()
    parsed = [ln for ln in cmp.parse(s.lines) if not ln.ignored]
    texts = [ln.strip() for ln in s.lines]
    candidates = [ln.no for ln in parsed if texts.count(ln.text.strip()) == 1]
    assert candidates, f"{s.platform}: no unique line in the rendered config"
    return candidates[len(candidates) // 2]


def test_push_applies_every_line(setup: Setup) -> None:
    emu = setup.device()
    result = setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    assert result.changed and result.applied == len(setup.lines)
    assert emu.sent == setup.lines
    _committed(setup, emu)
    running = {" ".join(ln.split()) for ln in emu.running_lines()}
    # exit/quit lines are not stored, and a `no X` / `undo X` line removes X instead of being stored
    not_stored = [re.compile(p) for p in setup.emulation.get("structural") or []] + \
        [re.compile(n["match"]) for n in setup.emulation.get("negate") or []]
    absent = [ln for ln in setup.lines if " ".join(ln.split()) not in running
              and not any(p.fullmatch(ln.strip()) or p.search(ln.strip()) for p in not_stored)]
    assert not absent, f"{setup.platform}: pushed but not in the running config: {absent[:5]}"
    assert emu.mode == "exec"


def test_rejected_line_stops_the_push(setup: Setup) -> None:
    no = _unique_line(setup)
    bad = setup.lines[no - 1].strip()
    emu = setup.device(invalid=lambda line: line == bad)
    with pytest.raises(PushError) as info:
        setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    err = info.value
    assert err.line_no == no and err.applied == no - 1
    assert emu.sent == setup.lines[:no], "lines after the rejected one were sent"
    assert err.rollback_hint
    for psk in secretmod.MASKER.values():
        assert psk not in str(err)


def test_second_push_reports_no_change(setup: Setup) -> None:
    emu = setup.device()
    setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    _committed(setup, emu)
    sent = len(emu.sent)
    again = setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    assert not again.changed, f"{setup.platform}: second push still wants:\n{again.diff}"
    assert len(emu.sent) == sent


def test_commit_and_confirmed_commit(setup: Setup) -> None:
    if not setup.driver.has_commit():
        pytest.skip(f"{setup.platform} has no commit step")
    emu = setup.device()
    setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    before = emu.running_lines()
    if setup.driver.cfg.get("commit_confirmed"):
        setup.driver.commit(emu, confirmed_minutes=7)
        assert emu.confirm_pending == 7
        setup.driver.commit(emu)  # confirming = a plain commit
        assert emu.confirm_pending is None
    else:
        setup.driver.commit(emu)
    assert emu.running_lines() != before and emu.mode == "exec"


def test_commit_failure_raises(setup: Setup) -> None:
    if not setup.driver.has_commit():
        pytest.skip(f"{setup.platform} has no commit step")
    emu = setup.device(commit_fails=True)
    setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    before = emu.running_lines()
    with pytest.raises(PushError):
        setup.driver.commit(emu)
    assert emu.running_lines() == before


def test_save_answers_its_prompt(setup: Setup) -> None:
    if not setup.driver.cfg.get("save"):
        pytest.skip(f"{setup.platform}: a commit persists; no save step")
    emu = setup.device()
    setup.driver.push(emu, setup.rendered, setup.driver.backup(emu, setup.rendered))
    _committed(setup, emu)
    setup.driver.save(emu)
    assert emu.saved == emu.running_lines(), f"{setup.platform}: the save dialogue did not complete"


def test_rollback_restores_the_backup(setup: Setup) -> None:
    emu = setup.device()
    original = emu.running_lines()
    backup = setup.driver.backup(emu, setup.rendered)
    setup.driver.push(emu, setup.rendered, backup)
    _committed(setup, emu)
    assert emu.running_lines() != original
    setup.driver.rollback(emu, backup)
    assert sorted(emu.running_lines()) == sorted(original)
    assert emu.mode == "exec"


def test_rollback_after_a_rejected_line(setup: Setup) -> None:
    no = _unique_line(setup)
    bad = setup.lines[no - 1].strip()
    emu = setup.device(invalid=lambda line: line == bad)
    original = emu.running_lines()
    backup = setup.driver.backup(emu, setup.rendered)
    with pytest.raises(PushError) as err:
        setup.driver.push(emu, setup.rendered, backup)
    setup.driver.rollback(emu, backup, err.value.change)  # the change record says what got through
    assert sorted(emu.running_lines()) == sorted(original)
    assert sorted(emu.candidate_lines()) == sorted(original)
