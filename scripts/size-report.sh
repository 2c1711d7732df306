#!/usr/bin/env bash
# Size of the static binary and of its largest sections, for the size trend.
set -euo pipefail
bin=${1:-build/netshoot}
bytes=$(stat -c %s "$bin")
awk -v b="$bytes" -v f="$bin" 'BEGIN{printf "size: %s %d bytes (%.2f MiB)\n", f, b, b/1048576}'
size -A "$bin" | awk 'NR>2 && $2>65536 {printf "  %-20s %10d\n", $1, $2}'
