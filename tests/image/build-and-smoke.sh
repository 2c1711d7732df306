#!/usr/bin/env bash
# Builds docker/Dockerfile with podman (offline: the Debian base is made locally with
# debootstrap) and smoke-tests the image: static binary, symlinks, shell, size.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/image/podman-env.sh

podman_setup
ensure_debian_base

tag=localhost/netshoot:test
podman build --network host -f docker/Dockerfile -t "$tag" . >/tmp/netshoot-image-build.log 2>&1 || {
  tail -40 /tmp/netshoot-image-build.log; echo "image build failed" >&2; exit 1; }

fail() { echo "image smoke: $*" >&2; exit 1; }
out=$(podman run --rm --network none "$tag" netshoot --version) || fail "netshoot --version did not run"
[[ $out == netshoot\ * ]] || fail "unexpected --version output: $out"
paths=$(podman run --rm --network none "$tag" sh -c 'netshoot --list >/dev/null && command -v nsenter && command -v ls' | tr '\n' ' ')
[[ $paths == "/usr/local/bin/nsenter /bin/ls " ]] || fail "symlinks are not first on PATH: $paths"
typo=$(podman run --rm --network none "$tag" sh -c 'netshoot nsentr 2>&1; echo "rc=$?"')
[[ $typo == *"did you mean 'nsenter'?"*"rc=2"* ]] || fail "unknown applet message: $typo"
podman run --rm --network none --user 65532 "$tag" netshoot netns list >/dev/null \
  || fail "netns list as a numeric non-root user"
# The binary's file capabilities (+p) serve a numeric non-root user when the runtime
# allows the two capabilities (runAsNonRoot pods, kubectl debug --profile=netadmin).
caps=$(podman run --rm --network none --user 65532 --cap-add NET_RAW,NET_ADMIN "$tag" \
  sh -c 'ping -n -c 1 127.0.0.1 >/dev/null && echo ping-ok; tcpdump -n -i lo -c 1 icmp 2>/dev/null & sleep 1; ping -n -c 2 127.0.0.1 >/dev/null; wait') \
  || fail "capabilities as --user 65532: $caps"
[[ $caps == ping-ok*"ICMP echo request"* ]] || fail "ping/tcpdump as --user 65532 with file capabilities: $caps"
# Docker's default set lacks NET_ADMIN: the binary must still start (file caps "+p").
podman run --rm --network none --user 65532 --cap-drop ALL --cap-add NET_RAW "$tag" ping -n -c 1 127.0.0.1 >/dev/null \
  || fail "ping as --user 65532 with NET_RAW only"
motd=$(podman run --rm --network none "$tag" sh -i -c true 2>&1)
[[ $motd == *"Welcome to Netshoot!"* ]] || fail "interactive shell shows no banner: $motd"
bytes=$(podman image inspect "$tag" --format '{{.Size}}')
echo "image: $tag $bytes bytes ($((bytes / 1024 / 1024)) MiB)"
(( bytes <= 15 * 1024 * 1024 )) || fail "image is larger than 15 MiB"
echo "image smoke: ok"
tests/image/scenarios.sh "$tag" /tmp/netshoot-scenarios
