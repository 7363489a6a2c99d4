#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit, integration, interop, faults), then
# each fuzz target briefly; then builds again under ASan+UBSan and runs the suite there too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 600

# Each libFuzzer target for a short, bounded time (scripts/fuzz.sh SECONDS for longer runs).
RSEXEC_FUZZ_JOBS=$(nproc) scripts/fuzz.sh "${RSEXEC_FUZZ_SECONDS:-20}"

if [ "${RSEXEC_SKIP_SANITIZE:-}" != 1 ]; then
  RSEXEC_BUILD_DIR=build-sanitize scripts/build.sh -DRSEXEC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-sanitize --output-on-failure -j "$(nproc)" --timeout 900 -LE 'bench'
fi
echo "all tests passed"
