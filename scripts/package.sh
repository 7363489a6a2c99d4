#!/usr/bin/env bash
# Builds build/rsexec_VERSION_amd64.deb (or into $RSEXEC_BUILD_DIR) with CPack's DEB generator:
# the programs, man pages, bash completion, systemd unit and /etc/rsexecd.conf, with Depends
# computed by dpkg-shlibdeps. Extra arguments go to cmake (scripts/build.sh). Then, as root:
#   dpkg -i build/rsexec_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${RSEXEC_BUILD_DIR:-build}
scripts/build.sh "$@"
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$build_dir"
ls "$build_dir"/rsexec_*_amd64.deb
