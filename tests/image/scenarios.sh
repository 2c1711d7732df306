#!/usr/bin/env bash
# The seed's use cases, end to end, against an image built from docker/Dockerfile:
# containers on one --internal podman network (nothing routes out), each scenario the
# seed's own command line. The network's DNS server is a container of the test's: a
# dnsmasq that knows the containers' names (fixed addresses) and forwards nothing
# (podman's CNI backend has no DNS on internal networks). Every check prints
# "ok N: ..." or fails the script; the outputs land in $OUT for the README.
#   tests/image/scenarios.sh IMAGE [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/image/podman-env.sh

IMAGE=${1:?usage: scenarios.sh IMAGE [OUTDIR]}
OUT=${2:-/tmp/netshoot-scenarios}
NET=ns-e2e-net SUBNET=10.89.77
DNS=$SUBNET.250
CONTAINERS="ctop-burn perf-test-capture perf-test-iftop perf-test-a perf-test-b scan-target service-a service-b c1 c2 ns-e2e-dns"
declare -A ADDR=([perf-test-a]=$SUBNET.201 [perf-test-b]=$SUBNET.202 [scan-target]=$SUBNET.203
                 [service-a]=$SUBNET.204 [c1]=$SUBNET.205 [c2]=$SUBNET.206)
CLIENT=$SUBNET.101   # the iperf client: no name
mkdir -p "$OUT"

podman_setup
cleanup() {
  for c in $CONTAINERS; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  podman network rm -f $NET >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
podman network create --internal --subnet $SUBNET.0/24 $NET >/dev/null

# localhost/ns-e2e-dns: Debian's dnsmasq and the libraries it links, nothing else.
if ! podman image exists localhost/ns-e2e-dns:latest; then
  command -v dnsmasq >/dev/null || { echo "dnsmasq (dnsmasq-base) is not installed" >&2; exit 1; }
  root=$(mktemp -d)
  mkdir -p "$root/etc" "$root/tmp" "$root/var/run"
  cp --parents "$(command -v dnsmasq)" "$root"
  ldd "$(command -v dnsmasq)" | grep -o '/[^ ]*' | while read -r lib; do cp -L --parents "$lib" "$root"; done
  printf 'root:x:0:0:root:/:/bin/false\nnobody:x:65534:65534::/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | podman import - localhost/ns-e2e-dns:latest >/dev/null
  rm -rf "$root"
fi
hosts=$OUT/e2e-hosts
: >"$hosts"
for n in "${!ADDR[@]}"; do echo "${ADDR[$n]} $n" >>"$hosts"; done
podman run -d --name ns-e2e-dns --network $NET --ip $DNS -v "$hosts:/etc/e2e-hosts:ro" \
  localhost/ns-e2e-dns:latest "$(command -v dnsmasq)" --keep-in-foreground --no-resolv --no-hosts \
  --addn-hosts=/etc/e2e-hosts --user=root --log-queries --log-facility=- >/dev/null
# a named container of the scenarios: its fixed address, the test's DNS server
at() { echo "--network $NET --ip ${ADDR[$1]} --dns $DNS --name $1"; }

fail() { echo "scenario FAILED: $*" >&2; exit 1; }
ok() { echo "ok $*"; }
has() { grep -qE -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$3: no line matching /$2/"; }; }
# podman run, output to $OUT/NAME.txt; a hard time limit so that nothing hangs CI.
prun() { local name=$1 limit=$2; shift 2; timeout -k 5 "$limit" podman run "$@" >"$OUT/$name.txt" 2>&1; }
ip_of() { echo "${ADDR[$1]}"; }
# an unnamed container on the network: a fixed address too (CNI's host-local would
# otherwise hand out the next one after the last fixed address, which the names use)
on() { echo "--network $NET --ip $SUBNET.$1 --dns $DNS"; }

# ---- 1. iperf: server container and client container on one network -----------------
podman run -d $(at perf-test-a) "$IMAGE" iperf -s -p 9999 >/dev/null
podman run -d $(at perf-test-b) "$IMAGE" sleep 600 >/dev/null
for _ in $(seq 50); do podman logs perf-test-a 2>&1 | grep -q 'Server listening' && break; sleep 0.2; done

# ---- 2. tcpdump in the server's network namespace while the test runs ----------------
timeout -k 5 60 podman run --rm --name perf-test-capture --net container:perf-test-a "$IMAGE" \
  tcpdump -i eth0 port 9999 -c 1 -Xvv >"$OUT/tcpdump.txt" 2>&1 &
capture=$!
# ---- 5. iftop in the server's namespace while the test runs ---------------------------
timeout -k 5 60 podman run --rm --name perf-test-iftop --net container:perf-test-a "$IMAGE" \
  iftop -i eth0 -t -s 5 >"$OUT/iftop.txt" 2>&1 &
iftop=$!
sleep 1.5
prun iperf-client 60 --rm $(on ${CLIENT##*.}) "$IMAGE" iperf -c perf-test-a -p 9999
wait $capture || fail "tcpdump -c 1 did not end with a packet: $(cat "$OUT/tcpdump.txt")"
podman logs perf-test-a >"$OUT/iperf-server.txt" 2>&1
has "$OUT/iperf-server.txt" '^Server listening on TCP port 9999$' "iperf server"
has "$OUT/iperf-server.txt" '^TCP window size: ' "iperf server"
has "$OUT/iperf-server.txt" "^\[ *[0-9]+\] local $(ip_of perf-test-a) port 9999 connected with [0-9.]+ port [0-9]+" "iperf server"
has "$OUT/iperf-server.txt" '^\[ *[0-9]+\] +0\.0+-1?[0-9]\.[0-9]+ sec +[0-9.]+ [KMG]Bytes +[0-9.]+ [KMG]bits/sec' "iperf server"
has "$OUT/iperf-client.txt" '^Client connecting to perf-test-a, TCP port 9999$' "iperf client"
has "$OUT/iperf-client.txt" '^\[ ID\] Interval +Transfer +Bandwidth' "iperf client"
has "$OUT/iperf-client.txt" '^\[ *[0-9]+\] +0\.0+-10\.[0-9]+ sec +[0-9.]+ [KMG]Bytes +[0-9.]+ [KMG]bits/sec' "iperf client"
ok "1: iperf -s -p 9999 / iperf -c perf-test-a -p 9999"
has "$OUT/tcpdump.txt" '^listening on eth0, link-type EN10MB' "tcpdump"
has "$OUT/tcpdump.txt" 'IP \(tos 0x[0-9a-f]+, ttl [0-9]+, id [0-9]+, offset 0, flags \[DF\], proto TCP \(6\), length [0-9]+\)' "tcpdump -vv"
has "$OUT/tcpdump.txt" '^\s+0x0000:  4[0-9a-f]{3} ' "tcpdump -X hex"
has "$OUT/tcpdump.txt" '^1 packet captured' "tcpdump -c 1"
ok "2: --net container:perf-test-a tcpdump -i eth0 port 9999 -c 1 -Xvv"
wait $iftop || fail "iftop -t -s 5 failed: $(cat "$OUT/iftop.txt")"
# the server's side is named by its hostname (the container ID, from its /etc/hosts)
grep -A1 -E '^ +1 [^ ]+ +=> ' "$OUT/iftop.txt" | grep -qE "^ +${CLIENT//./\\.} +<= +[0-9.]+[KMG]b " \
  || { cat "$OUT/iftop.txt"; fail "iftop: the iperf pair is not on top"; }
has "$OUT/iftop.txt" '^Total send and receive rate: ' "iftop -t totals"
ok "5: --net container:perf-test-a iftop -i eth0 -t -s 5"

# ---- 3. netstat in the server's namespace ---------------------------------------------
prun netstat 30 --rm --net container:perf-test-a "$IMAGE" netstat -tulpn
has "$OUT/netstat.txt" '^Proto Recv-Q Send-Q Local Address +Foreign Address +State +PID/Program name' "netstat"
has "$OUT/netstat.txt" '^tcp6? +0 +0 (0\.0\.0\.0|:::?):9999 .* LISTEN ' "netstat"
ok "3: --net container:perf-test-a netstat -tulpn"

# ---- 4. nmap -dd against a container listening on some of the ports -------------------
podman run -d $(at scan-target) "$IMAGE" \
  sh -c 'nc -lk 12380 & nc -lk 12385 & wait' >/dev/null
target=$(ip_of scan-target)
for _ in $(seq 50); do
  podman run --rm $(on 102) "$IMAGE" nc -z -w 1 "$target" 12385 >/dev/null 2>&1 && break; sleep 0.2
done
prun nmap 60 --rm $(on 103) "$IMAGE" nmap -p 12376-12390 -dd "$target"
has "$OUT/nmap.txt" "^Discovered open port 12380/tcp on $target" "nmap -dd"
has "$OUT/nmap.txt" "^Discovered open port 12385/tcp on $target" "nmap -dd"
has "$OUT/nmap.txt" "^Discovered closed port 12388/tcp on $target" "nmap -dd"
has "$OUT/nmap.txt" "^Nmap scan report for scan-target \\($target\\)" "nmap (name from the network's DNS)"
has "$OUT/nmap.txt" "^12388/tcp closed " "nmap (-dd lists every port)"
has "$OUT/nmap.txt" '^12380/tcp open ' "nmap"
has "$OUT/nmap.txt" '^12385/tcp open ' "nmap"
ok "4: nmap -p 12376-12390 -dd $target"

# ---- 6. drill through the network's DNS server (aardvark-dns) -------------------------
prun drill 30 --rm $(on 104) "$IMAGE" drill -V 5 perf-test-b
has "$OUT/drill.txt" ';; ->>HEADER<<- opcode: QUERY, rcode: NOERROR' "drill"
has "$OUT/drill.txt" "^perf-test-b\.(dns\.podman\.)?[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$(ip_of perf-test-b | sed 's/\./\\./g')$" "drill answer"
ok "6: drill -V 5 perf-test-b"

# ---- 7. netcat between two services ---------------------------------------------------
podman run -d $(at service-a) "$IMAGE" nc -l 8080 >/dev/null
sleep 1
prun nc 30 --rm --name service-b $(on 105) "$IMAGE" nc -vz service-a 8080
has "$OUT/nc.txt" '^Connection to service-a \(?[0-9.]*\)? ?8080 port \[tcp/http-alt\] succeeded!$' "nc -vz"
ok "7: nc -l 8080 / nc -vz service-a 8080"

# ---- 8. netgen between two containers, seen by a capture ------------------------------
podman run -d $(at c1) "$IMAGE" netgen c2 5000 >/dev/null
podman run -d $(at c2) "$IMAGE" netgen c1 5000 >/dev/null
prun netgen-capture 40 --rm --net container:c1 "$IMAGE" tcpdump -n -i eth0 -c 2 udp port 5000
for _ in $(seq 50); do podman logs c1 2>&1 | grep -q '^Sent 1 messages' && podman logs c2 2>&1 | grep -q '^Sent 1 messages' && break; sleep 0.2; done
podman logs c1 >"$OUT/netgen-c1.txt" 2>&1
podman logs c2 >"$OUT/netgen-c2.txt" 2>&1
has "$OUT/netgen-c1.txt" '^Listener started on port 5000$' "netgen c2 5000"
has "$OUT/netgen-c1.txt" '^Sending traffic to c2 on port 5000 every 10 seconds$' "netgen c2 5000"
has "$OUT/netgen-c1.txt" '^Sent 1 messages to c2:5000( \(|$)' "netgen c2 5000"
has "$OUT/netgen-c2.txt" '^Sent 1 messages to c1:5000( \(|$)' "netgen c1 5000"
has "$OUT/netgen-capture.txt" "IP ${ADDR[c2]}\.[0-9]+ > ${ADDR[c1]}\.5000: UDP, length" "tcpdump sees netgen's traffic"
ok "8: netgen c2 5000 / netgen c1 5000"

# ---- 9. iproute2 views of the host ------------------------------------------------------
prun route 30 --rm --net host "$IMAGE" ip route show
ip route show >"$OUT/route.host.txt"
diff -u "$OUT/route.host.txt" "$OUT/route.txt" || fail "ip route show differs from iproute2's on the host"
prun neigh 30 --rm --net host "$IMAGE" ip -j neigh show
ip -j neigh show >"$OUT/neigh.host.json"
key='[.[] | select(.state != ["FAILED"] and .state != ["INCOMPLETE"]) | "\(.dst) \(.dev) \(.lladdr // "")"] | sort'
[[ "$(jq -c "$key" "$OUT/neigh.txt")" == "$(jq -c "$key" "$OUT/neigh.host.json")" ]] \
  || fail "ip neigh show differs: $(jq -c "$key" "$OUT/neigh.txt") vs $(jq -c "$key" "$OUT/neigh.host.json")"
prun neigh-text 30 --rm --net host "$IMAGE" ip neigh show
ok "9: --net host ip route show / ip neigh show"

# ---- 10. nsenter from a privileged container into a container's namespace -------------
sandbox=$(podman inspect perf-test-a --format '{{.NetworkSettings.SandboxKey}}')
[[ $sandbox == /run/netns/* ]] || fail "no /run/netns path for perf-test-a: $sandbox"
bip=$(ip_of perf-test-b)
prun nsenter 60 --rm --privileged --net host -v /run/netns:/run/netns "$IMAGE" \
  nsenter --net="$sandbox" sh -c "ifconfig eth0; ip route; ping -c 2 $bip"
has "$OUT/nsenter.txt" "^eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>" "nsenter ifconfig"
has "$OUT/nsenter.txt" "inet $(ip_of perf-test-a | sed 's/\./\\./g')  netmask " "nsenter ifconfig"
has "$OUT/nsenter.txt" ' dev eth0 proto kernel scope link src ' "nsenter ip route"
has "$OUT/nsenter.txt" '^2 packets transmitted, 2 received, 0% packet loss' "nsenter ping"
bridge=$(podman network inspect $NET --format '{{.NetworkInterface}}')
prun bridge 30 --rm --privileged --net host "$IMAGE" sh -c "bridge fdb show br $bridge; brctl show $bridge"
bridge fdb show br "$bridge" >"$OUT/bridge.host.txt"
grep -q ' master ' "$OUT/bridge.txt" || fail "bridge fdb show br $bridge: no entries: $(cat "$OUT/bridge.txt")"
while IFS= read -r line; do
  grep -qxF -- "$line" "$OUT/bridge.txt" || fail "bridge fdb: iproute2's line missing: $line"
done < <(grep -v 'permanent' "$OUT/bridge.host.txt" | grep ' master ')
has "$OUT/bridge.txt" "^bridge name[[:space:]]+bridge id[[:space:]]+STP enabled[[:space:]]+interfaces" "brctl show"
has "$OUT/bridge.txt" "^$bridge[[:space:]]+8000\.[0-9a-f]{12}[[:space:]]+no[[:space:]]+veth" "brctl show"
ok "10: nsenter --net=$sandbox sh -c 'ifconfig; ip route; ping'; bridge fdb show br $bridge; brctl show"

# ---- 11. ctop through the Docker API socket, live in tmux and --once --json ---------
sock=/run/netshoot-test/e2e-docker.sock
rm -f "$sock"
podman system service --time 0 "unix://$sock" >"$OUT/api-service.log" 2>&1 &
api=$!
trap 'kill $api 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.2; done
podman run -d --name ctop-burn --network $NET "$IMAGE" sh -c 'while :; do :; done' >/dev/null
sleep 2
prun ctop-json 60 --rm --network none -v "$sock:/var/run/docker.sock" "$IMAGE" ctop --once --json
jq -e -s 'map(select(.type == "container" and .name == "ctop-burn" and .running and .cpu_percent > 20)) | length >= 1' \
  "$OUT/ctop-json.txt" >/dev/null || { cat "$OUT/ctop-json.txt"; fail "ctop --once --json: ctop-burn not busy"; }
jq -e -s 'map(select(.type == "container" and .name == "perf-test-a" and .running and .mem_used_bytes > 0)) | length >= 1' \
  "$OUT/ctop-json.txt" >/dev/null || fail "ctop --once --json: perf-test-a missing"
if command -v tmux >/dev/null; then
  tmux kill-session -t ns-e2e-ctop 2>/dev/null || true
  tmux new-session -d -s ns-e2e-ctop -x 120 -y 30 \
    "podman run --rm -it --name ns-e2e-ctop --network none -e TERM=xterm -v $sock:/var/run/docker.sock $IMAGE ctop"
  for _ in $(seq 50); do tmux capture-pane -p -t ns-e2e-ctop >"$OUT/ctop-screen.txt" 2>/dev/null; grep -q ctop-burn "$OUT/ctop-screen.txt" && break; sleep 0.2; done
  sleep 2
  tmux capture-pane -p -t ns-e2e-ctop >"$OUT/ctop-screen.txt"
  has "$OUT/ctop-screen.txt" 'NAME' "ctop live view header"
  has "$OUT/ctop-screen.txt" 'ctop-burn .* [0-9]+(\.[0-9])?%' "ctop live view: the busy container with its CPU"
  tmux send-keys -t ns-e2e-ctop q
  for _ in $(seq 50); do tmux has-session -t ns-e2e-ctop 2>/dev/null || break; sleep 0.2; done
  ! tmux has-session -t ns-e2e-ctop 2>/dev/null || fail "ctop did not quit on q"
  podman rm -f -t 0 ns-e2e-ctop >/dev/null 2>&1 || true
fi
ok "11: -v SOCKET:/var/run/docker.sock ctop (live in tmux) and ctop --once --json"

echo "scenarios: all passed (outputs in $OUT)"
