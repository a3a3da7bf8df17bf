"""The generic CLI driver against the data-driven emulator, with three small platform data sets.

The platform data below use the devices' real texts (IOS "% Invalid input detected at '^'
marker.", Junos "syntax error." / "error: configuration check-out failed" / "commit complete",
Huawei "Error: Unrecognized command found at '^' position." and its save dialogue); the tests
check the driver's behaviour, which depends only on that data.

Driver output is masked with the process-wide masker, which other tests may have fed short
values; texts expected in driver output are therefore compared in masked form.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import PushError
from tunnelsmith.platforms import registry
from tunnelsmith.platforms.cfgtree import Comparer
from tunnelsmith.platforms.cli import CliDriver
from tunnelsmith.platforms.emulator import CliEmulator
from tunnelsmith.platforms.spec import PlatformSpec
from tunnelsmith.render import RenderedConfig

PSK = "Unit-Test-Psk-7f3a9"  # a made-up value, registered with the masker below


def spec(name: str, raw: dict[str, Any]) -> PlatformSpec:
    return PlatformSpec(name=name, directory=Path("/nonexistent"), raw={"name": name, **raw}, algorithms_raw={})


IOS = spec("fake_ios", {
    "driver": "cli",
    "netmiko_device_type": "cisco_ios",
    "config": {
        "enter": "configure terminal", "exit": "end", "save": "write memory", "backup": "show running-config",
        "error_patterns": ["% Invalid input", "% Incomplete command", "% Ambiguous command"],
        "diff_ignore": ["^!", "^Building configuration", "^Current configuration", "^end$", "^exit$"],
        "rollback": {"method": "reapply", "exit": "exit",
                     "negate": [{"match": "^no (.+)$", "replace": r"\1"}, {"match": "^(.+)$", "replace": r"no \1"}]},
    },
    "emulation": {
        "hostname": "R1", "prompts": {"exec": "R1#", "config": "R1(config)#", "submode": "R1(config-{context})#"},
        "error": "% Invalid input detected at '^' marker.", "structural": ["^exit$", "^!$"],
        "negate": [{"match": "no (.+)", "target": r"\1"}],
        "running_header": ["Building configuration...", "", "Current configuration : 1234 bytes", "!"],
        "running_footer": ["end"], "save_ok": "Building configuration...\n[OK]",
    },
})

JUNOS = spec("fake_junos", {
    "driver": "cli",
    "netmiko_device_type": "juniper_junos",
    "config": {
        "enter": "configure", "exit": "exit configuration-mode", "commit": "commit and-quit",
        "commit_confirmed": "commit confirmed {minutes}", "commit_check": "commit check", "save": None,
        "backup": "show configuration | display set",
        "error_patterns": [r"syntax error\.", r"^error:", "commit failed", r"unknown command\."],
        "normalize": [{"match": r'"([^"\s]*)"', "replace": r"\1"}],
        "compare_prefix": [r"^(set security ike policy \S+ pre-shared-key ascii-text) "],
        "compare": "line",
        "rollback": {"method": "commands", "commands": ["rollback 1"], "uncommitted": "rollback 0"},
    },
    "emulation": {
        "hostname": "srx", "prompts": {"exec": "admin@srx>", "config": "admin@srx#", "submode": "admin@srx#"},
        "error": "syntax error.", "negate": [{"match": "delete (.+)", "target": r"set \1"}],
        "show_candidate": "show | display set", "rollback_command": r"rollback (\d+)", "rollback_ok": "load complete",
        "commit_ok": "commit complete", "commit_check_ok": "configuration check succeeds",
        "commit_confirmed_ok": "commit confirmed will be automatically rolled back in {minutes} minutes "
                               "unless confirmed\ncommit complete",
        "commit_error": "error: configuration check-out failed", "commit_leaves_config_mode": True,
    },
})

VRP = spec("fake_vrp", {
    "driver": "cli",
    "netmiko_device_type": "huawei",
    "config": {
        "enter": "system-view", "exit": "return", "save": "save", "backup": "display current-configuration",
        "save_confirm": {"expect": r"Continue\?\s*\[Y/N\]", "answer": "y"},
        "error_patterns": [r"^Error:"], "diff_ignore": ["^#$", "^return$", "^quit$"],
        "rollback": {"method": "reapply", "exit": "quit",
                     "negate": [{"match": "^undo (.+)$", "replace": r"\1"},
                                {"match": "^(.+)$", "replace": r"undo \1"}]},
    },
    "emulation": {
        "hostname": "HUAWEI", "prompts": {"exec": "<HUAWEI>", "config": "[HUAWEI]", "submode": "[HUAWEI-{context}]"},
        "error": "Error: Unrecognized command found at '^' position.", "structural": ["^quit$", "^#$"],
        "negate": [{"match": "undo (.+)", "target": r"\1"}],
        "save_prompts": [{"prompt": "Warning: The current configuration will be written to the device. "
                                    "Continue? [Y/N]:", "accept": "(?i)y"}],
        "save_ok": "Info: Save the configuration successfully.", "save_abort": "Info: Cancelled.",
    },
})

IOS_RUNNING = """hostname R1
!
interface GigabitEthernet0/0
 ip address 198.51.100.10 255.255.255.0
 crypto map OLDMAP
!
crypto isakmp policy 10
 encryption 3des
 hash md5
!"""

IOS_RENDERED = f"""crypto isakmp policy 10
 encryption aes
 hash sha
 authentication pre-share
 group 14
crypto isakmp key {PSK} address 203.0.113.10
crypto ipsec transform-set ts1 esp-aes esp-sha-hmac
 mode tunnel
ip access-list extended acl1
 permit ip 198.18.16.0 0.0.0.255 198.19.16.0 0.0.0.255
crypto map map1 10 ipsec-isakmp
 set peer 203.0.113.10
 set transform-set ts1
 set pfs group14
 match address acl1
interface GigabitEthernet0/0
 crypto map map1
"""

JUNOS_RUNNING = """set system host-name srx
set interfaces ge-0/0/0 unit 0 family inet address 198.51.100.10/24
set security ike proposal p1 encryption-algorithm 3des-cbc"""

JUNOS_RENDERED = f"""set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 encryption-algorithm aes-128-cbc
set security ike policy pol1 proposals p1
set security ike policy pol1 pre-shared-key ascii-text "{PSK}"
set security ike gateway gw1 ike-policy pol1
set security ike gateway gw1 address 203.0.113.10
set security ipsec vpn vpn1 ike gateway gw1
"""

VRP_RUNNING = """#
sysname HUAWEI
#
interface GigabitEthernet0/0/1
 ip address 198.51.100.10 255.255.255.0
#
return"""

VRP_RENDERED = f"""ike proposal 10
 encryption-algorithm aes-128
 dh group14
ike peer cloud1
 pre-shared-key cipher {PSK}
 ike-proposal 10
 remote-address 203.0.113.10
interface GigabitEthernet0/0/1
 ipsec policy map1
"""


def last_word_replaces(old: str, new: str) -> bool:
    """A leaf such as `encryption 3des` is replaced by `encryption aes` (same words but the last)."""
    a, b = old.split(), new.split()
    return len(a) > 1 and len(a) == len(b) and a[:-1] == b[:-1]


def rendered(text: str) -> RenderedConfig:
    return RenderedConfig(host="dev1", platform="x", side="device", files={"cli": text})


@pytest.fixture(autouse=True)
def _psk_masked() -> None:
    secretmod.MASKER.add(PSK)


def test_cli_driver_is_registered() -> None:
    assert registry.DRIVERS["cli"] is CliDriver


# --- diff -----------------------------------------------------------------------------------
def test_diff_lists_only_missing_lines_in_their_block_and_is_masked() -> None:
    drv = CliDriver(IOS)
    emu = CliEmulator(IOS, IOS_RUNNING)
    r = rendered(IOS_RENDERED)
    diff = drv.diff(drv.backup(emu, r), r)
    added = [ln[1:] for ln in diff.splitlines()[2:]]
    m = secretmod.mask  # other tests may register short secrets with the process-wide masker
    # `crypto isakmp policy 10` and `interface GigabitEthernet0/0` exist: not added; their new children are
    assert m("crypto isakmp policy 10") not in added and m("interface GigabitEthernet0/0") not in added
    assert m(" encryption aes") in added and m(" crypto map map1") in added
    assert len(added) == len(rendered(IOS_RENDERED).lines()) - 2
    assert PSK not in diff and m(f"crypto isakmp key {PSK} address 203.0.113.10") in added


def test_child_line_is_compared_inside_its_own_block() -> None:
    """`encryption aes` present under another policy does not count for policy 10."""
    cmp = Comparer(IOS.section("config"))
    device = "crypto isakmp policy 20\n encryption aes\n"
    wanted = ["crypto isakmp policy 10", " encryption aes"]
    from tunnelsmith.platforms.cfgtree import missing_lines

    assert [ln.text for ln in missing_lines(cmp, device, wanted)] == wanted
    flat = Comparer({**IOS.section("config"), "compare": "line"})
    assert [ln.text for ln in missing_lines(flat, device, wanted)] == ["crypto isakmp policy 10"]


# --- push -----------------------------------------------------------------------------------
def test_push_sends_every_line_and_applies_them() -> None:
    drv = CliDriver(IOS)
    emu = CliEmulator(IOS, IOS_RUNNING, replaces=last_word_replaces)
    r = rendered(IOS_RENDERED)
    result = drv.push(emu, r, drv.backup(emu, r))
    lines = r.lines()
    assert result.changed and result.applied == len(lines)
    assert emu.sent == lines
    assert emu.mode == "exec"  # left configuration mode
    running = emu.running_lines()
    assert " encryption aes" in running and " encryption 3des" not in running
    assert " crypto map map1" in running and "hostname R1" in running


def test_second_push_reports_no_change_and_sends_nothing() -> None:
    drv = CliDriver(IOS)
    emu = CliEmulator(IOS, IOS_RUNNING, replaces=last_word_replaces)
    r = rendered(IOS_RENDERED)
    drv.push(emu, r, drv.backup(emu, r))
    sent_before = len(emu.sent)
    again = drv.push(emu, r, drv.backup(emu, r))
    assert not again.changed and again.applied == 0 and again.diff == ""
    assert len(emu.sent) == sent_before


def test_rejected_line_stops_the_push_with_its_number_masked(caplog: pytest.LogCaptureFixture) -> None:
    drv = CliDriver(IOS)
    lines = rendered(IOS_RENDERED).lines()
    bad_no = next(i for i, ln in enumerate(lines, 1) if ln.startswith("crypto isakmp key"))
    emu = CliEmulator(IOS, IOS_RUNNING, invalid=lambda ln: ln.startswith("crypto isakmp key"))
    r = rendered(IOS_RENDERED)
    with caplog.at_level(logging.DEBUG), pytest.raises(PushError) as info:
        drv.push(emu, r, drv.backup(emu, r))
    err = info.value
    assert err.line_no == bad_no and err.applied == bad_no - 1
    assert emu.sent == lines[:bad_no]  # nothing after the rejected line was sent
    assert PSK not in str(err) and PSK not in (err.line or "") and secretmod.MASK in (err.line or "")
    assert secretmod.mask("% Invalid input detected") in str(err)
    assert PSK not in caplog.text and "rejected" in caplog.text
    assert "active on the device" in err.rollback_hint
    assert emu.mode == "exec"


def test_commit_is_a_no_op_without_commit_data() -> None:
    emu = CliEmulator(IOS, IOS_RUNNING)
    assert CliDriver(IOS).commit(emu) == "" and emu.commands == []


# --- save ------------------------------------------------------------------------------------
def test_save_without_prompt() -> None:
    drv = CliDriver(IOS)
    emu = CliEmulator(IOS, IOS_RUNNING)
    out = drv.save(emu)
    assert secretmod.mask("[OK]") in out and emu.saved == emu.running_lines()


def test_save_answers_the_confirmation_prompt() -> None:
    drv = CliDriver(VRP)
    emu = CliEmulator(VRP, VRP_RUNNING)
    r = rendered(VRP_RENDERED)
    drv.push(emu, r, drv.backup(emu, r))
    out = drv.save(emu)
    assert secretmod.mask("Save the configuration successfully") in out
    assert emu.saved == emu.running_lines() and "ike peer cloud1" in emu.saved
    assert emu.commands[-2:] == ["save", "y"]


def test_save_with_an_expect_that_misses_the_prompt_never_answers() -> None:
    bad = spec("fake_vrp_bad", {**VRP.raw, "config": {**VRP.section("config"),
                                                      "save_confirm": {"expect": "Proceed", "answer": "y"}}})
    emu = CliEmulator(bad, VRP_RUNNING)
    CliDriver(bad).save(emu)
    assert emu.saved is None


# --- rollback (re-apply) ------------------------------------------------------------------
@pytest.mark.parametrize(("platform", "running", "text"), [
    (IOS, IOS_RUNNING, IOS_RENDERED), (VRP, VRP_RUNNING, VRP_RENDERED)])
def test_reapply_rollback_restores_the_backup(platform: PlatformSpec, running: str, text: str) -> None:
    drv = CliDriver(platform)
    emu = CliEmulator(platform, running, replaces=last_word_replaces)
    original = emu.running_lines()
    r = rendered(text)
    backup = drv.backup(emu, r)
    drv.push(emu, r, backup)
    assert emu.running_lines() != original
    drv.rollback(emu, backup)
    assert emu.running_lines() == original
    assert emu.mode == "exec"


def test_reapply_rollback_after_a_partial_push() -> None:
    drv = CliDriver(IOS)
    emu = CliEmulator(IOS, IOS_RUNNING, replaces=last_word_replaces, invalid=lambda ln: ln == "set pfs group14")
    original = emu.running_lines()
    r = rendered(IOS_RENDERED)
    backup = drv.backup(emu, r)
    with pytest.raises(PushError):
        drv.push(emu, r, backup)
    drv.rollback(emu, backup)
    assert emu.running_lines() == original


def test_negate_uses_the_first_matching_rule_and_keeps_indentation() -> None:
    drv = CliDriver(IOS)
    assert drv.negate(" crypto map map1") == " no crypto map map1"
    assert drv.negate("no ip domain lookup") == "ip domain lookup"


def test_rollback_without_data_refuses() -> None:
    plain = spec("fake_none", {**IOS.raw, "config": {**IOS.section("config"), "rollback": None}})
    with pytest.raises(PushError, match=r"no usable config\.rollback data"):
        CliDriver(plain).rollback(CliEmulator(plain, IOS_RUNNING), CliDriver(plain).backup(
            CliEmulator(plain, IOS_RUNNING), rendered(IOS_RENDERED)))


# --- commit platforms ------------------------------------------------------------------------
def junos_pushed(**kw: Any) -> tuple[CliDriver, CliEmulator, RenderedConfig, Any]:
    drv = CliDriver(JUNOS)
    emu = CliEmulator(JUNOS, JUNOS_RUNNING, replaces=last_word_replaces, **kw)
    r = rendered(JUNOS_RENDERED)
    backup = drv.backup(emu, r)
    return drv, emu, r, backup


def test_commit_platform_push_fills_the_candidate_only() -> None:
    drv, emu, r, backup = junos_pushed()
    result = drv.push(emu, r, backup)
    assert result.changed and result.applied == len(r.lines())
    assert emu.running_lines() == JUNOS_RUNNING.splitlines()  # nothing active before commit
    assert emu.mode == "config"  # commit() leaves configuration mode
    assert "set security ike gateway gw1 address 203.0.113.10" in emu.candidate_lines()


def test_commit_confirmed_then_confirm() -> None:
    drv, emu, r, backup = junos_pushed()
    drv.push(emu, r, backup)
    out = drv.commit(emu, confirmed_minutes=5)
    assert secretmod.mask("rolled back in 5 minutes") in out and emu.confirm_pending == 5
    assert "commit check" in emu.commands and "commit confirmed 5" in emu.commands
    assert "set security ike gateway gw1 address 203.0.113.10" in emu.running_lines()
    drv.commit(emu)  # confirming later is a plain commit
    assert emu.confirm_pending is None and emu.commands[-1] == "commit and-quit"
    assert emu.mode == "exec"


def test_commit_failure_raises_and_keeps_the_candidate() -> None:
    drv, emu, r, backup = junos_pushed(commit_fails=True)
    drv.push(emu, r, backup)
    with pytest.raises(PushError) as info:
        drv.commit(emu)
    assert "commit check failed" in str(info.value)
    assert secretmod.mask("configuration check-out failed") in str(info.value)
    assert emu.running_lines() == JUNOS_RUNNING.splitlines()


def junos_committed_with_encrypted_key() -> tuple[CliDriver, CliEmulator, RenderedConfig]:
    """Pushed and committed; the device then shows the key encrypted, as Junos does."""
    from tunnelsmith.platforms.emulator import Node

    drv, emu, r, backup = junos_pushed()
    drv.push(emu, r, backup)
    drv.commit(emu)
    emu.active = [n for n in emu.active if "pre-shared-key ascii-text" not in n.text]
    emu.active.append(Node('set security ike policy pol1 pre-shared-key ascii-text "$9$abcdEFGH"'))
    emu.candidate = [Node(n.text) for n in emu.active]
    return drv, emu, r


def test_commit_platform_second_push_no_change_despite_encrypted_psk() -> None:
    drv, emu, r = junos_committed_with_encrypted_key()
    again = drv.push(emu, r, drv.backup(emu, r))
    assert not again.changed


def test_rotate_secrets_pushes_the_key_line_the_device_shows_encrypted() -> None:
    drv, emu, r = junos_committed_with_encrypted_key()
    drv.rotate_secrets = True
    diff = drv.diff(drv.backup(emu, r), r)
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert len(added) == 1 and "pre-shared-key ascii-text" in added[0]  # only the key line
    again = drv.push(emu, r, drv.backup(emu, r))
    assert again.changed and again.applied == len(r.lines())


def test_commands_rollback_after_commit_uses_rollback_1() -> None:
    drv, emu, r, backup = junos_pushed()
    change = drv.push(emu, r, backup).change
    assert change is not None and change.uncommitted and change.applied == len(r.lines())
    drv.commit(emu, change=change)
    assert change.committed and not change.uncommitted
    drv.rollback(emu, backup, change)
    assert "rollback 1" in emu.commands
    assert emu.running_lines() == JUNOS_RUNNING.splitlines()


def test_commands_rollback_before_commit_discards_the_candidate() -> None:
    drv, emu, r, backup = junos_pushed(invalid=lambda ln: "ike gateway gw1 address" in ln)
    with pytest.raises(PushError) as info:
        drv.push(emu, r, backup)
    assert "nothing was committed" in info.value.rollback_hint
    assert secretmod.mask("syntax error.") in str(info.value)
    assert info.value.change is not None and info.value.change.uncommitted
    drv.rollback(emu, backup, info.value.change)
    assert "rollback 0" in emu.commands and "rollback 1" not in emu.commands
    assert emu.candidate_lines() == emu.running_lines() == JUNOS_RUNNING.splitlines()


def test_reapply_rollback_on_a_commit_platform() -> None:
    reapply = spec("fake_junos_reapply", {**JUNOS.raw, "config": {**JUNOS.section("config"), "rollback": {
        "method": "reapply", "read": "show | display set",
        "negate": [{"match": "^set (.+)$", "replace": r"delete \1"}]}}})
    drv = CliDriver(reapply)
    emu = CliEmulator(reapply, JUNOS_RUNNING, replaces=last_word_replaces)
    r = rendered(JUNOS_RENDERED)
    backup = drv.backup(emu, r)
    drv.push(emu, r, backup)
    drv.commit(emu)
    assert "set security ike proposal p1 encryption-algorithm aes-128-cbc" in emu.running_lines()
    drv.rollback(emu, backup)
    assert sorted(emu.running_lines()) == sorted(JUNOS_RUNNING.splitlines())


# --- rollback by configure replace ------------------------------------------------------------
IOS_REPLACE = spec("fake_ios_replace", {**IOS.raw, "config": {**IOS.section("config"), "rollback": {
    "method": "configure_replace",
    "prepare": "copy running-config flash:{backup_file}",
    "prepare_confirm": {"expect": r"Destination filename \[", "answer": ""},
    "command": "configure replace flash:{backup_file} force",
    "error_patterns": ["(?i)rollback aborted"],
}}, "emulation": {**IOS.section("emulation"),
                  "prepare": {"match": r"copy running-config flash:(\S+)",
                              "prompts": [{"prompt": "Destination filename [tunnelsmith.cfg]? ", "accept": ""}]},
                  "replace": {"match": r"configure replace flash:(\S+) force", "ok": "Rollback Done"}}})


def test_configure_replace_rollback_uses_the_copy_made_at_backup() -> None:
    drv = CliDriver(IOS_REPLACE)
    emu = CliEmulator(IOS_REPLACE, IOS_RUNNING, replaces=last_word_replaces)
    original = emu.running_lines()
    r = rendered(IOS_RENDERED)
    backup = drv.backup(emu, r)
    assert len(emu.files) == 1  # the prompt was answered, so the copy exists
    drv.push(emu, r, backup)
    out = drv.rollback(emu, backup)
    assert secretmod.mask("Rollback Done") in out and emu.running_lines() == original
    assert emu.commands[-1].startswith("configure replace flash:tunnelsmith-")


def test_configure_replace_failure_falls_back_to_reapply() -> None:
    broken = spec("fake_ios_replace_fb", {**IOS_REPLACE.raw, "config": {**IOS_REPLACE.section("config"), "rollback": {
        **IOS_REPLACE.section("config")["rollback"], "fallback": "reapply", "exit": "exit",
        "negate": IOS.section("config")["rollback"]["negate"]}}})
    drv = CliDriver(broken)
    emu = CliEmulator(broken, IOS_RUNNING, replaces=last_word_replaces)
    original = emu.running_lines()
    r = rendered(IOS_RENDERED)
    backup = drv.backup(emu, r)
    emu.files.clear()  # the on-device copy is gone: configure replace fails
    drv.push(emu, r, backup)
    drv.rollback(emu, backup)
    assert emu.running_lines() == original


def test_option_dependent_commit() -> None:
    v8 = spec("fake_vrp_v8", {**VRP.raw, "option_defaults": {"os_version": "v5"}, "config": {
        **VRP.section("config"), "commit": {"command": "commit", "when": {"os_version": "v8"}}}})
    assert not CliDriver(v8).has_commit()
    assert CliDriver(v8, {"os_version": "v8"}).has_commit()
    emu = CliEmulator(v8, VRP_RUNNING, options={"os_version": "v8"})
    drv = CliDriver(v8, {"os_version": "v8"})
    r = rendered(VRP_RENDERED)
    drv.push(emu, r, drv.backup(emu, r))
    assert "ike peer cloud1" not in emu.running_lines()
    drv.commit(emu)
    assert "ike peer cloud1" in emu.running_lines()



def test_the_change_record_is_all_a_later_rollback_needs(tmp_path: Any) -> None:
    """No driver state: a new driver (a later `tunnelsmith rollback` process) gets the record from the run."""
    from tunnelsmith.platforms.base import Change
    from tunnelsmith.rundir import RunDir

    drv, emu, r, backup = junos_pushed()
    change = drv.push(emu, r, backup).change
    assert change is not None
    drv.commit(emu, confirmed_minutes=5, change=change)
    run = RunDir.create(str(tmp_path))
    run.write_change(change)
    back = run.read_change(change.host)
    assert back == Change(host=change.host, platform="fake_junos", applied=change.applied, committed=True,
                          confirm_minutes=5)
    assert "rendered" not in (tmp_path / run.run_id / change.host / "change.json").read_text()
    CliDriver(JUNOS).rollback(emu, backup, back)
    assert "rollback 1" in emu.commands and emu.running_lines() == JUNOS_RUNNING.splitlines()
