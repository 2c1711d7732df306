#!/usr/bin/env bash
# A two-host path through a router namespace whose forwarding passes delayfwd:
#   PREFIX-a 10.77.1.2/24 --- PREFIX-r (10.77.1.1 | 10.77.2.1) --- PREFIX-b 10.77.2.2/24
#   delay-topology.sh up PREFIX DELAYFWD_BIN [delayfwd options...]
#   delay-topology.sh down PREFIX
# Each direction crosses the tun once, so a round trip sees twice --delay.
set -euo pipefail
cmd=$1 p=$2
down() {
  for n in "$p-a" "$p-r" "$p-b"; do
    pids=$(ip netns pids "$n" 2>/dev/null || true); [[ -n $pids ]] && kill $pids 2>/dev/null || true
  done
  sleep 0.1
  for n in "$p-a" "$p-r" "$p-b"; do ip netns del "$n" 2>/dev/null || true; done
}
if [[ $cmd == down ]]; then down; exit 0; fi
bin=$3; shift 3
down
for n in a r b; do ip netns add "$p-$n"; ip -n "$p-$n" link set lo up; done
ip -n "$p-a" link add eth0 type veth peer name ra netns "$p-r"
ip -n "$p-b" link add eth0 type veth peer name rb netns "$p-r"
ip -n "$p-a" addr add 10.77.1.2/24 dev eth0; ip -n "$p-a" link set eth0 up
ip -n "$p-b" addr add 10.77.2.2/24 dev eth0; ip -n "$p-b" link set eth0 up
ip -n "$p-r" addr add 10.77.1.1/24 dev ra; ip -n "$p-r" link set ra up
ip -n "$p-r" addr add 10.77.2.1/24 dev rb; ip -n "$p-r" link set rb up
ip -n "$p-a" route add 10.77.2.0/24 via 10.77.1.1
ip -n "$p-b" route add 10.77.1.0/24 via 10.77.2.1
ip netns exec "$p-r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
  net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.accept_local=1
ip netns exec "$p-r" setsid "$bin" --tun dly0 "$@" </dev/null >/dev/null 2>&1 &
for _ in $(seq 50); do ip -n "$p-r" link show dly0 >/dev/null 2>&1 && break; sleep 0.05; done
ip netns exec "$p-r" sysctl -qw net.ipv4.conf.dly0.rp_filter=0
ip -n "$p-r" link set dly0 up
ip -n "$p-r" route add default dev dly0 table 100
ip -n "$p-r" rule add iif ra lookup 100 priority 100
ip -n "$p-r" rule add iif rb lookup 100 priority 101
