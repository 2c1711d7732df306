#!/usr/bin/env bash
# Benchmark: netshoot nmap -sS -p- vs nmap -sS -p- -T4 against a firewalled target in
# namespaces (self-contained copy of the lab's `fw` topology): 20 listeners, DROP,
# tcp-reset and icmp admin-prohibited sets. Then the same with 5 % random loss on the
# target's input. Prints wall times, state counts and ratios. Root only. When masscan is
# installed, also masscan -p0-65535 at the highest rate (of a ladder) that still finds
# every open port, against the same target without loss.
#   bench/scan.sh [NETSHOOT_BIN]     (default build/netshoot)
#   bench/scan.sh --setup-only / --teardown
#   bench/scan.sh --masscan [NETSHOOT_BIN]   (only the masscan comparison)
set -euo pipefail
BIN=${1:-$(dirname "$0")/../build/netshoot}
T=nsb-fw-t C=nsb-fw-c TADDR=10.203.80.2
LISTEN="21 22 23 25 53 80 110 143 443 445 993 995 1433 3306 3389 5432 5900 6379 8080 8443"
DROP="23, 445, 3389, 9100, 9200"; RESET="1433, 5900"; ICMP="6379, 9300"
RUN=$(mktemp -d /tmp/nsbench.XXXXXX)

teardown() {
  for ns in $T $C; do
    for p in $(ip netns pids $ns 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    ip netns del $ns 2>/dev/null || true
  done
}
setup() {
  teardown
  for ns in $T $C; do
    ip netns add $ns; ip -n $ns link set lo up
    ip netns exec $ns sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
      net.ipv6.icmp.ratelimit=0
  done
  ip link add veth-sb0 netns $T type veth peer name veth-sb1 netns $C
  ip -n $T addr add $TADDR/24 dev veth-sb0; ip -n $T link set veth-sb0 up
  ip -n $C addr add 10.203.80.1/24 dev veth-sb1; ip -n $C link set veth-sb1 up
  cat >"$RUN/listen.py" <<'PY'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for p in map(int, sys.argv[2:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], p)); s.listen(4096); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept(); c.close()
        except OSError:
            pass
PY
  cat >"$RUN/fw.nft" <<NFT
table inet benchfw {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport { $DROP } drop
    tcp dport { $RESET } reject with tcp reset
    tcp dport { $ICMP } reject with icmpx type admin-prohibited
  }
}
NFT
  ip netns exec $T nft -f "$RUN/fw.nft"
  # shellcheck disable=SC2086
  ip netns exec $T setsid python3 "$RUN/listen.py" $TADDR $LISTEN >"$RUN/listen.log" 2>&1 &
  for _ in $(seq 50); do grep -q ready "$RUN/listen.log" 2>/dev/null && break; sleep 0.1; done
  ip netns exec $C ping -c1 -W2 $TADDR >/dev/null
}
loss() { # loss PCT: random drop on the target's input (both probes and replies' peer side)
  ip netns exec $T nft add table inet benchloss
  ip netns exec $T nft add chain inet benchloss input '{ type filter hook input priority -10; policy accept; }'
  ip netns exec $T nft add rule inet benchloss input numgen random mod 100 \< "$1" drop
  ip netns exec $T nft add chain inet benchloss output '{ type filter hook output priority -10; policy accept; }'
  ip netns exec $T nft add rule inet benchloss output numgen random mod 100 \< "$1" drop
}
counts() { # state counts from normal output: "open=14 closed=65514 filtered=7"
  python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read(); c = {}
m = re.search(r"Not shown: (\d+) (\w+) tcp ports", t)
if m: c[m.group(2)] = int(m.group(1))
m = re.search(r"All (\d+) scanned ports on .* are in ignored states.*?\((\d+)\) (\w+)", t)
for l in re.findall(r"^\d+/tcp\s+(\S+)", t, re.M): c[l] = c.get(l, 0) + 1
print(" ".join(f"{k}={c[k]}" for k in sorted(c)))
PY
}
timeit() { # timeit OUTFILE CMD...: runs CMD > OUTFILE, prints the wall time
  local out=$1 s e; shift
  s=$(date +%s.%N); "$@" >"$out" 2>&1 </dev/null; e=$(date +%s.%N); echo "$e - $s" | bc
}
NS_TIME=
one() { # one LABEL
  local tn tm cn cm
  tn=$(timeit "$RUN/ns.txt" ip netns exec $C "$BIN" nmap -n -sS -p- $TADDR)
  NS_TIME=$tn
  tm=$(timeit "$RUN/nmap.txt" ip netns exec $C nmap -n -sS -p- -T4 $TADDR)
  cn=$(counts "$RUN/ns.txt"); cm=$(counts "$RUN/nmap.txt")
  printf '%-10s netshoot %6.2fs [%s]   nmap -T4 %6.2fs [%s]   ratio %.1fx  %s\n' "$1" "$tn" "$cn" "$tm" "$cm" \
    "$(echo "$tm / $tn" | bc -l)" "$([[ $cn == "$cm" ]] && echo same-states || echo STATES-DIFFER)"
  grep -E '^[0-9]+/tcp' "$RUN/ns.txt" >"$RUN/ns.ports" || true
  grep -E '^[0-9]+/tcp' "$RUN/nmap.txt" >"$RUN/nmap.ports" || true
  diff <(awk '{print $1,$2}' "$RUN/ns.ports") <(awk '{print $1,$2}' "$RUN/nmap.ports") || true
}
masscan_cmp() { # masscan -p0-65535 at the highest rate of a ladder that finds all 14 open ports
  if ! command -v masscan >/dev/null; then echo "masscan    not installed (Debian 12: apt-get install masscan) - skipped"; return; fi
  local mac rate t n nominal
  mac=$(ip -n $T -br link show veth-sb0 | awk '{print $3}')
  for rate in 100000 20000 5000 2000 1000; do
    # its own stack on the client's veth: the target's MAC as "router", 1 s wait for late
    # replies; open ports from its list output (-oL). masscan 1.3.2 often hangs a while
    # after its wait ("waiting -N secs"): the wall time includes that, the nominal time
    # (65536 / rate + 1 s) does not.
    rm -f "$RUN/masscan.lst"
    t=$(timeit "$RUN/masscan.txt" timeout -k 5 180 ip netns exec $C masscan -p0-65535 $TADDR --rate $rate \
        --adapter veth-sb1 --adapter-ip 10.203.80.1 --router-mac "$mac" --wait 1 -oL "$RUN/masscan.lst")
    n=$(awk '$1 == "open" {print $3}' "$RUN/masscan.lst" 2>/dev/null | sort -u | wc -l)
    nominal=$(echo "65536 / $rate + 1" | bc -l)
    printf 'masscan    --rate %-7s wall %6.2fs (nominal %6.2fs)  open=%s%s\n' "$rate" "$t" "$nominal" "$n" \
      "$([[ $n -eq 14 ]] && echo " (complete)" || echo " (incomplete)")"
    if [[ $n -eq 14 ]]; then
      printf 'masscan    complete at %s pps: wall %.2fs, nominal %.2fs; netshoot %.2fs (no loss): ratio %.1fx wall, %.1fx nominal\n' \
        "$rate" "$t" "$nominal" "$NS_TIME" "$(echo "$t / $NS_TIME" | bc -l)" "$(echo "$nominal / $NS_TIME" | bc -l)"
      return
    fi
  done
  echo "masscan    no rate of the ladder gave complete results"
}
case "${1:-}" in
  --setup-only) setup; echo "target $TADDR in $T, client $C"; exit 0 ;;
  --teardown) teardown; exit 0 ;;
  --masscan) shift; BIN=${1:-$(dirname "$0")/../build/netshoot}; trap 'teardown; rm -rf "$RUN"' EXIT; setup
    NS_TIME=$(timeit "$RUN/ns.txt" ip netns exec $C "$BIN" nmap -n -sS -p- $TADDR); masscan_cmp; exit 0 ;;
esac
[[ $(id -u) -eq 0 ]] || { echo "bench/scan.sh: must run as root" >&2; exit 1; }
[[ -x $BIN ]] || { echo "bench/scan.sh: no binary at $BIN" >&2; exit 1; }
trap 'teardown; rm -rf "$RUN"' EXIT
setup
echo "expected: 14 open, 7 filtered (5 drop + 2 admin-prohibited), 65514 closed"
one "no-loss"
masscan_cmp
loss 5
one "5%-loss"
