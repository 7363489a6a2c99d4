#!/usr/bin/env bash
# Configures and builds rsexec into build/ (or $RSEXEC_BUILD_DIR). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${RSEXEC_BUILD_DIR:-build}
werror=OFF
if [ "${CI:-}" = true ]; then werror=ON; fi
cmake -S . -B "$build_dir" -DRSEXEC_WERROR="$werror" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
