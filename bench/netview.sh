#!/usr/bin/env bash
# Benchmark: netshoot ss/netstat/ip against iproute2 and net-tools, in a namespace only.
#   1. PAIRS established loopback TCP pairs (2*PAIRS sockets plus a listener):
#      `ss -tan` vs `netshoot ss -tan` vs `netstat -tan` (all must count the same
#      established sockets).
#   2. ROUTES /32 routes in the main table (added with `ip -batch`):
#      `ip route show` vs `netshoot ip route show` (same line count).
# hyperfine -N runs inside the namespace, output to /dev/null; ratios are
# netshoot's mean time over the peer's.
# Usage: bench/netview.sh [NETSHOOT_BIN]      (root; default build/netshoot)
# Env: PAIRS (50000: the issue's 100,000 sockets), ROUTES (100000), RUNS (10)
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/netview.sh: must run as root" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
NS_BIN=$(realpath "${1:-$here/build/netshoot}")
PAIRS=${PAIRS:-50000} ROUTES=${ROUTES:-100000} RUNS=${RUNS:-10}
NS=nvbench
tmp=$(mktemp -d)
holder=""

cleanup() {
  [[ -n $holder ]] && kill $holder 2>/dev/null || true
  pids=$(ip netns pids "$NS" 2>/dev/null || true); [[ -n $pids ]] && kill $pids 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

ratio() {  # ratio NAME JSON: netshoot mean / each other command's mean
  jq -r --arg n "$1" '.results as $r | ($r[] | select(.command|test("netshoot")) | .mean) as $ours
    | $r[] | select(.command|test("netshoot")|not)
    | "\($n): netshoot \($ours*1000|.*10|round/10) ms vs \(.command|split(" ")[0]) \(.mean*1000|.*10|round/10) ms  ratio \($ours/.mean|.*100|round/100)"' "$2"
}

# ---- 1. established pairs ------------------------------------------------------------
echo "== $PAIRS established loopback pairs"
in_ns sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
# RLIMIT_NOFILE's hard limit may be low (no CAP_SYS_RESOURCE): several holders.
CHUNK=4000
holders=()
for ((k = 0; k * CHUNK < PAIRS; k++)); do
  n=$(( PAIRS - k * CHUNK < CHUNK ? PAIRS - k * CHUNK : CHUNK ))
  # Listener ports below the ephemeral range, so no client can hold one first.
  ip netns exec "$NS" python3 - "$n" "$((5000 + k))" "$tmp/ready.$k" <<'PY' &
import socket, sys, resource, time
n, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port)); l.listen(4096)
keep = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port)); a, _ = l.accept(); keep += [c, a]
open(sys.argv[3], "w").write("ok")
time.sleep(3600)
PY
  holders+=($!)
done
holder="${holders[*]}"
for _ in $(seq 240); do
  ready=$(ls "$tmp" | grep -c '^ready\.' || true)
  [[ $ready == "${#holders[@]}" ]] && break
  for h in "${holders[@]}"; do kill -0 "$h" 2>/dev/null || { echo "a holder died" >&2; exit 1; }; done
  sleep 0.5
done
[[ $ready == "${#holders[@]}" ]] || { echo "pairs did not come up" >&2; exit 1; }
a=$(in_ns ss -tan state established | tail -n +2 | wc -l)
b=$(in_ns "$NS_BIN" ss -tan state established | tail -n +2 | wc -l)
c=$(in_ns netstat -tan | grep -c ESTABLISHED)
echo "established: ss $a, netshoot $b, netstat $c"
[[ $a == "$b" && $a == "$c" ]] || { echo "counts differ" >&2; exit 1; }
cmp <(in_ns ss -tan) <(in_ns "$NS_BIN" ss -tan) && echo "ss -tan text identical"
cmp <(in_ns netstat -tan | sort) <(in_ns "$NS_BIN" netstat -tan | sort) && echo "netstat -tan lines identical"
in_ns hyperfine -N -w 2 -r "$RUNS" --export-json "$tmp/ss.json" \
  "ss -tan" "$NS_BIN ss -tan" "netstat -tan" "$NS_BIN netstat -tan" >/dev/null
jq -r '.results[] | "  \(.command): \(.mean*1000|.*10|round/10) ms ± \(.stddev*1000|.*10|round/10)"' "$tmp/ss.json"
jq -r '.results as $r
  | "ratio netshoot ss / ss -tan: \(($r[1].mean/$r[0].mean)*100|round/100)",
    "ratio netshoot netstat / netstat -tan: \(($r[3].mean/$r[2].mean)*100|round/100)"' "$tmp/ss.json"
kill $holder; holder=""

# ---- 2. a big routing table -----------------------------------------------------------
echo "== $ROUTES routes"
ip -n "$NS" link add bv0 type veth peer name bv1
ip -n "$NS" addr add 192.168.200.1/24 dev bv0
ip -n "$NS" link set bv0 up; ip -n "$NS" link set bv1 up
python3 - "$ROUTES" > "$tmp/routes" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"route add 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32 via 192.168.200.2 dev bv0")
PY
ip -n "$NS" -batch "$tmp/routes"
a=$(in_ns ip route show | wc -l); b=$(in_ns "$NS_BIN" ip route show | wc -l)
echo "routes listed: ip $a, netshoot $b"
[[ $a == "$b" ]] || { echo "counts differ" >&2; exit 1; }
cmp <(in_ns ip route show) <(in_ns "$NS_BIN" ip route show) && echo "text identical"
cmp <(in_ns ip -j route show | jq -S .) <(in_ns "$NS_BIN" ip -j route show | jq -S .) && echo "ip -j JSON identical"
in_ns hyperfine -N -w 2 -r "$RUNS" --export-json "$tmp/route.json" \
  "ip route show" "$NS_BIN ip route show" "ip -j route show" "$NS_BIN ip -j route show" >/dev/null
jq -r '.results[] | "  \(.command): \(.mean*1000|.*10|round/10) ms ± \(.stddev*1000|.*10|round/10)"' "$tmp/route.json"
jq -r '.results as $r
  | "ratio netshoot ip route / ip route: \(($r[1].mean/$r[0].mean)*100|round/100)",
    "ratio netshoot ip -j route / ip -j route: \(($r[3].mean/$r[2].mean)*100|round/100)"' "$tmp/route.json"
