"""Issue 7, "Leaked secrets": one regression test per case, plus the secrets-file and terminal guards."""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from pathlib import Path

import pytest
import yaml
from tunnelsmith.runbooks.common import load_checked

from tunnelsmith import secrets as secretmod
from tunnelsmith.connect import ConnectError, masking_session_log, netmiko_params
from tunnelsmith.errors import InventoryError
from tunnelsmith.model import SecretRef

from .test_secrets_no_leak import PSKS, write_inventory
from .test_values_injection import assert_refused, problems, spoil

OTHER_PSK = "Other-Inventory-Key-5521"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    secretmod.clear_cache()


def secrets_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


# --- $VAR expansion ------------------------------------------------------------------------------
def test_var_in_psk_file_is_refused_without_printing_the_variable(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`$VAR` in psk.file printed any environment variable (another inventory's PSK) unmasked."""
    monkeypatch.setenv("TS_OTHER_PSK", OTHER_PSK)
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    spoil(d, "tunnels.yaml", ("tunnels", 0, "psk"), {"file": "/tmp/$TS_OTHER_PSK/s.yaml", "key": "t1"})
    hits = assert_refused(d, "psk.file", "only ${TUNNELSMITH_LAB_DIR}")
    assert all(OTHER_PSK not in str(p) for p in problems(d)), hits
    with pytest.raises(secretmod.SecretError) as exc:
        secretmod.resolve(SecretRef(file="${TS_OTHER_PSK}", key="k"))
    assert OTHER_PSK not in str(exc.value) and exc.value.exit_code == 2


def test_var_in_ssh_key_file_is_refused_at_validation_and_connect(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_OTHER_PSK", OTHER_PSK)
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    spoil(d, "hosts.yaml", ("dev1", "data", "ssh"), {"key_file": "$TS_OTHER_PSK"})
    found = problems(d)
    assert any(p.field.endswith("ssh.key_file") and "$" in p.message for p in found), [str(p) for p in found]
    assert all(OTHER_PSK not in str(p) for p in found)
    from tunnelsmith.model import Device

    dev = Device(name="dev1", platform="cisco_ios", hostname="198.18.0.2", port=22, username="admin",
                 wan_interface="GigabitEthernet0/1", public_ip=None, lan_subnets=(),  # type: ignore[arg-type]
                 ssh={"key_file": "$TS_OTHER_PSK"})
    with pytest.raises(ConnectError) as exc:
        netmiko_params(dev)
    assert OTHER_PSK not in str(exc.value) and "dev1" in str(exc.value)


def test_missing_ssh_key_file_is_a_located_connect_error(tmp_path: Path) -> None:
    from tunnelsmith.model import Device

    dev = Device(name="dev1", platform="cisco_ios", hostname="198.18.0.2", port=22, username="admin",
                 wan_interface="GigabitEthernet0/1", public_ip=None, lan_subnets=(),  # type: ignore[arg-type]
                 ssh={"key_file": str(tmp_path / "absent_key")})
    with pytest.raises(ConnectError, match=r"dev1: data\.ssh\.key_file: .*absent_key.* does not exist"):
        netmiko_params(dev)


def test_only_the_lab_dir_placeholder_expands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNNELSMITH_LAB_DIR", "/tmp/lab-x")
    assert str(secretmod.expand_path("${TUNNELSMITH_LAB_DIR}/secrets.yaml")) == "/tmp/lab-x/secrets.yaml"
    for raw in ("$HOME/k", "${HOME}/k", "$TUNNELSMITH_LAB_DIR/k", "/a/$/b"):
        with pytest.raises(secretmod.SecretError, match="only"):
            secretmod.expand_path(raw)


# --- a PSK with a line separator -----------------------------------------------------------------
@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0b"])
def test_psk_with_a_line_separator_is_refused_unshown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      sep: str) -> None:
    """It was split, pushed as two commands and shown unmasked in the diff."""
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    value = f"Good-Key-1234{sep}reload"
    monkeypatch.setenv("TS_LEAK_PSK_T1", value)
    assert_refused(d, "psk", f"U+{ord(sep):04X}")
    assert all("Good-Key-1234" not in str(p) for p in problems(d))


# --- encrypted forms -----------------------------------------------------------------------------
def test_cisco_type7_forms_of_a_key_are_masked() -> None:
    m = secretmod.Masker()
    m.add("Type7-Key-8842")
    for seed in (0, 5, 15):
        enc = secretmod.cisco_type7("Type7-Key-8842", seed)
        assert secretmod.cisco_type7_decode(enc) == "Type7-Key-8842"
        for shown in (enc, enc.lower()):
            assert shown not in m.mask(f"username x privilege 15 password 7 {shown}\nsomething {shown} else")
    assert m.mask("crypto map m 10 ipsec-isakmp 0822455D0A16") == "crypto map m 10 ipsec-isakmp 0822455D0A16"


@pytest.mark.parametrize(("text", "secret"), [
    ("crypto isakmp key 7 0822455D0A165B1E address 203.0.113.1", "0822455D0A165B1E"),
    ("username admin password 7 070C285F4D06", "070C285F4D06"),
    ("set security ike policy p pre-shared-key ascii-text \"$9$Hq.fT39pBIc\"", "$9$Hq.fT39pBIc"),
    ("set security ike policy p pre-shared-key ascii-text $9$Hq.fT39pBIc", "$9$Hq.fT39pBIc"),
    (" pre-shared-key cipher %^%#x1(Wb<1%^%#", "x1(Wb<1"),
    (" pre-shared-key cipher %@%@aB3$k%@%@", "aB3$k"),
    (" pre-shared-key cipher Zm9vYmFy==", "Zm9vYmFy=="),
    (" pre-shared-key cipher $c$3$Ab3dEfGhIjK==", "Ab3dEfGhIjK=="),
    (" pre-shared-key address 203.0.113.1 255.255.255.255 key cipher $c$3$Q2xY==", "Q2xY=="),
    (" pre-shared-key address 203.0.113.1 key Unknown-Key-1", "Unknown-Key-1"),
    ("  pre-share \"Unknown-Key-2\"", "Unknown-Key-2"),
    ("      secret = \"Unknown-Key-3\"", "Unknown-Key-3"),
    ("moon sun : PSK \"Unknown-Key-4\"", "Unknown-Key-4"),
])
def test_device_encrypted_and_unknown_key_arguments_are_masked(text: str, secret: str) -> None:
    """Junos $9$, Cisco type 7, Huawei %^%# and cipher, H3C cipher: masked by form, key unknown."""
    masked = secretmod.Masker().mask(text)
    assert secret not in masked and secretmod.MASK in masked, masked


def test_session_log_masks_encrypted_forms_split_across_reads(tmp_path: Path) -> None:
    secretmod.MASKER.add("Session-Key-7731")
    log_path = tmp_path / "session.log"
    log = masking_session_log(log_path, {"s0": "Session-Key-7731"})
    log.open()
    for chunk in ("set security ike policy p pre-shared-key ascii-text \"$9$Ab", "Cd.eF\"\ncrypto isakmp key Sess",
                  "ion-Key-7731 address 1.2.3.4\nkey 7 ", secretmod.cisco_type7("Session-Key-7731", 3), "\nR1# "):
        log.write(chunk)
    log.close()
    text = log_path.read_text()
    assert "$9$Ab" not in text and "Cd.eF" not in text and "Session-Key-7731" not in text
    assert secretmod.cisco_type7("Session-Key-7731", 3) not in text and "R1# " in text


# --- a PSK that is a configuration word ----------------------------------------------------------
def test_mask_position_does_not_reveal_a_config_word_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PSK `ipsec-isakmp` turned `crypto map m 10 ipsec-isakmp` into `crypto map m 10 ********`."""
    m = secretmod.Masker()
    m.add("ipsec-isakmp")
    assert m.mask("crypto map m 10 ipsec-isakmp") == "crypto map m 10 ipsec-isakmp"
    assert m.mask("crypto isakmp key ipsec-isakmp address 203.0.113.1") == (
        f"crypto isakmp key {secretmod.MASK} address 203.0.113.1")
    d = write_inventory(tmp_path, "cisco_ios", monkeypatch)
    monkeypatch.setenv("TS_LEAK_PSK_T1", "ipsec-isakmp")
    assert_refused(d, "psk", "configuration language")


# --- secrets file values -------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["0123456701234567", "yes", "no", "on", "0x1F2E3D4C", "1e3", "12_345", "~"])
def test_secrets_file_values_stay_strings_as_written(tmp_path: Path, raw: str) -> None:
    """0123456701234567 was read as an octal number and pushed as a different key."""
    f = secrets_file(tmp_path / "s.yaml", f"k: {raw}\n")
    assert secretmod.resolve(SecretRef(file=str(f), key="k")) == raw


def test_secrets_file_with_a_mapping_value_is_refused(tmp_path: Path) -> None:
    f = secrets_file(tmp_path / "s.yaml", "k: {a: 1}\n")
    with pytest.raises(secretmod.SecretError, match="not one string"):
        secretmod.resolve(SecretRef(file=str(f), key="k"))


@pytest.mark.parametrize(("text", "why"), [
    ("k: [unclosed\n", "not a YAML mapping"),
    ("- a\n- b\n", "mapping of name: value"),
    ("k: a\nk: b\n", "appears twice"),
    ("a: &x [1, 1]\nb: [*x, *x]\n", "aliases are not allowed"),
])
def test_bad_secrets_files_are_located_errors(tmp_path: Path, text: str, why: str) -> None:
    f = secrets_file(tmp_path / "s.yaml", text)
    with pytest.raises(secretmod.SecretError, match=why):
        secretmod.resolve(SecretRef(file=str(f), key="k"))


def test_non_utf8_secrets_file_names_the_byte_offset(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_bytes(b"k: abc\xff\n")
    os.chmod(f, 0o600)
    with pytest.raises(secretmod.SecretError, match="byte offset 6"):
        secretmod.resolve(SecretRef(file=str(f), key="k"))


def test_fifo_secrets_file_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo, 0o600)
    done: list[BaseException] = []

    def attempt() -> None:
        try:
            secretmod.resolve(SecretRef(file=str(fifo), key="k"))
        except BaseException as exc:  # handed to the test thread
            done.append(exc)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "reading a FIFO secrets file hangs"
    assert done and isinstance(done[0], secretmod.SecretError) and "not a regular file" in str(done[0])


def test_directory_as_secrets_file_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "dir.yaml"
    d.mkdir(mode=0o700)
    with pytest.raises(secretmod.SecretError, match="not a regular file"):
        secretmod.resolve(SecretRef(file=str(d), key="k"))


# --- the terminal --------------------------------------------------------------------------------
def test_third_party_log_lines_are_masked_and_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    secretmod.MASKER.add("Logged-Key-2291")
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    root = logging.getLogger()
    before = list(root.handlers)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    try:
        secretmod.guard_terminal()
        try:
            raise RuntimeError("auth failed for key Logged-Key-2291")
        except RuntimeError:
            logging.getLogger("paramiko.transport").exception("Socket exception: key Logged-Key-2291")
        sys.excepthook(ValueError, ValueError("bad Logged-Key-2291\nsecond line"), None)
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        logging.captureWarnings(False)
    text = buf.getvalue()
    assert "Logged-Key-2291" not in text and "Traceback" not in text, text
    assert "paramiko.transport" in text and "RuntimeError" in text
    assert [ln for ln in text.splitlines() if "unexpected ValueError" in ln], text


def test_render_gate_keeps_refusing_after_the_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PSK only whitespace-separated from a command never reaches the render step."""
    d = write_inventory(tmp_path, "juniper_junos", monkeypatch)
    monkeypatch.setenv("TS_LEAK_PSK_T2", PSKS["t2"] + '"; delete security')
    with pytest.raises(InventoryError) as exc:
        load_checked(str(d))
    assert PSKS["t2"] not in str(exc.value)
    assert yaml.safe_load((d / "tunnels.yaml").read_text())  # the inventory itself is untouched


def test_huge_psk_is_refused_even_where_the_platform_names_no_limit(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    d = write_inventory(tmp_path, "strongswan", monkeypatch)
    monkeypatch.setenv("TS_LEAK_PSK_T1", "Ab3" * 2000)
    hits = assert_refused(d, "psk", "characters long")
    assert all("Ab3Ab3" not in str(p) for p in hits)
