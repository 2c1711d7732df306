#!/usr/bin/env bash
# Benchmark: 64-byte UDP at the highest rate for SECS seconds between two namespaces,
# same run, three senders against one receiver:
#   hping3 --flood -2 -d 64            (the peer tool: raw socket, one sendto per packet)
#   netshoot hping3 --flood -2 -d 64   (ours, same command line: raw socket, sendmmsg batches)
#   netshoot netgen --flood -s 64      (UDP socket, sendmmsg batches, sequence-numbered messages)
#   nping --udp --rate 1000000 --data-length 64 -H -N   and ours with the same command line (when
#   nping is installed: its peer rows, ratio ours / nping's)
# Sent = what the sender reports; received = packets that reached the receiver's input hook
# (an nftables counter), with a netgen listener bound to the port so nothing is refused.
# Ratios: ours / hping3's.
# Usage: bench/netgen.sh [NETSHOOT_BIN]      (root; default build/netshoot)
# Env: SECS (5), RUNS (3; the median by packets sent is kept)
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/netgen.sh: must run as root" >&2; exit 1; }
command -v hping3 >/dev/null || { echo "bench/netgen.sh: hping3 not installed (apt-get install -y hping3)" >&2; exit 1; }
command -v nft >/dev/null || { echo "bench/netgen.sh: nft not installed" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench/netgen.sh: jq not installed" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
NS_BIN=${1:-$here/build/netshoot}
SECS=${SECS:-5} RUNS=${RUNS:-3}
A=ngb-a B=ngb-b PORT=5500 DST=10.213.0.2

cleanup() {
  for ns in $A $B; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true); [[ -n $pids ]] && kill $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
cleanup
ip netns add $A; ip netns add $B
ip -n $A link set lo up; ip -n $B link set lo up
ip -n $A link add eth0 type veth peer name eth0 netns $B
ip -n $A addr add 10.213.0.1/24 dev eth0; ip -n $B addr add $DST/24 dev eth0
ip -n $A link set eth0 up; ip -n $B link set eth0 up
for _ in $(seq 50); do ip netns exec $A ping -c1 -W1 -q $DST >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec $B nft add table inet ngb
ip netns exec $B nft add chain inet ngb in '{ type filter hook input priority 0; }'
ip netns exec $B nft add rule inet ngb in udp dport $PORT counter
ip netns exec $B "$NS_BIN" netgen -q -l $PORT >/dev/null 2>&1 &
for _ in $(seq 100); do ip netns exec $B ss -Hlun "sport = :$PORT" | grep -q $PORT && break; sleep 0.05; done

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ${SECS}s per run, median of $RUNS runs; 64-byte UDP payload; veth pair between two namespaces"

# The rule's counter only grows (anonymous counters are not reset by `nft reset counters`):
# each run reads it before and after.
received() { ip netns exec $B nft -j list chain inet ngb in | jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add'; }

# one_run WHICH -> "sent received"
one_run() {
  local sent rcvd out before
  before=$(received)
  case $1 in
    hping3)
      out=$(ip netns exec $A timeout -s INT "$SECS" hping3 --flood -2 -p $PORT -d 64 $DST 2>&1 >/dev/null || true)
      sent=$(grep -oE '^[0-9]+ packets transmitted' <<<"$out" | cut -d' ' -f1) ;;
    ours-hping3)
      out=$(ip netns exec $A timeout -s INT "$SECS" "$NS_BIN" hping3 --flood -2 -p $PORT -d 64 $DST 2>&1 >/dev/null || true)
      sent=$(grep -oE '^[0-9]+ packets transmitted' <<<"$out" | cut -d' ' -f1) ;;
    netgen)
      out=$(ip netns exec $A "$NS_BIN" --json netgen --no-listen --flood -s 64 -d "$SECS" $DST $PORT || true)
      sent=$(jq -r 'select(.type == "sender_summary") | .sent' <<<"$out") ;;
    nping|ours-nping)
      local cmd=(nping); [[ $1 == ours-nping ]] && cmd=("$NS_BIN" nping)
      out=$(ip netns exec $A timeout -s INT "$SECS" "${cmd[@]}" --udp -p $PORT --data-length 64 --rate 1000000 -c 0 -H -N $DST 2>&1 || true)
      sent=$(grep -oE 'Raw packets sent: [0-9]+' <<<"$out" | grep -oE '[0-9]+$') ;;
  esac
  sleep 0.3
  rcvd=$(( $(received) - before ))
  echo "${sent:-0} ${rcvd:-0}"
}

declare -A S R
whos=(hping3 ours-hping3 netgen)
command -v nping >/dev/null && whos+=(nping ours-nping)
for who in "${whos[@]}"; do
  runs=()
  for _ in $(seq "$RUNS"); do runs+=("$(one_run $who)"); done
  med=$(printf '%s\n' "${runs[@]}" | sort -n -k1 | sed -n "$(( (RUNS + 1) / 2 ))p")
  S[$who]=${med%% *}; R[$who]=${med##* }
  printf '%-12s sent %10.0f pkt/s   received %10.0f pkt/s   (runs: %s)\n' "$who" \
    "$(bc -l <<<"${S[$who]} / $SECS")" "$(bc -l <<<"${R[$who]} / $SECS")" "$(IFS=,; echo "${runs[*]}")"
done
for who in ours-hping3 netgen; do
  printf '%-12s / hping3: sent %.2fx, received %.2fx\n' "$who" \
    "$(bc -l <<<"${S[$who]} / ${S[hping3]}")" "$(bc -l <<<"${R[$who]} / (${R[hping3]} + 0.000001)")"
done
if [[ -n ${S[nping]:-} ]]; then
  printf '%-12s / nping:  sent %.2fx, received %.2fx\n' ours-nping \
    "$(bc -l <<<"${S[ours-nping]} / (${S[nping]} + 0.000001)")" "$(bc -l <<<"${R[ours-nping]} / (${R[nping]} + 0.000001)")"
fi
