#!/usr/bin/env bash
# Benchmark: netshoot ping/fping against fping and iputils ping, in namespaces only.
#   1. /24 sweep: bridge namespace + N hosts (every 5th with its link down), client on
#      the bridge; `fping -a -g` vs `netshoot fping -a -g` (median of RUNS, neighbour
#      table flushed before each run); both must report the same alive set.
#   2. RTT accuracy with 20 ms added round-trip delay (delayfwd): mean error of
#      netshoot ping and iputils ping against the 20 ms that was added.
# Usage: bench/ping.sh [NETSHOOT_BIN] [DELAYFWD_BIN]     (root; defaults: build/...)
# Env: HOSTS (50), RUNS (3), PROBES (20)
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/ping.sh: must run as root" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
NS_BIN=${1:-$here/build/netshoot}
DELAYFWD=${2:-$(dirname "$NS_BIN")/tests/delayfwd}
HOSTS=${HOSTS:-50} RUNS=${RUNS:-3} PROBES=${PROBES:-20}
P=pbench
NET=10.211.50

cleanup() {
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true); [[ -n $pids ]] && kill $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  "$here/tests/tools/delay-topology.sh" down "$P-d" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

# ---- the LAN -----------------------------------------------------------------------
mkns() { ip netns add "$1"; ip -n "$1" link set lo up
         ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv4.icmp_ratelimit=0; }
mkns "$P-sw"; mkns "$P-c"
ip -n "$P-sw" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$P-sw" link set br0 up
ip -n "$P-sw" link add pc type veth peer name eth0 netns "$P-c"
ip -n "$P-sw" link set pc master br0 up
ip -n "$P-c" addr add "$NET.254/24" dev eth0; ip -n "$P-c" link set eth0 up
up=()
for ((i = 1; i <= HOSTS; i++)); do
  mkns "$P-h$i"
  ip -n "$P-sw" link add "p$i" type veth peer name eth0 netns "$P-h$i"
  ip -n "$P-sw" link set "p$i" master br0 up
  ip -n "$P-h$i" addr add "$NET.$i/24" dev eth0
  if ((i % 5 != 0)); then ip -n "$P-h$i" link set eth0 up; up+=("$NET.$i"); fi
done
for _ in $(seq 50); do ip netns exec "$P-c" ping -c1 -W1 -q "$NET.1" >/dev/null 2>&1 && break; sleep 0.1; done
expected_live=$(printf '%s\n' "${up[@]}" | sort -V)
expected_sweep=$(printf '%s\n' "${up[@]}" "$NET.254" | sort -V)  # the client answers for itself

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_sweep() {  # time_sweep LABEL EXPECTED CMD... -> prints seconds; checks the alive set
  local label=$1 expected=$2; shift 2; local t0 t1 out times=()
  for ((r = 0; r < RUNS; r++)); do
    ip -n "$P-c" neigh flush all
    t0=$(date +%s.%N)
    out=$(ip netns exec "$P-c" "$@" 2>/dev/null || true)
    t1=$(date +%s.%N)
    if [[ $(sort -V <<<"$out") != "$expected" ]]; then
      echo "MISMATCH $label: got $(wc -l <<<"$out") alive, want $(wc -l <<<"$expected")" >&2
    fi
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | median
}

echo "# /24 sweep: $HOSTS hosts on a bridge, ${#up[@]} up; median of $RUNS runs (neighbour table flushed)"
t_fping=$(time_sweep fping "$expected_sweep" fping -a -g "$NET.0/24")
t_ns=$(time_sweep netshoot "$expected_sweep" "$NS_BIN" fping -a -g "$NET.0/24")
printf 'sweep_fping_s %.3f\n' "$t_fping"
printf 'sweep_netshoot_s %.3f\n' "$t_ns"
printf 'sweep_speedup_x %.2f\n' "$(echo "$t_fping / $t_ns" | bc -l)"
t_fping_live=$(time_sweep fping-live "$expected_live" fping -a "${up[@]}")
t_ns_live=$(time_sweep netshoot-live "$expected_live" "$NS_BIN" fping -a "${up[@]}")
printf 'sweep_live_only_fping_s %.3f\n' "$t_fping_live"
printf 'sweep_live_only_netshoot_s %.3f\n' "$t_ns_live"
printf 'sweep_live_only_speedup_x %.2f\n' "$(echo "$t_fping_live / $t_ns_live" | bc -l)"

# ---- RTT accuracy under 20 ms --------------------------------------------------------
if [[ -x $DELAYFWD ]]; then
  "$here/tests/tools/delay-topology.sh" up "$P-d" "$DELAYFWD" --delay 10 >/dev/null
  for _ in $(seq 50); do ip netns exec "$P-d-a" ping -c1 -W1 -q 10.77.2.2 >/dev/null 2>&1 && break; sleep 0.1; done
  avg() { awk -F'/' '/^rtt/ {split($0, a, " = "); split(a[2], b, "/"); print b[2]}'; }
  a_ip=$(ip netns exec "$P-d-a" ping -q -c "$PROBES" -i 0.05 10.77.2.2 | avg)
  a_ns=$(ip netns exec "$P-d-a" "$NS_BIN" ping -q -c "$PROBES" -i 0.05 10.77.2.2 | avg)
  echo "# RTT with 20 ms added (delayfwd, 10 ms each way), $PROBES probes at 50 ms"
  printf 'rtt_avg_iputils_ms %.3f (error %+.3f)\n' "$a_ip" "$(echo "$a_ip - 20" | bc -l)"
  printf 'rtt_avg_netshoot_ms %.3f (error %+.3f)\n' "$a_ns" "$(echo "$a_ns - 20" | bc -l)"
  printf 'rtt_netshoot_minus_iputils_ms %+.3f\n' "$(echo "$a_ns - $a_ip" | bc -l)"
else
  echo "# RTT accuracy skipped: no delayfwd at $DELAYFWD"
fi
