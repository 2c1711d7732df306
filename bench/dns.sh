#!/usr/bin/env bash
# DNS benchmarks against the peer tools, as ratios (root; creates one namespace).
#   1. one query, whole process (hyperfine -N, median of 50 runs):
#      netshoot dig vs dig (bind9), drill (ldns), kdig (knot)
#   2. throughput: `netshoot dns bench` vs dnsperf, 10 s each against the same
#      unbound (local-data, num-threads 1)
# Usage: bench/dns.sh [path/to/netshoot]   (default: build/netshoot)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/netshoot}
secs=${DNS_BENCH_SECONDS:-10}
[[ -x $bin ]] || { echo "dns.sh: $bin not found (build it first)" >&2; exit 1; }
bin=$(readlink -f "$bin")
[[ $(id -u) == 0 ]] || { echo "dns.sh: needs root (network namespace)" >&2; exit 1; }

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v drill >/dev/null || need+=(ldnsutils)
command -v kdig >/dev/null || need+=(knot-dnsutils)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v unbound >/dev/null || need+=(unbound)
if ((${#need[@]})); then
  echo "dns.sh: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

ns=nsbench-dns$$
dir=$(mktemp -d /tmp/netshoot-dnsbench-XXXXXX)
ub_pid=
cleanup() {
  [[ -n $ub_pid ]] && kill "$ub_pid" 2>/dev/null && wait "$ub_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 10.53.9.1/32 dev lo

{
  echo "server:"
  echo "  interface: 10.53.9.1"
  echo "  port: 53"
  echo "  username: \"\""
  echo "  chroot: \"\""
  echo "  directory: \"$dir\""
  echo "  pidfile: \"$dir/unbound.pid\""
  echo "  do-daemonize: no"
  echo "  use-syslog: no"
  echo "  verbosity: 0"
  echo "  num-threads: 1"
  echo "  do-ip6: no"
  echo "  access-control: 0.0.0.0/0 allow"
  echo "  module-config: \"iterator\""
  echo "  so-rcvbuf: 4m"
  echo "  so-sndbuf: 4m"
  echo "  local-zone: \"bench.test.\" static"
  for i in $(seq 1 100); do
    echo "  local-data: \"h$i.bench.test. 300 IN A 10.1.$((i / 256)).$((i % 256))\""
    echo "  local-data: \"h$i.bench.test. 300 IN AAAA 2001:db8::$i\""
  done
  echo "remote-control:"
  echo "  control-enable: no"
} >"$dir/unbound.conf"
ip netns exec "$ns" unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 &
ub_pid=$!
for _ in $(seq 50); do
  ip netns exec "$ns" dig @10.53.9.1 h1.bench.test +short +tries=1 +timeout=1 2>/dev/null | grep -q 10.1 && break
  sleep 0.1
done

for i in $(seq 1 100); do echo "h$i.bench.test A"; echo "h$i.bench.test AAAA"; done >"$dir/names.txt"

run_ns() { ip netns exec "$ns" "$@"; }

echo "== one query, whole process (hyperfine -N, median of 50)"
ln -sf "$bin" "$dir/dig"
declare -A median
for tool in netshoot dig drill kdig; do
  case $tool in
    netshoot) cmd="$dir/dig @10.53.9.1 h1.bench.test A" ;;
    dig) cmd="dig @10.53.9.1 h1.bench.test A" ;;
    drill) cmd="drill h1.bench.test A @10.53.9.1" ;;
    kdig) cmd="kdig @10.53.9.1 h1.bench.test A" ;;
  esac
  run_ns hyperfine -N -w 5 -r 50 --export-json "$dir/$tool.json" "$cmd" >/dev/null 2>&1
  median[$tool]=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median']*1000)" "$dir/$tool.json")
  printf "  %-10s %8.2f ms\n" "$tool" "${median[$tool]}"
done
for tool in dig drill kdig; do
  printf "  ratio %s/netshoot: %.2fx (netshoot %s)\n" "$tool" \
    "$(python3 -c "print(${median[$tool]}/${median[netshoot]})")" \
    "$(python3 -c "print('faster' if ${median[$tool]} > ${median[netshoot]} else 'slower')")"
done

echo "== throughput, ${secs} s each against unbound (num-threads 1)"
ours=$(run_ns "$bin" dns bench --json -s 10.53.9.1 -d "$dir/names.txt" -l "$secs" -c 100 -T 4 | \
  python3 -c "import json,sys; j=json.loads(sys.stdin.readline()); print(j['qps'], j['latency']['p50_ms'], j['latency']['p99_ms'], j['lost'])")
read -r our_qps our_p50 our_p99 our_lost <<<"$ours"
perf=$(run_ns dnsperf -s 10.53.9.1 -d "$dir/names.txt" -l "$secs" -c 4 -q 100 2>&1)
perf_qps=$(awk '/Queries per second:/ {print $4}' <<<"$perf")
perf_lat=$(awk '/Average Latency/ {print $4}' <<<"$perf")
perf_lost=$(awk '/Queries lost:/ {print $3}' <<<"$perf")
printf "  netshoot dns bench: %10.0f qps  p50 %.3f ms  p99 %.3f ms  lost %s\n" "$our_qps" "$our_p50" "$our_p99" "$our_lost"
printf "  dnsperf:            %10.0f qps  avg %.3f ms  lost %s\n" "$perf_qps" "$(python3 -c "print($perf_lat*1000)")" "$perf_lost"
printf "  ratio netshoot/dnsperf qps: %.2f\n" "$(python3 -c "print($our_qps/$perf_qps)")"
