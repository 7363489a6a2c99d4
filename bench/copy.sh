#!/usr/bin/env bash
# Throughput of one big server-to-server copy between two local rsexecd:
#   rsexec copy with each dialect (rfc438, pasv, epsv), then lftp in FXP mode on the same servers;
#   the median of RUNS runs each, in MB/s (10^6 bytes per second of wall time, logins included),
#   and the ratio rsexec/lftp.
# Usage: bench/copy.sh [MIB [RUNS]]   (default 1024 MiB, 3 runs). Needs 2 x MIB of disk in $TMPDIR
# (the source file is written once from /dev/urandom). Prints figures; asserts only that every
# copy arrived whole.
set -euo pipefail
cd "$(dirname "$0")/.."

mib=${1:-1024}
runs=${2:-3}
. bench/lib.sh
user=$BENCH_USER
pass=$BENCH_PASS
src_addr=127.0.0.51
dst_addr=127.0.0.52
work=$bench_work
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# Runs a copy command, checks the copy, prints its MB/s.
timed_copy() {
  rm -f "$work/b/big" "$work/b/.big.rsexec-part"
  local start end
  start=$(now)
  "$@" >"$work/last.out" 2>&1 || { echo "failed: $*" >&2; cat "$work/last.out" >&2; exit 1; }
  end=$(now)
  cmp -s "$work/a/big" "$work/b/big" || { echo "copy differs from the source: $*" >&2; exit 1; }
  awk -v a="$start" -v b="$end" -v n="$bytes" 'BEGIN { printf "%.1f\n", n / (b - a) / 1e6 }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

start_rsexecd "$src_addr" "$work/a"; src_port=$port
start_rsexecd "$dst_addr" "$work/b"; dst_port=$port
src="ftp://$user:$pass@$src_addr:$src_port/big"
dst="ftp://$user:$pass@$dst_addr:$dst_port/big"

head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/a/big"
bytes=$(stat -c %s "$work/a/big")
echo "file: $mib MiB from /dev/urandom in $work (source and copy on the same disk); $runs runs each, median"

declare -A result
for dialect in rfc438 pasv epsv; do
  figures=()
  for _ in $(seq "$runs"); do
    figures+=("$(timed_copy "$RSEXEC" copy --dialect "$dialect" "$src" "$dst")")
  done
  result[$dialect]=$(median "${figures[@]}")
  printf '%-8s %10s MB/s   (runs: %s)\n' "$dialect" "${result[$dialect]}" "${figures[*]}"
done

figures=()
for _ in $(seq "$runs"); do
  figures+=("$(timed_copy lftp -c "set ftp:use-fxp yes; set ftp:fxp-force yes; set net:max-retries 1; \
    get $src -o $dst")")
done
lftp_median=$(median "${figures[@]}")
printf '%-8s %10s MB/s   (runs: %s)\n' "lftp FXP" "$lftp_median" "${figures[*]}"

for dialect in rfc438 pasv epsv; do
  awk -v d="$dialect" -v a="${result[$dialect]}" -v b="$lftp_median" \
    'BEGIN { printf "rsexec %-6s / lftp: %.2fx\n", d, a / b }'
done
