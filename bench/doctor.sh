#!/usr/bin/env bash
# doctor benchmark: wall time of one `netshoot doctor web:8080` against the manual
# runbook an expert types for the same checks, peer tools one after the other:
#   dig @NS web.prod.svc.cluster.local   (resolver)      ip route get ADDR    (route)
#   arping -c1 GATEWAY                   (neighbour)     ping -c 20 -i 0.01   (reachability, loss)
#   nc -zv -w3 ADDR 8080                 (port)          traceroute -n, tracepath -n (path)
# on a namespace chain  client -- r1 -- r2 -- server  (10.77.1-3.0/24, dnsmasq and a
# TCP listener on 8080 in the server), for two cases:
#   healthy   nothing wrong                         doctor: verdict OK
#   loss      30% random drop each way on r1-r2     doctor: verdict FAIL path/loss
#             (DNS exempted, so both sides still resolve the name and run every check)
# Prints the median of RUNS runs each (ip netns exec included on both sides) and the
# ratio runbook / doctor. The runbook's time is what a person waits for the tools
# alone, before reading any of their output.
# Usage: bench/doctor.sh [path/to/netshoot]   (root; traffic stays inside the namespaces)
# Env: RUNS (5)
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${1:-build/netshoot}
NS=$(realpath "$NS" 2>/dev/null || echo "$NS")
[[ -x $NS ]] || { echo "no netshoot binary at $NS" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)" >&2; exit 77; }
for t in dnsmasq nft dig arping ping nc traceroute tracepath python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done
RUNS=${RUNS:-5}

P=drb
TMP=$(mktemp -d /tmp/doctor-bench.XXXXXX)
cleanup() {
  for n in c r1 r2 s; do
    pids=$(ip netns pids $P-$n 2>/dev/null || true)
    [[ -n $pids ]] && kill $pids 2>/dev/null || true
    ip netns del $P-$n 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
cleanup
mkdir -p "$TMP"

# ---- the chain ----------------------------------------------------------------------
for n in c r1 r2 s; do ip netns add $P-$n; ip -n $P-$n link set lo up; done
link() {  # link NS_A IF_A ADDR_A NS_B IF_B ADDR_B
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up
  ip -n "$4" addr add "$6" dev "$5" && ip -n "$4" link set "$5" up
}
link $P-c $P-c0 10.77.1.2/24 $P-r1 $P-r1a 10.77.1.1/24
link $P-r1 $P-r1b 10.77.2.1/24 $P-r2 $P-r2a 10.77.2.2/24
link $P-r2 $P-r2b 10.77.3.1/24 $P-s $P-s0 10.77.3.2/24
# No ICMP rate limits (as in bench/trace.sh): back-to-back runs would otherwise measure
# the kernel's per-peer token bucket (1 error/s after a burst of 6) for either side.
for n in c r1 r2 s; do
  ip netns exec $P-$n sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000
done
ip -n $P-c route add 10.77.2.0/24 via 10.77.1.1
ip -n $P-c route add 10.77.3.0/24 via 10.77.1.1
ip -n $P-r1 route add 10.77.3.0/24 via 10.77.2.2
ip -n $P-r2 route add 10.77.1.0/24 via 10.77.2.1
ip -n $P-s route add 10.77.1.0/24 via 10.77.3.1
ip -n $P-s route add 10.77.2.0/24 via 10.77.3.1

ip netns exec $P-s python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.3.2", 8080)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()' >/dev/null 2>&1 &
ip netns exec $P-s dnsmasq -k -C /dev/null --no-resolv --no-hosts --listen-address=10.77.3.2 \
  --bind-interfaces --port=53 --user=root --pid-file= \
  --host-record=web.prod.svc.cluster.local,10.77.3.2 --local=/#/ >/dev/null 2>&1 &
for ((k = 0; k < 100; k++)); do
  ip netns exec $P-s ss -Hltn 'sport = :8080' | grep -q 8080 &&
    ip netns exec $P-s ss -Hlun 'sport = :53' | grep -q 10.77.3.2 && break
  sleep 0.1
done
printf 'nameserver 10.77.3.2\nsearch prod.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n' \
  >"$TMP/resolv.conf"

IN="ip netns exec $P-c"
DOCTOR=("$NS" doctor --resolv-conf "$TMP/resolv.conf" --hosts /dev/null web:8080)
cat >"$TMP/runbook.sh" <<EOF
dig +time=3 +tries=1 @10.77.3.2 web.prod.svc.cluster.local A
ip route get 10.77.3.2
arping -c 1 -w 1 -I $P-c0 10.77.1.1
ping -c 20 -i 0.01 -W 1 10.77.3.2
nc -zv -w 3 10.77.3.2 8080
traceroute -n 10.77.3.2
tracepath -n 10.77.3.2
exit 0
EOF
RUNBOOK=(bash "$TMP/runbook.sh")

# median wall time in ms of a command (run inside the client namespace)
median_ms() {
  local t=() s e k
  for ((k = 0; k < RUNS; k++)); do
    s=$(date +%s%N); $IN "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f\n", a[int((NR+1)/2)]/1000}'
}

fail=0
measure() {  # measure CASE EXPECTED_VERDICT_PREFIX
  local v rb dr
  v=$($IN "${DOCTOR[@]}" 2>&1 | grep '^verdict:' || true)
  [[ $v == "$2"* ]] || { echo "$1: doctor said '${v:-no verdict}', expected '$2...'" >&2; fail=1; }
  rb=$(median_ms "${RUNBOOK[@]}")
  dr=$(median_ms "${DOCTOR[@]}")
  printf '%-8s runbook %9.1f ms   doctor %9.1f ms   ratio %6.2fx   %s\n' "$1" "$rb" "$dr" \
    "$(echo "$rb / $dr" | bc -l)" "$v"
}

echo "chain client-r1-r2-server; medians of $RUNS runs; runbook: dig, ip route get, arping, ping -c 20 -i 0.01, nc -zv -w3, traceroute -n, tracepath -n"
measure healthy "verdict: OK"

ip netns exec $P-r1 nft -f - <<NFT
table inet drbench {
  chain dr_fwd {
    type filter hook forward priority 0;
    udp dport 53 accept
    udp sport 53 accept
    oifname "$P-r1b" numgen random mod 100 < 30 drop
    iifname "$P-r1b" numgen random mod 100 < 30 drop
  }
}
NFT
measure loss "verdict: FAIL path/loss"
exit $fail
