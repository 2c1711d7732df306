#!/usr/bin/env bash
# Installs, from Debian 12's registry, whatever this machine lacks.
#   scripts/deps.sh build   compilers, CMake and the libraries of the static build
#   scripts/deps.sh test    build + the real peers the integration tests talk to
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config file iproute2
  libpcap-dev libmnl-dev libnftnl-dev libdbus-1-dev libcap-dev
  libcli11-dev libfmt-dev libspdlog-dev nlohmann-json3-dev catch2)
TEST_PKGS=(clang-14 libclang-rt-14-dev iproute2 nftables procps psmisc util-linux net-tools bridge-utils
  tcpdump tshark iperf3 iperf dnsmasq-base unbound bind9-dnsutils iputils-ping
  traceroute iputils-tracepath mtr-tiny fping nmap busybox-static podman runc debootstrap hyperfine jq python3
  nsd ldnsutils knot-dnsutils dnsperf conntrack iputils-arping ethtool iptables netcat-openbsd masscan
  libcap2-bin tmux hping3 iftop)

want=("${BUILD_PKGS[@]}")
[[ ${1:-build} == test ]] && want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Daemons pulled in by the packages must not serve on this host: tests start their own.
for svc in unbound dnsmasq nsd; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
pkill -x unbound 2>/dev/null || true
pkill -x nsd 2>/dev/null || true
exit 0
