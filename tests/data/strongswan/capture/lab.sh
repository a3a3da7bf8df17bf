#!/bin/bash
# Capture real strongSwan status output in two private namespaces (tscap-a: device, tscap-b: cloud).
set -euo pipefail
T=/tmp/tscap
conf() { # $1 = a|b
cat > $T/$1/strongswan.conf <<EOC
charon {
  load_modular = yes
  install_routes = yes
  plugins {
    include /etc/strongswan.d/charon/*.conf
    kernel-libipsec { load = yes }
    vici { socket = unix://$T/$1/charon.vici }
  }
  filelog {
    tscap { path = $T/$1/charon.log
            time_format = %H:%M:%S
            default = 1
            ike = 2 }
  }
}
starter { load_warning = no }
include /etc/strongswan.d/*.conf
EOC
}
up_net() {
  python3 - <<'EOP'
import ipaddress, subprocess, json
routes = json.loads(subprocess.check_output(["ip", "-j", "-4", "route", "show", "table", "all"]))
lab = [ipaddress.ip_network(n) for n in ("198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "169.254.0.0/16")]
for r in routes:
    d = r.get("dst")
    if d in (None, "default"): continue
    n = ipaddress.ip_network(d if "/" in d else d + "/32", strict=False)
    if any(n.overlaps(l) for l in lab) and r.get("type") not in ("broadcast",):
        raise SystemExit(f"refusing: root namespace route {d} overlaps the lab plan")
print("root namespace: no overlap with the lab plan")
EOP
  ip netns add tscap-a; ip netns add tscap-b
  ip netns exec tscap-a ip link add tscap-a0 type veth peer name tscap-b0 netns tscap-b
  ip -n tscap-a link set lo up; ip -n tscap-b link set lo up
  ip -n tscap-a link set tscap-a0 up; ip -n tscap-b link set tscap-b0 up
  ip -n tscap-a addr add 198.51.100.10/24 dev tscap-a0
  for i in 10 11 12 13; do ip -n tscap-b addr add 203.0.113.$i/24 dev tscap-b0; done
  ip -n tscap-a route add 203.0.113.0/24 dev tscap-a0
  ip -n tscap-b route add 198.51.100.0/24 dev tscap-b0
  for n in 16 17; do ip -n tscap-a addr add 198.18.$n.1/24 dev lo; done
  ip -n tscap-a addr add 169.254.20.2/32 dev lo
  for n in 16 17 18 19 20 21; do ip -n tscap-b addr add 198.19.$n.1/24 dev lo; done
  ip -n tscap-b addr add 169.254.20.1/32 dev lo
  # the cloud "firewall" drops IKE towards 203.0.113.13: the v2dead tunnel stays CONNECTING
  ip netns exec tscap-b nft -f - <<'EON'
table inet tscap { chain in { type filter hook input priority 0; ip daddr 203.0.113.13 udp dport { 500, 4500 } drop; }; }
EON
}
# start a charon directly (swanctl format) in ns $1 (a|b), private /run; records the unshare pid
start_charon() {
  conf $1
  ip netns exec tscap-$1 unshare -m --propagation private sh -c \
    "mount -t tmpfs tscap-run /run && STRONGSWAN_CONF=$T/$1/strongswan.conf exec /usr/lib/ipsec/charon" \
    >$T/$1/charon.out 2>&1 &
  echo $! > $T/$1/pid
}
# start starter (ipsec format) in ns $1 with ipsec.conf/secrets bind-mounted over /etc
start_starter() {
  conf $1
  cp $2 $T/$1/ipsec.conf; cp $3 $T/$1/ipsec.secrets; chmod 600 $T/$1/ipsec.secrets
  ip netns exec tscap-$1 unshare -m --propagation private sh -c \
    "mount -t tmpfs tscap-run /run && mount --bind $T/$1/ipsec.conf /etc/ipsec.conf && mount --bind $T/$1/ipsec.secrets /etc/ipsec.secrets && STRONGSWAN_CONF=$T/$1/strongswan.conf exec /usr/lib/ipsec/starter --nofork" \
    >$T/$1/starter.out 2>&1 &
  echo $! > $T/$1/pid
}
sw() { local n=$1 op=$2; shift 2; ip netns exec tscap-$n swanctl $op --uri unix://$T/$n/charon.vici "$@"; }
# run a command inside ns $1's private mount namespace (for stroke: ipsec statusall)
inmnt() { local n=$1; shift; local p; p=$(pgrep -P "$(cat $T/$n/pid)" | head -1 || true); [ -n "$p" ] || p=$(cat $T/$n/pid); nsenter -t "$p" -m -n env STRONGSWAN_CONF=$T/$n/strongswan.conf "$@"; }
down_all() {
  for n in a b; do
    if [ -f $T/$n/pid ]; then pid=$(cat $T/$n/pid); kill -TERM -- "$pid" 2>/dev/null || true
      for c in $(pgrep -P "$pid" 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done; rm -f $T/$n/pid; fi
  done
  sleep 1
  ip netns del tscap-a 2>/dev/null || true; ip netns del tscap-b 2>/dev/null || true
}
