#!/usr/bin/env bash
# Installs what rsexec needs to build and test, from Debian's archive. Idempotent and
# non-interactive: does nothing when every package is already there.
# Then scripts/setup-interop.sh for the interop tests' FTP servers.
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config
  libasio-dev libfmt-dev libcxxopts-dev doctest-dev libssl-dev
  nlohmann-json3-dev libsqlite3-dev
  libcrypt-dev
  # tests: real FTP clients and servers, checksums, certificates
  python3 python3-pyftpdlib lftp curl vsftpd openssl coreutils procps iproute2
  # tests: a capture on the loopback interface proves no password crosses in clear with TLS
  tcpdump
  # bench/rtt.sh draws docs/rtt.png; bench/batch.sh, scale.sh, relay.sh and interop.sh time with /usr/bin/time
  gnuplot-nox time
  # fuzzing: clang's libFuzzer and sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # the shared job queue: libpq to build, a real PostgreSQL server for its tests
  libpq-dev postgresql-15
  # man pages from --help, the .deb (CPack runs file and dpkg-shlibdeps), and their tests: man,
  # groff, bash completion, systemd-analyze for the unit
  help2man dpkg-dev file man-db groff-base bash systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # The tests start PostgreSQL clusters of their own: the package must neither create nor start
  # its default "main" cluster (postgresql-common reads this before postgresql-15's postinst).
  if ! dpkg-query -W -f='${Status}' postgresql-15 2>/dev/null | grep -q 'install ok installed'; then
    conf=/etc/postgresql-common/createcluster.conf
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    if ! grep -qsE '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*false' "$conf"; then
      if [ -f "$conf" ]; then
        "${sudo[@]}" sed -i -E '/^[[:space:]]*create_main_cluster[[:space:]]*=/d' "$conf"
      fi
      echo 'create_main_cluster = false' | "${sudo[@]}" tee -a "$conf" >/dev/null
    fi
  fi
  "${sudo[@]}" apt-get update -q </dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# The interop peers (proftpd and pure-ftpd unpacked into build/peers, the test login); also
# idempotent, and quick when all is there.
"$(dirname "$0")/setup-interop.sh" "$(cd "$(dirname "$0")/.." && pwd)/build/peers"
