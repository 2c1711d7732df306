#!/usr/bin/env bash
# Quick start, step 2: the whole test suite.
#   1. the static build: unit tests, fuzz-corpus replays, integration tests (root:
#      network namespaces, real peers, podman; skipped visibly without root);
#   2. an ASan+UBSan build of the unit tests;
#   3. a short libFuzzer run of every harness (clang);
#   4. the image: docker/Dockerfile built with podman and smoke-tested (root).
# Env: FUZZ_SECONDS (default 20 per harness), SKIP_IMAGE=1, SKIP_SANITIZE=1, SKIP_FUZZ=1
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)

echo "== static build + tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build
(cd build && ctest --output-on-failure -j"$jobs" -L unit)
(cd build && ctest --output-on-failure -L integration)
scripts/size-report.sh build/netshoot

if [[ ${SKIP_SANITIZE:-0} != 1 ]]; then
  echo "== ASan+UBSan unit tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNETSHOOT_SANITIZE=ON >/dev/null
  ninja -C build-asan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs" -L unit)
fi

if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
  echo "== libFuzzer, ${FUZZ_SECONDS:-20} s per harness"
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DNETSHOOT_FUZZ=ON -DNETSHOOT_TESTS=ON >/dev/null
  ninja -C build-fuzz $(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
  for h in tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$h" .cpp); corpus=tests/fuzz/corpus/${name#fuzz_}
    work=$(mktemp -d); cp -r "$corpus"/. "$work"/ 2>/dev/null || true
    build-fuzz/tests/"$name" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=0 "$work" 2>&1 | tail -2
    rm -rf "$work"
  done
fi

if [[ ${SKIP_IMAGE:-0} != 1 && $(id -u) == 0 ]]; then
  echo "== container image"
  tests/image/build-and-smoke.sh
fi
echo "== all tests passed"
