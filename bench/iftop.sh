#!/bin/bash
# iftop bench: kernel drops of `netshoot iftop -t` vs the real `iftop -t`, both capturing
# the same interface at the same time, while iperf3 sends small UDP packets (-u -l 64
# -b 0: the highest packet rate) between two namespaces. The drops are read from each
# tool's own packet socket (PACKET_STATISTICS, taken over with pidfd_getfd) just before
# the tools are stopped; neither tool reads those counters itself in -t mode. Also
# reported: the bytes each tool counted (its last "Cumulative" line) against the bytes
# the packets iperf3 sent make at the IP layer.
# Root; namespaces nsiftA/nsiftB. Usage: bench/iftop.sh [NETSHOOT_BIN]
# Env: PIN, STARVE (see below), ROUNDS (default 3), SECS (traffic per round, default 5), SENDER (netshoot: our
# iperf3 client, which reaches a higher packet rate than the real one here; iperf3: the
# real client). The server is always the real iperf3.
set -euo pipefail
BIN=${1:-$(dirname "$0")/../build/netshoot}
BIN=$(readlink -f "$BIN")
command -v iftop >/dev/null || { echo "iftop is not installed (apt-get install iftop)"; exit 1; }
WORK=$(mktemp -d /tmp/iftopbench.XXXX)
A=nsiftA B=nsiftB
cleanup() {
  for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT
ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true
ip netns add $A; ip netns add $B
ip link add va netns $A type veth peer name vb netns $B
ip -n $A addr add 10.78.0.1/24 dev va; ip -n $B addr add 10.78.0.2/24 dev vb
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A link set va up; ip -n $B link set vb up
ip netns exec $B iperf3 -s -D -p 5201 -I "$WORK/iperf.pid" >/dev/null
sleep 0.5
ROUNDS=${ROUNDS:-3} SECS=${SECS:-5} SENDER=${SENDER:-netshoot} PIN=${PIN:-}
# PIN=CPU: both capture tools and the sender on that one CPU, so that the capture
# competes for CPU time with the traffic and the kernel has to drop.
# STARVE=1 (with PIN): the sender runs on the other CPUs instead, the two tools at nice
# 10 share CPU $PIN with a busy loop at nice 0: each tool gets a small slice of one CPU,
# so how much work it does per packet decides how much the kernel drops.
TS=(); TX=(); [ -n "$PIN" ] && TS=(taskset -c "$PIN") && TX=("${TS[@]}")
STARVE=${STARVE:-}
if [ -n "$PIN" ] && [ -n "$STARVE" ]; then
  TS=(taskset -c "$PIN" nice -n 10)
  TX=(taskset -c "$(python3 -c "import os;print(','.join(str(c) for c in sorted(os.sched_getaffinity(0)) if c != $PIN))")")
  taskset -c "$PIN" sh -c 'while :; do :; done' & echo $! > $WORK/hog.pid
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; sender: $SENDER${PIN:+; tools pinned to CPU $PIN}${STARVE:+ at nice 10 with a busy loop}"

# "packets drops" of the packet socket(s) held by process $1.
cat > $WORK/sockstats.py <<'PY'
import ctypes, os, socket, struct, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, pid, 0)  # pidfd_open
if pidfd < 0: sys.exit("pidfd_open failed")
inodes = {l.split()[-1] for l in open(f"/proc/{pid}/net/packet").readlines()[1:]}
packets = drops = 0
for fd in os.listdir(f"/proc/{pid}/fd"):
    try: link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError: continue
    if not (link.startswith("socket:[") and link[8:-1] in inodes): continue
    nfd = libc.syscall(438, pidfd, int(fd), 0)  # pidfd_getfd
    if nfd < 0: continue
    s = socket.socket(fileno=nfd)
    p, d, _ = struct.unpack("III", s.getsockopt(263, 6, 12))  # SOL_PACKET, PACKET_STATISTICS
    packets += p; drops += d
    s.close()
print(packets, drops)
PY

# The last "Cumulative (sent/received/total):" total of an iftop -t output, in bytes.
cumulative() {
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
m = re.findall(r"Cumulative \(sent/received/total\): +(\S+) +(\S+) +(\S+)", t)
def v(s):
    n, u = re.match(r"([0-9.]+)([KMG]?)B", s).groups()
    return float(n) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[u]
print(int(v(m[-1][2])) if m else 0)
PY
}

declare -A P D C
for t in iftop netshoot; do P[$t]=0; D[$t]=0; C[$t]=0; done
SENT_TOTAL=0
for round in $(seq "$ROUNDS"); do
  # Alternate who starts first, so neither always gets the socket set up earlier.
  if (( round % 2 )); then order="iftop netshoot"; else order="netshoot iftop"; fi
  for t in $order; do
    if [ $t = iftop ]; then
      ip netns exec $A "${TS[@]}" iftop -t -n -N -i va > $WORK/iftop.out 2>/dev/null & echo $! > $WORK/iftop.pid
    else
      ip netns exec $A "${TS[@]}" "$BIN" iftop -t -n -N -i va > $WORK/netshoot.out 2>/dev/null & echo $! > $WORK/netshoot.pid
    fi
  done
  # A trickle of packets throughout: the real iftop prints its -t report only when a
  # packet arrives, so without it its last report would miss the end of the burst.
  ip netns exec $A ping -q -i 0.2 10.78.0.2 >/dev/null 2>&1 & echo $! > $WORK/ping.pid
  sleep 1.5
  if [ "$SENDER" = iperf3 ]; then
    ip netns exec $A "${TX[@]}" iperf3 -c 10.78.0.2 -u -l 64 -b 0 -t "$SECS" -J > $WORK/iperf.json || true
  else
    ip netns exec $A "${TX[@]}" "$BIN" iperf3 -c 10.78.0.2 -u -l 64 -b 0 -t "$SECS" -J > $WORK/iperf.json || true
  fi
  sleep 1
  SENT=$(python3 -c "import json;j=json.load(open('$WORK/iperf.json'));print(j['end']['sum']['packets'])")
  SENT_TOTAL=$((SENT_TOTAL + SENT))
  # Let both print one more report (every 2 s) with everything counted, then read the sockets.
  sleep 2.2
  line="round $round: iperf3 sent $SENT datagrams ($((SENT * 92)) IP bytes)"
  for t in iftop netshoot; do
    # ip netns exec replaces itself with the tool: the pid is the tool's.
    read -r p d < <(python3 $WORK/sockstats.py "$(cat $WORK/$t.pid)")
    kill -INT "$(cat $WORK/$t.pid)" 2>/dev/null || true
    wait "$(cat $WORK/$t.pid)" 2>/dev/null || true
    rm -f $WORK/$t.pid
    c=$(cumulative $WORK/$t.out)
    P[$t]=$(( ${P[$t]} + p )); D[$t]=$(( ${D[$t]} + d )); C[$t]=$(( ${C[$t]} + c ))
    line+=$(python3 -c "print('; %s: socket saw %d, kernel dropped %d (%.1f%%), counted %.1f%% of the bytes' % ('$t', $p, $d, 100.0*$d/max($p,1), 100.0*$c/max($SENT*92,1)))")
  done
  kill "$(cat $WORK/ping.pid)" 2>/dev/null || true; rm -f $WORK/ping.pid
  echo "$line"
done
python3 -c "
pi,di,ci,pn,dn,cn,s=${P[iftop]},${D[iftop]},${C[iftop]},${P[netshoot]},${D[netshoot]},${C[netshoot]},$SENT_TOTAL*92
ri,rn=100.0*di/max(pi,1),100.0*dn/max(pn,1)
print('total, $ROUNDS rounds of ${SECS} s: iftop dropped %d of %d (%.1f%%), netshoot dropped %d of %d (%.1f%%); counted bytes: iftop %.1f%%, netshoot %.1f%%' % (di,pi,ri,dn,pn,rn,100.0*ci/s,100.0*cn/s))
print('netshoot/iftop drops: %s' % ('%.2f' % (dn/di) if di else ('0 vs 0' if dn == 0 else 'iftop 0, netshoot %d' % dn)))"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
