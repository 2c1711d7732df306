#!/usr/bin/env bash
# trace benchmark: an 8-hop namespace chain (client, 7 routers, target) with one
# silent router (it drops its own ICMP time-exceeded), then
#   traceroute -n        vs  netshoot traceroute -n
#   mtr -r -c 1 -n       vs  netshoot mtr -r -c 1 -n   (goal: >= 3x faster)
# Hops must agree. hyperfine -N when present, else a loop and the median.
# Usage: bench/trace.sh [path/to/netshoot]   (root; traffic stays inside the namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${1:-build/netshoot}
[[ -x $NS ]] || { echo "no netshoot binary at $NS" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (network namespaces)" >&2; exit 77; }
for t in traceroute mtr nft; do command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }; done

P=tbn N=8 NET=10.200 SILENT=4
DST=$NET.$N.2
cleanup() { for ((i = 0; i <= N; i++)); do ip netns del $P$i 2>/dev/null || true; done; }
trap cleanup EXIT
cleanup
for ((i = 0; i <= N; i++)); do ip netns add $P$i; ip -n $P$i link set lo up; done
for ((i = 1; i <= N; i++)); do
  ip link add ${P}a$i netns $P$((i - 1)) type veth peer name ${P}b$i netns $P$i
  ip -n $P$((i - 1)) addr add $NET.$i.1/24 dev ${P}a$i && ip -n $P$((i - 1)) link set ${P}a$i up
  ip -n $P$i addr add $NET.$i.2/24 dev ${P}b$i && ip -n $P$i link set ${P}b$i up
done
for ((i = 0; i <= N; i++)); do
  # No ICMP rate limits: back-to-back runs would otherwise measure the kernel's
  # per-peer token bucket (1 error/s after a burst of 6), for either tool.
  ip netns exec $P$i sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000
  for ((j = i + 2; j <= N; j++)); do ip -n $P$i route add $NET.$j.0/24 via $NET.$((i + 1)).2; done
  for ((j = 1; j < i; j++)); do ip -n $P$i route add $NET.$j.0/24 via $NET.$i.1; done
done
ip netns exec $P$SILENT nft -f - <<NFT
table inet t {
  chain o {
    type filter hook output priority 0;
    icmp type time-exceeded drop
  }
}
NFT
IN="ip netns exec ${P}0"

hops() { awk '$1 ~ /^[0-9]+$/ { $1 = $1; print $1, $2 }' | sed 's/ \*$/ */'; }
mtr_hops() { awk '/\|--/ { print $1, $2 }'; }

fail=0
a=$($IN traceroute -n $DST | hops); b=$($IN "$NS" traceroute -n $DST | hops)
if [[ $a != "$b" ]]; then echo "traceroute hops differ:"; diff <(echo "$a") <(echo "$b") || true; fail=1; fi
a=$($IN mtr -r -c 1 -n $DST | mtr_hops); b=$($IN "$NS" mtr -r -c 1 -n $DST | mtr_hops)
if [[ $a != "$b" ]]; then echo "mtr hops differ:"; diff <(echo "$a") <(echo "$b") || true; fail=1; fi

# median wall time in ms of a command
median_ms() {
  local runs=$1; shift
  if command -v hyperfine >/dev/null; then
    hyperfine -N -w 2 -r "$runs" --export-json /tmp/trace-bench.$$.json "$*" >/dev/null 2>&1
    python3 -c "import json;print('%.2f'%(json.load(open('/tmp/trace-bench.$$.json'))['results'][0]['median']*1000))"
    rm -f /tmp/trace-bench.$$.json
  else
    local t=() s e
    for ((k = 0; k < runs; k++)); do
      s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); t+=($(((e - s) / 1000)))
    done
    printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
  fi
}

tr=$(median_ms 30 $IN traceroute -n $DST)
ns=$(median_ms 30 $IN "$NS" traceroute -n $DST)
mt=$(median_ms 3 $IN mtr -r -c 1 -n $DST)
nm=$(median_ms 5 $IN "$NS" mtr -r -c 1 -n $DST)
echo "chain: $N hops, hop $SILENT silent (drops its time-exceeded); medians, ip netns exec included"
printf 'traceroute -n               %10.2f ms\n' "$tr"
printf 'netshoot traceroute -n      %10.2f ms   ratio %.2fx\n' "$ns" "$(echo "$tr / $ns" | bc -l)"
printf 'mtr -r -c 1 -n              %10.2f ms\n' "$mt"
printf 'netshoot mtr -r -c 1 -n     %10.2f ms   ratio %.2fx (goal >= 3x)\n' "$nm" "$(echo "$mt / $nm" | bc -l)"
[[ $fail == 0 ]] && echo "hops: same as traceroute and mtr" || { echo "hops: DIFFERENT"; exit 1; }
