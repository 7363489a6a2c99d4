#!/usr/bin/env bash
# The main job on an embedded default: two local rsexecd servers, a file of a few MiB on one,
# and a server-to-server copy with RFC 438's LSTN/SOCK exchange shown (-v). Checks sha256 on
# both sides and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts rsexecd on ADDR with root DIR; sets $port once the server says it is listening.
start_server() {
  local addr=$1 root=$2 out=$work/$1.out
  mkdir -p "$root"
  build/bin/rsexecd --root "$root" --bind "$addr" --port 0 --user demo:demo --fxp-peers 127.0.0.0/8 \
    >"$out" 2>"$work/$addr.log" &
  pids+=($!)
  for _ in $(seq 100); do
    port=$(sed -n 's/^rsexecd listening on .*:\([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "demo: rsexecd on $addr did not start:" >&2
  cat "$work/$addr.log" >&2
  exit 1
}

start_server 127.0.0.2 "$work/site-a"; port_a=$port
start_server 127.0.0.3 "$work/site-b"; port_b=$port
head -c $((4 * 1024 * 1024)) /dev/urandom >"$work/site-a/demo.bin"
echo "demo: site A is ftp://127.0.0.2:$port_a, site B is ftp://127.0.0.3:$port_b"
echo

build/bin/rsexec copy -v --dialect rfc438 \
  "ftp://demo:demo@127.0.0.2:$port_a/demo.bin" "ftp://demo:demo@127.0.0.3:$port_b/"

echo
a=$(sha256sum <"$work/site-a/demo.bin" | cut -d' ' -f1)
b=$(sha256sum <"$work/site-b/demo.bin" | cut -d' ' -f1)
echo "sha256 at site A: $a"
echo "sha256 at site B: $b"
if [ "$a" != "$b" ]; then
  echo "demo: the copy differs from the original" >&2
  exit 1
fi
echo "demo: the file moved from site A to site B directly, byte for byte"
