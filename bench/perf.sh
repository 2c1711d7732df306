#!/usr/bin/env bash
# Benchmark: netshoot perf (iperf3) against the real iperf3 on the same veth pair,
# in namespaces only. Every combination of client and server (theirs/ours), same run:
#   1. TCP, one stream          2. TCP, -P 4          3. UDP, 64-byte datagrams, -b 0
#   4. TCP, one stream with -Z on the client (sender): sendfile() from a memfd in both
#      tools; also compared with 1. (iperf3 both ends without -Z)
# Reported per run: receiver Gbit/s (UDP: datagrams/s received), loss, and the CPU
# seconds per GB moved on the client and the server (from the -J cpu_utilization_percent
# of the client, which holds both ends' numbers). Ratios: ours / iperf3.
# Usage: bench/perf.sh [NETSHOOT_BIN]     (root; default build/netshoot)
# Env: SECS (5), RUNS (3; the median run by throughput is kept)
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/perf.sh: must run as root" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "bench/perf.sh: iperf3 not installed" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench/perf.sh: jq not installed" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
NS_BIN=${1:-$here/build/netshoot}
SECS=${SECS:-5} RUNS=${RUNS:-3}
C=pfb-c S=pfb-s PORT=5401

cleanup() {
  for ns in $C $S; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true); [[ -n $pids ]] && kill $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
cleanup
ip netns add $C; ip netns add $S
ip -n $C link set lo up; ip -n $S link set lo up
ip -n $C link add eth0 type veth peer name eth0 netns $S
ip -n $C addr add 10.212.0.1/24 dev eth0; ip -n $S addr add 10.212.0.2/24 dev eth0
ip -n $C link set eth0 up; ip -n $S link set eth0 up
for _ in $(seq 50); do ip netns exec $C ping -c1 -W1 -q 10.212.0.2 >/dev/null 2>&1 && break; sleep 0.1; done

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ${SECS}s per run, median of $RUNS runs; veth pair between two namespaces"

server_cmd() { [[ $1 == ours ]] && echo "$NS_BIN iperf3" || echo "iperf3"; }

# run CLIENT SERVER ARGS... -> "rate cpu_client_s_per_GB cpu_server_s_per_GB loss%"
one_run() {
  local cli=$1 srv=$2; shift 2
  local scmd ccmd json
  scmd=$(server_cmd "$srv"); ccmd=$(server_cmd "$cli")
  ip netns exec $S $scmd -s -1 -p $PORT >/dev/null 2>&1 &
  local spid=$!
  for _ in $(seq 100); do ip netns exec $S ss -Hltn "sport = :$PORT" | grep -q $PORT && break; sleep 0.05; done
  json=$(ip netns exec $C $ccmd -c 10.212.0.2 -p $PORT -t "$SECS" -J "$@" 2>/dev/null || true)
  wait $spid 2>/dev/null || true
  jq -r --arg udp "$UDP" '
    .end as $e
    | ($e.sum_received.bytes) as $b | ($e.sum_received.seconds) as $s
    | (if $udp == "1" then (($e.sum_received.packets - $e.sum_received.lost_packets) / $s)
       else ($b * 8 / $s / 1e9) end) as $rate
    | ($b / 1e9) as $gb
    | [$rate,
       ($e.cpu_utilization_percent.host_total / 100 * $s / $gb),
       ($e.cpu_utilization_percent.remote_total / 100 * $s / $gb),
       ($e.sum_received.lost_percent // 0)] | @tsv' <<<"$json" 2>/dev/null || echo "0 0 0 0"
}

median_run() {  # prints the median run (by rate) of RUNS
  local i
  for ((i = 0; i < RUNS; i++)); do one_run "$@"; done | sort -g -k1,1 | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'
}

declare -A R
bench() {  # bench NAME UDP ARGS...
  local name=$1; UDP=$2; shift 2
  local cli srv line
  printf '\n## %s (%s)\n' "$name" "$*"
  printf '%-8s %-8s %14s %14s %14s %8s\n' client server "$([[ $UDP == 1 ]] && echo 'dgrams/s' || echo 'Gbit/s')" \
    "cpu-s/GB cli" "cpu-s/GB srv" "loss%"
  for cli in iperf3 ours; do
    for srv in iperf3 ours; do
      line=$(median_run "$cli" "$srv" "$@")
      R[$name,$cli,$srv]=$(awk '{print $1}' <<<"$line")
      awk -v c=$cli -v s=$srv '{printf "%-8s %-8s %14.3f %14.3f %14.3f %8.2f\n", c, s, $1, $2, $3, $4}' <<<"$line"
    done
  done
  local base=${R[$name,iperf3,iperf3]}
  awk -v b="$base" -v c="${R[$name,ours,iperf3]}" -v s="${R[$name,iperf3,ours]}" -v o="${R[$name,ours,ours]}" \
    'BEGIN { if (b > 0) printf "ratio vs iperf3<->iperf3: our client %.2fx, our server %.2fx, ours both ends %.2fx\n", c/b, s/b, o/b }'
}

bench "TCP, 1 stream" 0
bench "TCP, 4 streams" 0 -P 4
bench "UDP, 64-byte datagrams, unlimited rate" 1 -u -b 0 -l 64
bench "TCP, 1 stream, -Z" 0 -Z
awk -v b="${R[TCP, 1 stream,iperf3,iperf3]}" -v c="${R[TCP, 1 stream, -Z,ours,iperf3]}" -v o="${R[TCP, 1 stream, -Z,ours,ours]}" \
  'BEGIN { if (b > 0) printf "-Z vs iperf3<->iperf3 without -Z: our client -Z %.2fx, ours both ends (-Z) %.2fx\n", c/b, o/b }'
echo
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
