#!/usr/bin/env bash
# Installs what the interop peers (scripts/peers.sh) need, idempotently and non-interactively:
#   - from the archive: vsftpd, python3-pyftpdlib, lftp, openssl, and proftpd's shared libraries;
#   - unpacked, not installed: proftpd-core and pure-ftpd. Debian's vsftpd, proftpd and pure-ftpd
#     all provide ftp-server and conflict, so the last two are fetched with `apt-get download`
#     and extracted with `dpkg -x` into a cache folder, and run from there.
#
# Usage: scripts/setup-interop.sh [CACHE_DIR]
#   CACHE_DIR defaults to $RSEXEC_PEERS_DIR, else build/peers (relative to the repository).
#   Result: CACHE_DIR/proftpd/usr/sbin/proftpd, CACHE_DIR/pure-ftpd/usr/sbin/pure-ftpd, ...
# Also creates the test user the peers log in with (see docs/INTEROP.md, "The login").
# Does nothing when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${1:-${RSEXEC_PEERS_DIR:-build/peers}}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive

packages=(
  vsftpd python3-pyftpdlib lftp openssl
  # proftpd-core's libraries that a minimal Debian 12 lacks (ldd usr/sbin/proftpd)
  libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3
  # pure-ftpd's
  libsodium23 libcap2 libpam0g libssl3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# Unpacked peers: folder name, packages to extract into it, a file that proves it is done.
declare -A unpack=(
  [proftpd]="proftpd-core"
  [proftpd-crypto]="proftpd-mod-crypto"  # mod_tls, for the FTPS interop test
  [pure-ftpd]="pure-ftpd"
)
declare -A proof=(
  [proftpd]="usr/sbin/proftpd"
  [proftpd-crypto]="usr/lib/proftpd/mod_tls.so"
  [pure-ftpd]="usr/sbin/pure-ftpd"
)
todo=()
for name in "${!unpack[@]}"; do
  [ -e "$cache/$name/${proof[$name]}" ] || todo+=("$name")
done

# The login every peer takes (scripts/peers.sh creds): a system user and a PAM service.
setup_user() {
  if [ "$(id -u)" -eq 0 ]; then
    scripts/peers.sh setup-user
  else
    echo "setup-interop: not root; scripts/peers.sh creates the test user at its first start" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ] && [ ${#todo[@]} -eq 0 ]; then
  setup_user
  exit 0
fi

updated=0
apt_update() {
  if [ "$updated" = 0 ]; then
    "${sudo[@]}" apt-get update -q </dev/null >&2
    updated=1
  fi
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-interop: installing ${missing[*]}" >&2
  # Try without an update first: the lists are often fresh enough.
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2; then
    apt_update
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2
  fi
  # Debian starts the vsftpd service on install, listening on *:21; the peers never use it.
  if command -v systemctl >/dev/null && systemctl is-active -q vsftpd 2>/dev/null; then
    "${sudo[@]}" systemctl stop vsftpd || true
  fi
fi

debs="$cache/debs"
mkdir -p "$debs"
# apt-get download writes as the _apt user when it can; let it.
chmod 0777 "$debs" 2>/dev/null || true
for name in "${todo[@]}"; do
  for pkg in ${unpack[$name]}; do
    if ! ls "$debs/${pkg}"_*.deb >/dev/null 2>&1; then
      echo "setup-interop: downloading $pkg" >&2
      if ! (cd "$debs" && apt-get download -q "$pkg" </dev/null >&2); then
        apt_update
        (cd "$debs" && apt-get download -q "$pkg" </dev/null >&2)
      fi
    fi
    rm -rf "$cache/$name.tmp"
    mkdir -p "$cache/$name.tmp"
    for deb in "$debs/${pkg}"_*.deb; do
      dpkg -x "$deb" "$cache/$name.tmp"
    done
  done
  rm -rf "${cache:?}/$name"
  mv "$cache/$name.tmp" "$cache/$name"
  echo "setup-interop: unpacked $name into $cache/$name" >&2
done

for name in "${!unpack[@]}"; do
  bin="$cache/$name/${proof[$name]}"
  if ldd "$bin" | grep -q 'not found'; then
    echo "setup-interop: $bin lacks libraries:" >&2
    ldd "$bin" | grep 'not found' >&2
    exit 1
  fi
done

setup_user
