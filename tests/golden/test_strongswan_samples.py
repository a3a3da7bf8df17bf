"""Golden: published strongSwan configurations (strongSwan's test suite, Alibaba's guide) vs ours.

Each sample in `tests/data/strongswan/samples/` (verbatim, source and licence in its header) has
an inventory `inventory/examples/<sample-stem>/` built from that header. The test renders the
device (`moon`, or the guide's IDC host) in the sample's format, puts the sample's placeholders
back (mapping read from that inventory's README.md) and compares both sides as sets of
*effective* statements `(scope, key, value)`:

* `conn %default` is folded into every conn; strongSwan's defaults are filled in for the few keys
  either side may leave out (`type`, `mobike`, `encap`, `keyingtries`, `start_action`, ...);
* spellings strongSwan treats alike are made equal (`x25519` = `curve25519`, `aes` = `aes128`,
  `aes128gcm128` = `aes128gcm16`, `authby=secret` = `psk`, `keylife` = `lifetime`, `60m` =
  `3600s`); a trailing `!` (strict proposal) is dropped: the algorithms are the same;
* lifetimes are compared as what the daemon does with them, not as the keys written: ipsec.conf's
  `ikelifetime`/`lifetime` are hard lifetimes with renewal `rekeymargin` (+ up to `rekeyfuzz`)
  earlier; swanctl's `rekey_time`/`reauth_time` are renewal times, the hard IKE lifetime is
  renewal + `over_time` (default 10 % of the longer of the two) and the hard CHILD lifetime
  `life_time` (default `rekey_time` + 10 %), renewal randomised by `rand_time` (swanctl.conf(5)).
  Each side becomes: how the IKE SA is renewed (rekey or reauthentication), the renewal window
  and the hard lifetime, for IKE and for each CHILD. The intent's lifetimes are hard lifetimes,
  so the inventories carry the samples' effective hard lifetimes, which must match exactly.

Every statement present on one side only is listed below with its reason; any other change of a
proposal, lifetime, selector, peer, identity, version or mode makes the test fail.
"""

from __future__ import annotations

import base64
import re
import secrets as pysecrets
from pathlib import Path

import pytest

from tunnelsmith import inventory, render, validate
from tunnelsmith import secrets as secretmod

from ._golden import ipsec_conf_sections

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests/data/strongswan/samples"
EXAMPLES = ROOT / "inventory/examples"

Statement = tuple[str, str, str]

# The key charon uses for moon <-> sun in the test suite's samples (ipsec.secrets line 1,
# swanctl.conf secret ike-3, the only entry naming both IDs), set as the PSK like a real key.
SUITE_PSK = "0sv+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL"
# The key we set is the sample's characters without the 0s prefix: validation refuses text keys
# starting with 0s/0x on strongSwan, because swanctl would decode them as base64/hex.
SUITE_TEXT_PSK = SUITE_PSK[2:]
ALIBABA_PSK = "yourpassword"  # the guide's placeholder key

# Spellings strongSwan parses to the same algorithm (proposal keywords, strongSwan docs).
TOKENS = {"x25519": "curve25519", "aes": "aes128", "aes128gcm128": "aes128gcm16"}


# --- sample files -------------------------------------------------------------------------------
def sample_files(name: str) -> dict[str, str]:
    """The verbatim files of a test-suite sample ('### FILE <path>' sections), by base name."""
    text = (DATA / f"{name}.txt").read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for chunk in re.split(r"^### FILE ", text, flags=re.M)[1:]:
        path, _, body = chunk.partition("\n")
        out[Path(path.strip()).name] = body
    return out


def alibaba_blocks() -> list[str]:
    """The guide's code blocks, in order (the header separates them with '#---- next code block ----')."""
    text = (DATA / "alibaba-strongswan_ipsecconf-4.txt").read_text(encoding="utf-8")
    body = text.split("# ===== END HEADER =====\n", 1)[1]
    return re.split(r"^#---- next code block ----\n", body, flags=re.M)


def placeholders(stem: str) -> dict[str, str]:
    """inventory value -> sample text, from the table in the inventory's README.md."""
    readme = (EXAMPLES / stem / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| (\d+\.\d+\.\d+\.\d+) \|", readme, flags=re.M)
    return {ours: theirs for theirs, ours in rows}


def render_moon(stem: str, host: str, env: str, psk: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv(env, psk)
    inv = inventory.load(EXAMPLES / stem)
    out = render.render_device(inv, host).files
    for ours, theirs in placeholders(stem).items():
        pattern = re.compile(r"(?<![\d.])" + re.escape(ours) + r"(?![\d])")
        out = {p: pattern.sub(theirs, t) for p, t in out.items()}
    return out


# --- values ---------------------------------------------------------------------------------------
def secs(value: str) -> int:
    m = re.fullmatch(r"(\d+)([smhd]?)", value.strip())
    assert m, f"not a time: {value!r}"
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def proposal(value: str) -> str:
    out = []
    for prop in value.split(","):
        tokens = prop.strip().rstrip("!").split("-")
        out.append("-".join(TOKENS.get(t, t) for t in tokens))
    return ",".join(out)


def key_bytes(value: str, *, quoted: bool, encodings: bool) -> str:
    """A PSK as the daemon holds it (hex). `encodings`: 0x/0s prefixes are decoded."""
    if encodings and not quoted and value[:2].lower() == "0x":
        return value[2:].lower()
    if encodings and not quoted and value[:2].lower() == "0s":
        return base64.b64decode(value[2:]).hex()
    return value.encode().hex()


# --- ipsec.conf / ipsec.secrets -------------------------------------------------------------------
CONF_DEFAULTS = {"type": "tunnel", "mobike": "yes", "keyingtries": "3", "aggressive": "no", "auto": "ignore",
                 "dpdaction": "none"}
CONF_ALIASES = {"keylife": "lifetime", "margintime": "rekeymargin"}


def conf_sections(text: str, fix=None) -> dict[str, dict[str, str]]:
    return ipsec_conf_sections(text, strict=True, key=lambda k: CONF_ALIASES.get(k, k), value=fix)


def conf_lifetimes(kv: dict[str, str]) -> set[tuple[str, str]]:
    """ipsec.conf(5) EXPIRY/REKEY: hard lifetimes; renewal margin (+ fuzz x margin) earlier."""
    ike, life = secs(kv.pop("ikelifetime", "3h")), secs(kv.pop("lifetime", "1h"))
    margin = secs(kv.pop("rekeymargin", "9m"))
    jitter = margin * int(kv.pop("rekeyfuzz", "100%").rstrip("%")) // 100
    ikev1 = kv.get("keyexchange") == "ikev1"
    kind = "reauth" if ikev1 or kv.pop("reauth", "yes") == "yes" else "rekey"
    kv.pop("reauth", None)
    return {("ike renewal", kind), ("ike renewal window", f"{ike - margin - jitter}-{ike - margin}s"),
            ("ike hard lifetime", f"{ike}s"), ("child rekey window", f"{life - margin - jitter}-{life - margin}s"),
            ("child hard lifetime", f"{life}s")}


def conf_statements(text: str, fix=None) -> set[Statement]:
    sections = conf_sections(text, fix)
    default = sections.pop("%default", {})
    out: set[Statement] = set()
    for name, kv in sections.items():
        if name == "config setup":
            out |= {(name, k, v) for k, v in kv.items()}
            continue
        merged = {**CONF_DEFAULTS, **default, **kv}
        if merged.get("authby") == "secret":
            merged["authby"] = "psk"
        for k in ("ike", "esp"):
            if k in merged:
                merged[k] = proposal(merged[k])
        out |= {(f"conn {name}", k, v) for k, v in conf_lifetimes(merged)}
        out |= {(f"conn {name}", k, v) for k, v in merged.items()}
    return out


def secrets_statements(text: str) -> set[Statement]:
    out: set[Statement] = set()
    for raw in text.splitlines():
        m = re.match(r"^([^:#]*):\s*PSK\s+(\"[^\"]*\"|'[^']*'|\S+)", raw)
        if not m:
            continue
        value = m.group(2)
        quoted = value[0] in "\"'"
        secret = key_bytes(value[1:-1] if quoted else value, quoted=quoted, encodings=True)
        out.add((f"secret {' '.join(m.group(1).split())}".strip(), "key", secret))
    return out


# --- swanctl.conf ---------------------------------------------------------------------------------
def swanctl_tree(text: str) -> dict:
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"^([^=\s{}]+)\s*=\s*(.*)$", line)
        if m:
            stack[-1][m.group(1)] = _sw_value_text(m.group(2).strip())
            continue
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith("{"):
            node: dict = {}
            stack[-1][line[:-1].strip()] = node
            stack.append(node)
        elif line == "}":
            stack.pop()
        else:
            raise AssertionError(f"not swanctl.conf syntax: {raw!r}")
    assert len(stack) == 1, "unbalanced braces"
    return root


def _sw_value_text(value: str) -> str:
    """A value up to its closing quote, or up to a trailing comment."""
    if value[:1] in "\"'":
        return value[: value.index(value[0], 1) + 1]
    return value.split("#", 1)[0].strip()


SW_CONN_DEFAULTS = {"mobike": "yes", "encap": "no", "aggressive": "no", "dpd_delay": "0s"}
SW_CHILD_DEFAULTS = {"start_action": "none", "dpd_action": "clear", "mode": "tunnel"}


def ike_lifetimes(kv: dict[str, str]) -> set[tuple[str, str]]:
    """swanctl.conf(5): renewal at the earlier of rekey_time/reauth_time minus up to rand_time;
    the IKE SA is closed over_time after that (defaults as vici applies them)."""
    rekey, reauth = secs(kv.pop("rekey_time", "4h")), secs(kv.pop("reauth_time", "0s"))
    over = secs(kv.pop("over_time")) if "over_time" in kv else max(rekey, reauth) // 10
    base = min(rekey, reauth) if rekey and reauth else max(rekey, reauth)
    rand = secs(kv.pop("rand_time")) if "rand_time" in kv else min(over, base // 2)
    first = min(t for t in (rekey, reauth) if t)
    kind = "reauth" if reauth and reauth == first else "rekey"
    return {("ike renewal", kind), ("ike renewal window", f"{first - rand}-{first}s"),
            ("ike hard lifetime", f"{first + over}s")}


def child_lifetimes(kv: dict[str, str]) -> set[tuple[str, str]]:
    rekey = secs(kv.pop("rekey_time", "1h"))
    life = secs(kv.pop("life_time")) if "life_time" in kv else rekey * 110 // 100
    rand = secs(kv.pop("rand_time")) if "rand_time" in kv else life - rekey
    return {("rekey window", f"{rekey - rand}-{rekey}s"), ("hard lifetime", f"{life}s")}


def sw_value(key: str, value: str) -> str:
    if key in ("proposals", "esp_proposals"):
        return proposal(value)
    if key.endswith("_time") or key == "dpd_delay":
        return f"{secs(value)}s"
    return value


def swanctl_statements(text: str, child_names: dict[str, str] | None = None) -> set[Statement]:
    tree = swanctl_tree(text)
    out: set[Statement] = set()
    for name, conn in tree.get("connections", {}).items():
        kv = {k: v for k, v in conn.items() if isinstance(v, str)}
        kv = {**SW_CONN_DEFAULTS, **kv}
        out |= {(f"conn {name}", k, v) for k, v in ike_lifetimes(kv)}
        out |= {(f"conn {name}", k, sw_value(k, v)) for k, v in kv.items()}
        for side in ("local", "remote"):
            out |= {(f"conn {name} {side}", k, v) for k, v in conn.get(side, {}).items()}
        for child, ckv in conn.get("children", {}).items():
            scope = f"child {(child_names or {}).get(child, child)}"
            ckv = {**SW_CHILD_DEFAULTS, **ckv}
            out |= {(scope, k, v) for k, v in child_lifetimes(ckv)}
            out |= {(scope, k, sw_value(k, v)) for k, v in ckv.items()}
    for entry in tree.get("secrets", {}).values():
        ids = sorted(v for k, v in entry.items() if k.startswith("id"))
        value = entry["secret"]
        quoted = value[:1] in "\"'"
        # swanctl decodes 0x/0s prefixes even inside quotes (swanctl.conf(5), secrets.ike.secret)
        secret = key_bytes(value[1:-1] if quoted else value, quoted=False, encodings=True)
        out.add((f"secret {' '.join(ids)}".strip(), "key", secret))
    return out


# --- cases ----------------------------------------------------------------------------------------
def textkey(text: str) -> str:
    """A key written as text (quoted), as the daemon holds it."""
    return text.encode().hex()


def hexkey(text: str) -> str:
    return key_bytes(text, quoted=False, encodings=True)


SUITE_KEY = hexkey(SUITE_PSK)

# ipsec.conf samples: what both stroke samples leave out or add, and why.
STROKE_ONLY_SAMPLE = {
    # Not managed by tunnelsmith: host firewall rules belong to the device's own firewall config.
    ("conn net-net", "leftfirewall", "yes"),
    # Test-suite setting (give up after one try); tunnelsmith keeps strongSwan's default (3).
    ("conn net-net", "keyingtries", "1"),
    # rekeymargin=3m, fuzz 100 %: renewal 3-6 min before the hard lifetime. Ours writes a margin of
    # 10 % of the shorter lifetime (120 s) when 9 min could rekey a 20 min CHILD SA before half
    # of its life; the hard lifetimes (60 min, 20 min) are equal.
    ("conn net-net", "ike renewal window", "3240-3420s"),
    ("conn net-net", "child rekey window", "840-1020s"),
    # The sample's secret is base64 (0s, unquoted): binary key material. tunnelsmith writes keys
    # as quoted text (cloud consoles take text keys), so the same characters are a different key:
    # a text key cannot express this binary one. Ours is the key set in the environment.
    ("secret @moon.strongswan.org @sun.strongswan.org", "key", SUITE_KEY),
}
STROKE_ONLY_OURS = {
    # The sample relies on strongSwan's default proposals; the intent must name one. Ours is the
    # first of each default list on Debian 12's strongSwan 5.9.8 (what two default peers select):
    # IKE AES_CBC_128/HMAC_SHA2_256/PRF_SHA2_256/CURVE_25519, ESP AES_CBC_128/HMAC_SHA2_256, no PFS.
    ("conn net-net", "ike", "aes128-sha256-curve25519"),
    ("conn net-net", "esp", "aes128-sha256"),
    ("conn net-net", "ike renewal window", "3360-3480s"),
    ("conn net-net", "keyingtries", "3"),
    ("conn net-net", "child rekey window", "960-1080s"),
    # uniqueids=yes is strongSwan's default; the sample's "config setup" is empty.
    ("config setup", "uniqueids", "yes"),
    ("secret @moon.strongswan.org @sun.strongswan.org", "key", textkey(SUITE_TEXT_PSK)),
}

CASES = {
    "strongswan-ipsecconf-1": {
        "host": "moon", "env": "TS_SAMPLE_PSK_STRONGSWAN_IPSECCONF_1", "psk": SUITE_TEXT_PSK,
        "only_sample": STROKE_ONLY_SAMPLE,
        "only_ours": STROKE_ONLY_OURS,
    },
    "strongswan-ipsecconf-2": {
        "host": "moon", "env": "TS_SAMPLE_PSK_STRONGSWAN_IPSECCONF_2", "psk": SUITE_TEXT_PSK,
        "only_sample": STROKE_ONLY_SAMPLE | {
            # IKEv2 with ipsec.conf's default reauth=yes: the IKE SA is re-authenticated, which
            # tears the CHILD SAs down and up again; ours rekeys it in place (reauth=no).
            ("conn net-net", "ike renewal", "reauth"),
            # The test suite's alternative secrets for other peers; charon uses the line naming
            # both IDs (compared above).
            ("secret @moon.strongswan.org %any", "key", hexkey("0x45a30759df97dc26a15b88ff")),
            ("secret @sun.strongswan.org", "key", textkey("This is a strong password")),
            ("secret", "key", textkey('My "home" is my "castle"!')),
            ("secret PH_IP_MOON", "key", textkey("Andi's home")),
        },
        "only_ours": STROKE_ONLY_OURS | {
            ("conn net-net", "ike renewal", "rekey"),
        },
    },
}

# swanctl.conf samples (1: IKEv2, 3: IKEv1): differences shared by both.
SUITE_ONLY_SAMPLE = {
    # Not managed by tunnelsmith: the firewall rules the test suite's updown script inserts.
    ("child gw-gw-1", "updown", "/usr/local/libexec/ipsec/_updown iptables"),
    # Volume-based rekeying: the intent has time lifetimes only (as the clouds' consoles do).
    ("child gw-gw-1", "rekey_bytes", "500000000"),
    ("child gw-gw-1", "rekey_packets", "1000000"),
    # Renewal from reauth_time 10800 s minus rand_time 1440 s (over_time default: 10 % of the
    # 4 h default rekey_time); ours renews at most 540 s (9 min, ipsec.conf's margin) before the
    # same hard lifetime of 12240 s, which is what IKEv1 announces as the ISAKMP SA lifetime.
    ("conn gw-gw", "ike renewal window", "9360-10800s"),
    # The test suite's alternative secrets for other peers (charon picks ike-3, naming both IDs).
    ("secret moon.strongswan.org", "key", hexkey("0x45a30759df97dc26a15b88ff")),
    ("secret sun.strongswan.org", "key", textkey("This is a strong password")),
    ("secret", "key", textkey('My "home" is my "castle"!')),
    ("secret 192.168.0.1", "key", textkey("Andi's home")),
    # The sample's ike-3 key is base64 (0s...): binary key material. A text key starting with
    # 0s/0x is refused by validation (swanctl would decode it), so ours is the same characters
    # without the prefix, as text: a different key, by design.
    ("secret moon.strongswan.org sun.strongswan.org", "key", SUITE_KEY),
}
SUITE_ONLY_OURS = {
    ("conn gw-gw", "ike renewal window", "11160-11700s"),
    ("secret moon.strongswan.org sun.strongswan.org", "key", textkey(SUITE_TEXT_PSK)),
    # DPD is off in these inventories (the sample sets none): dpd_action does nothing without
    # dpd_delay; the template always names the action the intent would use with DPD on.
    ("child gw-gw-1", "dpd_action", "restart"),
}
SUITE_ONLY_OURS_MOBIKE = {
    # mobike = no: the cloud ends of tunnelsmith do not roam (MOBIKE is IKEv2 only; inert on v1).
    ("conn gw-gw", "mobike", "no"),
}

CASES |= {
    "strongswan-swanctl-1": {
        "host": "moon", "env": "TS_SAMPLE_PSK_STRONGSWAN_SWANCTL_1", "psk": SUITE_TEXT_PSK,
        "children": {"net-net": "gw-gw-1"},  # ours: one CHILD per selector pair, <tunnel>-<n>
        "only_sample": SUITE_ONLY_SAMPLE | {
            ("conn gw-gw", "ike renewal", "reauth"),  # see strongswan-ipsecconf-2: ours rekeys
            ("child gw-gw-1", "dpd_action", "clear"),
        },
        "only_ours": SUITE_ONLY_OURS | {("conn gw-gw", "ike renewal", "rekey")},
    },
    "strongswan-swanctl-3": {
        "host": "moon", "env": "TS_SAMPLE_PSK_STRONGSWAN_SWANCTL_3", "psk": SUITE_TEXT_PSK,
        "children": {"net-net": "gw-gw-1"},
        "only_sample": SUITE_ONLY_SAMPLE | {("child gw-gw-1", "dpd_action", "clear"),
                                            ("conn gw-gw", "mobike", "yes")},
        "only_ours": SUITE_ONLY_OURS | SUITE_ONLY_OURS_MOBIKE,
    },
}

# strongswan-swanctl-2: route-based VTI with certificates.
VTI_ONLY_SAMPLE = {
    # Public-key authentication with certificates: tunnelsmith configures pre-shared keys only
    # (the clouds' IPsec connections it targets use PSKs). IDs, peers and proposals still compare.
    ("conn gw-gw local", "auth", "pubkey"),
    ("conn gw-gw local", "certs", "moonCert.pem"),
    ("conn gw-gw remote", "auth", "pubkey"),
    # VTI: traffic selectors 0.0.0.0/0 with marks matching the VTI key, routes decide what enters.
    # tunnelsmith's strongSwan emulates route-based tunnels with explicit selectors (no VTI/XFRM
    # interfaces in the lab kernel, templates/platforms/strongswan/verify.yaml): the LAN-to-routed
    # prefix pair (pretest.dat's routes, checked in test_vti_sample_routes_are_our_selectors)
    # plus the inside address pair.
    ("child gw-gw-1", "local_ts", "0.0.0.0/0"),
    ("child gw-gw-1", "remote_ts", "0.0.0.0/0"),
    ("child gw-gw-1", "mark_in", "42"),
    ("child gw-gw-1", "mark_out", "42"),
    ("conn gw-gw", "mobike", "yes"),
    ("child gw-gw-1", "dpd_action", "clear"),
    # Defaults (rekey_time 4 h, over_time and rand_time 1440 s; CHILD rekey_time 1 h,
    # rand_time 360 s): ours renews closer to the same hard lifetimes (margin <= 540 s / 10 %).
    ("conn gw-gw", "ike renewal window", "12960-14400s"),
    ("child gw-gw-1", "rekey window", "3240-3600s"),
}
INSIDE = "child gw-gw-inside"
VTI_ONLY_OURS = {
    ("conn gw-gw", "mobike", "no"),
    ("child gw-gw-1", "dpd_action", "restart"),
    ("conn gw-gw", "ike renewal window", "14760-15300s"),
    ("child gw-gw-1", "rekey window", "3168-3564s"),
    ("child gw-gw-1", "local_ts", "10.1.0.0/16"),
    ("child gw-gw-1", "remote_ts", "10.2.0.0/16"),
    ("conn gw-gw local", "auth", "psk"),
    ("conn gw-gw remote", "auth", "psk"),
    ("secret moon.strongswan.org sun.strongswan.org", "key", "<random>"),
    # The inside /32 pair (the sample's VTI is unnumbered; the intent's route-based tunnels carry
    # inside addresses, used for BGP and verification pings).
    (INSIDE, "local_ts", "169.254.42.1/32"),
    (INSIDE, "remote_ts", "169.254.42.2/32"),
    (INSIDE, "esp_proposals", "aes128gcm16-curve25519"),
    (INSIDE, "hard lifetime", "3960s"),
    (INSIDE, "rekey window", "3168-3564s"),
    (INSIDE, "dpd_action", "restart"),
    (INSIDE, "start_action", "none"),
    (INSIDE, "mode", "tunnel"),
}
CASES["strongswan-swanctl-2"] = {
    "host": "moon", "env": "TS_SAMPLE_PSK_STRONGSWAN_SWANCTL_2", "psk": None,
    "children": {"net-net": "gw-gw-1"}, "only_sample": VTI_ONLY_SAMPLE, "only_ours": VTI_ONLY_OURS,
}

# Alibaba's guide (ipsec.conf, IKEv1, auto=route).
CASES["alibaba-strongswan_ipsecconf-4"] = {
    "host": "idc-strongswan", "env": "TS_SAMPLE_PSK_ALIBABA_STRONGSWAN", "psk": ALIBABA_PSK,
    "only_sample": {
        # "never" keeps stale SAs after a peer restart and never sends INITIAL_CONTACT.
        ("config setup", "uniqueids", "never"),
    },
    "only_ours": {("config setup", "uniqueids", "yes")},
}

SWANCTL = "/etc/swanctl/conf.d/tunnelsmith.conf"


def sample_statements(stem: str) -> set[Statement]:
    case = CASES[stem]
    if stem.startswith("alibaba-"):
        blocks = alibaba_blocks()
        conf = next(b for b in blocks if "ipsec.conf - strongSwan IPsec configuration file" in b)
        secrets = next(b for b in blocks if re.search(r"^\S+ \S+ : PSK", b, flags=re.M))
        return conf_statements(conf, fix=alibaba_fix) | secrets_statements(secrets)
    files = sample_files(stem)
    if "swanctl.conf" in files:
        return swanctl_statements(files["swanctl.conf"], case.get("children"))
    return conf_statements(files["ipsec.conf"]) | secrets_statements(files["ipsec.secrets"])


def alibaba_fix(key: str, value: str) -> str:
    """The guide writes prose into leftid=/rightid= ("59.110.165.70 (Public IP of the loca gateway)"),
    which starter would take as part of the ID: a documentation mistake. The address is meant."""
    if key in ("leftid", "rightid"):
        return re.sub(r"\s+\(Public IP of the [^)]*\)$", "", value)
    return value


def our_statements(stem: str, monkeypatch: pytest.MonkeyPatch) -> set[Statement]:
    case = CASES[stem]
    psk = case["psk"] or pysecrets.token_urlsafe(24)
    files = render_moon(stem, case["host"], case["env"], psk, monkeypatch)
    if SWANCTL in files:
        out = swanctl_statements(files[SWANCTL])
    else:
        out = conf_statements(files["/etc/ipsec.conf"]) | secrets_statements(files["/etc/ipsec.secrets"])
    if case["psk"] is None:  # a random key: compare where it goes, not its value
        out = {(s, k, "<random>" if s.startswith("secret") else v) for s, k, v in out}
    return out


@pytest.mark.parametrize("stem", sorted(CASES))
def test_inventory_validates(stem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sample's inventory is clean once its key is set (nothing weakened to fit a sample)."""
    case = CASES[stem]
    monkeypatch.setenv(case["env"], case["psk"] or pysecrets.token_urlsafe(24))
    secretmod.clear_cache()
    assert validate.check(EXAMPLES / stem) == []


@pytest.mark.parametrize("stem", sorted(CASES))
def test_sample_matches_rendering(stem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[stem]
    ours, theirs = our_statements(stem, monkeypatch), sample_statements(stem)
    assert ours - theirs == case["only_ours"]
    assert theirs - ours == case["only_sample"]


@pytest.mark.parametrize("stem", sorted(CASES))
def test_core_statements_are_compared(stem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements the brief names exist on both sides and are equal (none hides in a table)."""
    ours, theirs = our_statements(stem, monkeypatch), sample_statements(stem)
    common = {(k, v) for s, k, v in ours & theirs}
    keys = {k for k, _ in common}
    if SWANCTL in render_moon(stem, CASES[stem]["host"], CASES[stem]["env"], "x", monkeypatch):
        need = {"version", "proposals", "esp_proposals", "local_addrs", "remote_addrs", "id",
                "ike hard lifetime", "hard lifetime"}
    else:
        need = {"keyexchange", "left", "right", "leftid", "rightid", "leftsubnet", "rightsubnet", "type",
                "ike hard lifetime", "child hard lifetime", "auto", "authby"}
    assert need <= keys, need - keys


def test_stroke_proposals_are_strongswan_defaults_only_in_the_samples() -> None:
    """The test-suite ipsec.conf samples name no proposal (hence the choice recorded above)."""
    for stem in ("strongswan-ipsecconf-1", "strongswan-ipsecconf-2"):
        conf = sample_files(stem)["ipsec.conf"]
        assert not re.search(r"^\s*(ike|esp)=", conf, flags=re.M)


def test_alibaba_ids_carry_prose_in_the_guide() -> None:
    """The correction in alibaba_fix is still needed: the guide's IDs contain prose."""
    conf = next(b for b in alibaba_blocks() if "conn tomyidc" in b)
    raw = conf_sections(conf)["tomyidc"]
    assert raw["leftid"] == "59.110.165.70 (Public IP of the loca gateway)"
    assert raw["rightid"] == "119.23.227.125 (Public IP of the VPN Gateway)"
    fixed = conf_sections(conf, fix=alibaba_fix)["tomyidc"]
    assert (fixed["leftid"], fixed["rightid"]) == (fixed["left"], fixed["right"])


def test_vti_sample_routes_are_our_selectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """swanctl-2: the prefixes pretest.dat routes into each VTI are our LAN-to-LAN selector pair."""
    pretest = sample_files("strongswan-swanctl-2")["pretest.dat"]
    moon_routes = re.findall(r"^moon::ip route add (\S+) dev vti-moon$", pretest, flags=re.M)
    sun_routes = re.findall(r"^sun::ip route add (\S+) dev vti-sun$", pretest, flags=re.M)
    files = render_moon("strongswan-swanctl-2", "moon", "TS_SAMPLE_PSK_STRONGSWAN_SWANCTL_2", "x", monkeypatch)
    child = swanctl_tree(files[SWANCTL])["connections"]["gw-gw"]["children"]["gw-gw-1"]
    assert (child["local_ts"].split(), child["remote_ts"].split()) == (sun_routes, moon_routes)


def test_secrets_are_quoted_text_in_ipsec_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the stroke samples' key differs: ours is written quoted, so strongSwan reads it as text."""
    files = render_moon("strongswan-ipsecconf-1", "moon", "TS_SAMPLE_PSK_STRONGSWAN_IPSECCONF_1", SUITE_PSK,
                        monkeypatch)
    assert f'@moon.strongswan.org @sun.strongswan.org : PSK "{SUITE_PSK}"' in files["/etc/ipsec.secrets"]
    sample = sample_files("strongswan-ipsecconf-1")["ipsec.secrets"]
    assert f"@moon.strongswan.org @sun.strongswan.org : PSK {SUITE_PSK}" in sample  # unquoted: base64
