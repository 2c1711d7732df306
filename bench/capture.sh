#!/bin/bash
# capture bench: decode speed of `tcpdump -nn -r` vs `netshoot tcpdump -nn -r` (and -v) on
# one pcap of >= 500,000 mixed packets (iperf3 TCP + small UDP on a veth pair, captured by
# tcpdump -s 128), same output checked; then kernel drops of live -w at full iperf3 speed
# with a small kernel buffer (-B, both tools), so that both drop and the counts compare.
# Root; uses namespaces nscapA/nscapB. Usage: bench/capture.sh [NETSHOOT_BIN]
# Env: PARTS="decode live" (default both), BUF_KIB (the -B size, default 256),
# ROUNDS (live runs per tool, alternating, default 3), SECS (traffic per run, default 3).
set -euo pipefail
BIN=${1:-$(dirname "$0")/../build/netshoot}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/capbench.XXXX)
A=nscapA B=nscapB
cleanup() {
  # iperf3 -D daemons outlive their namespace: stop them by their pid files.
  for f in "$WORK"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
ip netns add $A; ip netns add $B
ip link add va netns $A type veth peer name vb netns $B
ip -n $A addr add 10.77.0.1/24 dev va; ip -n $B addr add 10.77.0.2/24 dev vb
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set va up; ip -n $B link set vb up
ip netns exec $B iperf3 -s -D -p 5201 -I "$WORK/iperf-5201.pid" >/dev/null
ip netns exec $B iperf3 -s -D -p 5202 -I "$WORK/iperf-5202.pid" >/dev/null
sleep 0.5
PARTS=${PARTS:-decode live}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"

if [[ " $PARTS " == *" decode "* ]]; then
F=$WORK/mixed.pcap
ip netns exec $A tcpdump -i va -s 128 -B 65536 -w "$F" 2>/dev/null & TP=$!
sleep 1
# TCP for 3 s alongside small UDP packets until the file holds >= 500,000 packets
# (the packet rate depends on how busy the CPUs are).
ip netns exec $A iperf3 -c 10.77.0.2 -p 5201 -t 3 >/dev/null &
for round in 1 2 3 4; do
  ip netns exec $A iperf3 -c 10.77.0.2 -p 5202 -u -l 64 -b 0 -t 3 >/dev/null || true
  sleep 0.3
  [ "$(tcpdump -r "$F" 2>/dev/null | wc -l)" -ge 520000 ] && break
done
wait %2 2>/dev/null || true
sleep 0.5; kill -INT $TP; wait $TP || true
COUNT=$(tcpdump -nn -r "$F" 2>/dev/null | wc -l)
echo "pcap: $COUNT packets, $(du -h "$F" | cut -f1)"
if [ "$COUNT" -lt 500000 ]; then echo "warning: fewer than 500000 packets"; fi

for V in "" "-v"; do
  tcpdump -nn $V -r "$F" 2>/dev/null > $WORK/t.txt
  "$BIN" tcpdump -nn $V -r "$F" 2>/dev/null > $WORK/n.txt
  TL=$(wc -l < $WORK/t.txt); NL=$(wc -l < $WORK/n.txt)
  SAME=$(cmp -s $WORK/t.txt $WORK/n.txt && echo identical || echo "$(diff $WORK/t.txt $WORK/n.txt | grep -c '^<') lines differ")
  cmp -s $WORK/t.txt $WORK/n.txt || diff $WORK/t.txt $WORK/n.txt | head -6
  hyperfine -N -r 3 --export-json $WORK/h.json "tcpdump -nn $V -r $F" "$BIN tcpdump -nn $V -r $F" --output=null >/dev/null 2>&1
  read TM NM < <(python3 -c "import json;r=json.load(open('$WORK/h.json'))['results'];print(r[0]['median'],r[1]['median'])")
  python3 -c "print('decode -nn $V: tcpdump %.3fs  netshoot %.3fs  ratio %.2fx  (lines %s vs %s, output %s)' % ($TM, $NM, $TM/$NM, '$TL', '$NL', '$SAME'))"
done

fi

# Live: kernel drops at full speed (small UDP packets maximise the packet rate) with a
# small capture buffer, so that both tools drop; alternating runs share the machine's
# conditions. Reported: packets the filter accepted (recv), dropped by the kernel, ratio.
if [[ " $PARTS " == *" live "* ]]; then
BUF_KIB=${BUF_KIB:-256} ROUNDS=${ROUNDS:-3} SECS=${SECS:-3}
live() {  # $1 = label, rest = command; prints "recv drop"
  local label=$1; shift
  ip netns exec $A "$@" -i va -s 128 -B "$BUF_KIB" -w $WORK/live.pcap 2> $WORK/live.err & local P=$!
  for _ in $(seq 50); do grep -q "listening on" $WORK/live.err 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  ip netns exec $A iperf3 -c 10.77.0.2 -p 5202 -u -l 64 -b 0 -t "$SECS" >/dev/null || true
  sleep 0.5; kill -INT $P; wait $P || true
  local recv drop
  recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' $WORK/live.err)
  drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' $WORK/live.err)
  echo "${recv:-0} ${drop:-0}"
}
declare -A R D
for tool in tcpdump netshoot; do R[$tool]=0; D[$tool]=0; done
for round in $(seq "$ROUNDS"); do
  for tool in tcpdump netshoot; do
    if [ $tool = tcpdump ]; then out=$(live tcpdump tcpdump); else out=$(live netshoot "$BIN" tcpdump); fi
    read -r recv drop <<< "$out"
    R[$tool]=$(( ${R[$tool]} + recv )); D[$tool]=$(( ${D[$tool]} + drop ))
    python3 -c "r,d=$recv,$drop;print('live run %d %-8s -B %s KiB: received by filter %d, dropped by kernel %d (%.1f%%)' % ($round,'$tool','$BUF_KIB',r,d,100.0*d/max(r,1)))"
  done
done
python3 -c "
rt,dt,rn,dn=${R[tcpdump]},${D[tcpdump]},${R[netshoot]},${D[netshoot]}
pt,pn=100.0*dt/max(rt,1),100.0*dn/max(rn,1)
print('live drops, $ROUNDS runs each: tcpdump %d of %d (%.1f%%), netshoot %d of %d (%.1f%%); netshoot/tcpdump drop-rate ratio %.2f' % (dt,rt,pt,dn,rn,pn,(pn/pt) if pt else float('nan')))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
