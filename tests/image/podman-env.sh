# Shared podman setup for tests (see the notes on containers in the README):
# runc instead of crun, no default ulimits, local-only images.
podman_setup() {
  command -v podman >/dev/null || { echo "podman is not installed" >&2; return 1; }
  export CONTAINERS_CONF=/run/netshoot-test/containers.conf
  mkdir -p /run/netshoot-test
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$CONTAINERS_CONF"
}

# localhost/bb:latest: busybox only (a base for test containers).
ensure_busybox_image() {
  podman image exists localhost/bb:latest && return 0
  local root; root=$(mktemp -d)
  mkdir -p "$root/bin" && cp /bin/busybox "$root/bin/"
  tar -C "$root" -c . | podman import - localhost/bb:latest >/dev/null
  rm -rf "$root"
}

# docker.io/library/debian:bookworm-slim made locally, so FROM finds it offline.
ensure_debian_base() {
  podman image exists docker.io/library/debian:bookworm-slim && return 0
  local root=/var/tmp/netshoot-bookworm
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/tmp/netshoot-debootstrap.log 2>&1 || {
    tail -20 /tmp/netshoot-debootstrap.log; return 1; }
  tar -C "$root" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
  rm -rf "$root"
}
