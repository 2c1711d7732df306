#!/bin/bash
# capture bench: decode speed of `tcpdump -nn -r` vs `netshoot tcpdump -nn -r` (and -v) on
# one pcap of >= 500,000 mixed packets (iperf3 TCP + small UDP on a veth pair, captured by
# tcpdump -s 128), same output checked; then kernel drops of live -w at full iperf3 speed.
# Root; uses namespaces nscapA/nscapB. Usage: bench/capture.sh [NETSHOOT_BIN]
set -euo pipefail
BIN=${1:-$(dirname "$0")/../build/netshoot}
BIN=$(readlink -f "$BIN")
WORK=$(mktemp -d /tmp/capbench.XXXX)
A=nscapA B=nscapB
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
ip netns add $A; ip netns add $B
ip link add va netns $A type veth peer name vb netns $B
ip -n $A addr add 10.77.0.1/24 dev va; ip -n $B addr add 10.77.0.2/24 dev vb
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set va up; ip -n $B link set vb up
ip netns exec $B iperf3 -s -D -p 5201 >/dev/null
ip netns exec $B iperf3 -s -D -p 5202 >/dev/null
sleep 0.5

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

# Live: kernel drops at full speed (small UDP packets maximise the packet rate).
live() {  # $1 = label, rest = command
  local label=$1; shift
  ip netns exec $A "$@" -i va -s 128 -w $WORK/live.pcap 2> $WORK/live.err & local P=$!
  sleep 1
  ip netns exec $A iperf3 -c 10.77.0.2 -p 5202 -u -l 64 -b 0 -t 3 >/dev/null || true
  sleep 0.5; kill -INT $P; wait $P || true
  echo "live $label: $(grep -E 'captured|received|dropped' $WORK/live.err | tr '\n' ' ')"
}
live tcpdump tcpdump
live netshoot "$BIN" tcpdump
