#!/usr/bin/env bash
# Benchmark: CPU used by the containers view itself (ctop) at a 1 s refresh with
# N idle podman containers, over DURATION seconds, against `podman stats -i 1`
# doing the same. Each monitor runs on a real terminal (a detached tmux pane of
# 160x50) under /usr/bin/time and is stopped with SIGINT; CPU = user + system.
#   - netshoot ctop --cgroup        cgroup files + /proc only
#   - netshoot ctop (API)           one list call per refresh to podman's API
#                                   service; the service's own CPU during the run
#                                   (above its idle baseline) is reported as well
#   - podman stats -i 1             (reads the cgroups through libpod itself)
# Usage: bench/monitor.sh [NETSHOOT_BIN]      (root; default build/netshoot)
# Env: N (20), DURATION (30)
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/monitor.sh: must run as root" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
NS_BIN=$(realpath "${1:-$here/build/netshoot}")
N=${N:-20} DURATION=${DURATION:-30}
dir=/run/nsmon-bench
sock=$dir/docker.sock
mkdir -p "$dir"
printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$dir/containers.conf"
export CONTAINERS_CONF=$dir/containers.conf
image=localhost/bb:latest
svc=""

cleanup() {
  [[ -n $svc ]] && kill "$svc" 2>/dev/null || true
  tmux kill-session -t nsmon-bench 2>/dev/null || true
  podman ps -a --format '{{.Names}}' | grep '^nsmon-bench-' | xargs -r podman rm -f -t 0 >/dev/null 2>&1 || true
  rm -f "$sock"
}
trap cleanup EXIT
cleanup

if ! podman image exists $image; then
  d=$(mktemp -d); mkdir -p "$d/bin"; cp /bin/busybox "$d/bin/"
  tar -C "$d" -c . | podman import - $image >/dev/null; rm -rf "$d"
fi
echo "== starting $N containers"
for i in $(seq 1 "$N"); do
  podman run -d --name "nsmon-bench-$i" --network none $image /bin/busybox sleep 100000 >/dev/null
done

# cpu_ticks PID: utime+stime of a process in clock ticks.
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# measure NAME CMD...: runs CMD in a tmux pane for DURATION s; prints CPU seconds.
measure() {
  local name=$1; shift
  local out=$dir/time.$name
  rm -f "$out"
  tmux new-session -d -s nsmon-bench -x 160 -y 50 \
    "/usr/bin/time -o $out -f '%U %S' timeout -s INT $DURATION $* >/dev/null 2>&1 || true; sleep 0.2"
  while tmux has-session -t nsmon-bench 2>/dev/null; do sleep 0.5; done
  tail -1 "$out" | awk '{printf "%.3f\n", $1+$2}'
}

report() {  # report NAME CPU_SECONDS
  awk -v n="$1" -v c="$2" -v d="$DURATION" 'BEGIN { printf "%-34s %7.3f s CPU in %d s = %6.3f %% of one core\n", n, c, d, c/d*100 }'
}

echo "== netshoot ctop --cgroup, 1 s refresh, $N containers, ${DURATION} s"
c_cg=$(measure cg "env TERM=xterm $NS_BIN ctop --cgroup -i 1")
report "netshoot ctop --cgroup" "$c_cg"

podman system service --time 0 "unix://$sock" >/dev/null 2>&1 &
svc=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
sleep 2
s0=$(cpu_ticks $svc); sleep "$DURATION"; s1=$(cpu_ticks $svc)
idle=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN { printf "%.3f", (b-a)/hz }')
echo "== netshoot ctop through the API ($sock), 1 s refresh"
s0=$(cpu_ticks $svc)
c_api=$(measure api "env TERM=xterm DOCKER_HOST=unix://$sock $NS_BIN ctop -i 1")
s1=$(cpu_ticks $svc)
svc_cpu=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" -v i="$idle" 'BEGIN { v=(b-a)/hz-i; if (v<0) v=0; printf "%.3f", v }')
report "netshoot ctop (API)" "$c_api"
report "  + podman API service for it" "$svc_cpu"
kill $svc 2>/dev/null || true; wait $svc 2>/dev/null || true; svc=""

echo "== podman stats -i 1"
c_ps=$(measure ps "env TERM=xterm podman stats -i 1")
report "podman stats -i 1" "$c_ps"

awk -v a="$c_cg" -v b="$c_api" -v s="$svc_cpu" -v p="$c_ps" 'BEGIN {
  printf "ratio podman stats / ctop --cgroup: %.1fx\n", (a > 0 ? p/a : 0)
  printf "ratio podman stats / ctop (API):    %.1fx (with the API service: %.1fx)\n", (b > 0 ? p/b : 0), (b+s > 0 ? p/(b+s) : 0)
}'
