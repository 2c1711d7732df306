#!/usr/bin/env bash
# A real demo: two hosts in network namespaces joined by a veth pair, looked at
# with netshoot. Everything stays inside the namespaces made here (no route out).
set -euo pipefail
bin=$(realpath "${1:-build/netshoot}")
[[ $(id -u) == 0 ]] || { echo "demo: needs root (network namespaces); try: sudo $0" >&2; exit 1; }

a=ns-demo-a b=ns-demo-b
cleanup() { ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $a && ip netns add $b
ip -n $a link add eth0 type veth peer name eth0 netns $b
ip -n $a addr add 10.99.0.1/24 dev eth0 && ip -n $b addr add 10.99.0.2/24 dev eth0
for n in $a $b; do ip -n $n link set lo up; ip -n $n link set eth0 up; done

run() { printf '\n$ %s\n' "$*"; "$@"; }
run "$bin" --list
run "$bin" netns list
run "$bin" --netns $a ip -br addr
run "$bin" --netns $a ping -c 3 -i 0.2 10.99.0.2
ip netns exec $b "$bin" nc -lk 8080 </dev/null >/dev/null 2>&1 & listener=$!
sleep 0.2
run "$bin" --netns $b ss -tlnp
run "$bin" --netns $a nc -vz 10.99.0.2 8080
run "$bin" --netns $a nmap -n -p 22,8080 10.99.0.2
run "$bin" --netns $a traceroute -n 10.99.0.2
kill $listener 2>/dev/null || true
# Enter host A's namespace as util-linux nsenter would (the seed's runbook line).
run "$bin" nsenter --net=/run/netns/$a -- ip -br addr show dev eth0
ip netns exec $b sleep 30 & sleeper=$!
sleep 0.2
run "$bin" nsenter -t $sleeper -n -- ip -br addr show dev eth0
kill $sleeper 2>/dev/null || true
