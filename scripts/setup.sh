#!/usr/bin/env bash
# Quick start, step 1: install what is missing, build the static binary, run a demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build netshoot
echo
file build/netshoot
ls -l build/netshoot
echo
scripts/demo.sh build/netshoot
