#!/usr/bin/env bash
# One big file between two local rsexecd, in clear and over TLS (FTPS, RFC 4217): TLS on both
# control connections and on the data connection between the servers (the source the TLS
# client, by SSCN ON), against the same copy in clear. Certificates are made here (openssl).
# Usage: bench/tls.sh [MIB] [RUNS]   (default 1024 MiB, 3 runs; files in /dev/shm when it fits).
# Prints MB/s (median of RUNS, wall time including logins) and the TLS/clear ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mib=${1:-1024}
runs=${2:-3}

certs=$bench_work/certs
mkdir -p "$certs"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$certs/ca.key" -out "$certs/ca.pem" -days 1 \
  -subj "/CN=bench CA" 2>/dev/null
for addr in 127.0.0.53 127.0.0.54; do
  openssl req -newkey rsa:2048 -nodes -keyout "$certs/$addr.key" -out "$certs/$addr.csr" -subj "/CN=$addr" 2>/dev/null
  openssl x509 -req -in "$certs/$addr.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial \
    -out "$certs/$addr.pem" -days 1 -extfile <(echo "subjectAltName=IP:$addr") 2>/dev/null
done

data=$bench_work
if [ -d /dev/shm ] && [ "$(df -m --output=avail /dev/shm | tail -1)" -gt $((mib * 3)) ]; then
  data=$(mktemp -d /dev/shm/rsexec-bench-tls.XXXXXX)
  trap 'rm -rf "$data"; bench_cleanup' EXIT
fi
start_rsexecd 127.0.0.53 "$data/a" --tls-cert "$certs/127.0.0.53.pem" --tls-key "$certs/127.0.0.53.key"; pa=$port
start_rsexecd 127.0.0.54 "$data/b" --tls-cert "$certs/127.0.0.54.pem" --tls-key "$certs/127.0.0.54.key"; pb=$port
head -c $((mib * 1024 * 1024)) /dev/urandom >"$data/a/big"
src="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.53:$pa/big"
dst="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.54:$pb/big"

median_mbs() {  # LABEL RSEXEC-ARGS...
  local label=$1 times=()
  shift
  for _ in $(seq "$runs"); do
    rm -f "$data/b/big"
    times+=("$(seconds_of "$RSEXEC" copy "$@" "$src" "$dst")")
    cmp -s "$data/a/big" "$data/b/big" || { echo "$label: the copy differs" >&2; exit 1; }
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v m="$mib" -v l="$label" '
    { t[NR] = $1 } END { s = t[int((NR + 1) / 2)]; printf "%-34s %8.0f MB/s (median of %d: %.3f s)\n", l, m * 1.048576 / s, NR, s }'
}

echo "$mib MiB, rsexecd -> rsexecd, $(nproc) cores"
clear=$(median_mbs "clear (pasv)" --dialect pasv)
echo "$clear"
tls=$(median_mbs "TLS (pasv, SSCN ON at src)" --dialect pasv --tls required --ca-file "$certs/ca.pem")
echo "$tls"
tls438=$(median_mbs "TLS (rfc438, LSTN/SOCK roles)" --dialect rfc438 --tls required --ca-file "$certs/ca.pem")
echo "$tls438"
awk -v a="$(echo "$clear" | awk '{print $(NF-6)}')" -v b="$(echo "$tls" | awk '{print $(NF-6)}')" \
  'BEGIN { printf "TLS / clear: %.2fx\n", b / a }'
