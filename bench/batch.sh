#!/usr/bin/env bash
# Files per second for many small files between two local rsexecd:
#   rsexec batch -j 1 / 4 / 16 against lftp's FXP mirror --parallel=N at the same N,
#   then 10,000 files with -j 16: peak RSS of rsexec and time per file against 1,000.
# Usage: bench/batch.sh [FILES]   (default 1000). Prints figures and ratios; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
files=${1:-1000}

make_files() {  # DIR COUNT
  mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do head -c 4096 /dev/urandom >"$1/f$i"; done
}

start_rsexecd 127.0.0.31 "$bench_work/a"; pa=$port
start_rsexecd 127.0.0.32 "$bench_work/b"; pb=$port
make_files "$bench_work/a/set" "$files"
src="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.31:$pa"
dst="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.32:$pb"
for f in "$bench_work"/a/set/*; do echo "$src/set/${f##*/} $dst/out/"; done >"$bench_work/job"

printf '%-8s %12s %12s %8s\n' "jobs" "rsexec f/s" "lftp f/s" "ratio"
for n in 1 4 16; do
  rm -rf "$bench_work/b/out" && mkdir -p "$bench_work/b/out"
  t_rsexec=$(seconds_of "$RSEXEC" batch -j "$n" --no-journal --json "$bench_work/job")
  [ "$(ls "$bench_work/b/out" | wc -l)" -eq "$files" ] || { echo "rsexec copied too few files" >&2; exit 1; }
  rm -rf "$bench_work/b/out"
  t_lftp=$(seconds_of lftp -c "set ftp:use-fxp yes; set ftp:fxp-force yes; set ftp:fxp-passive-source yes; \
    mirror --parallel=$n $src/set/ $dst/out/")
  [ "$(ls "$bench_work/b/out" | wc -l)" -eq "$files" ] || { echo "lftp copied too few files" >&2; exit 1; }
  awk -v n="$n" -v f="$files" -v a="$t_rsexec" -v b="$t_lftp" \
    'BEGIN { printf "%-8s %12.1f %12.1f %7.2fx\n", "-j " n, f / a, f / b, (f / a) / (f / b) }'
done

# Scale: ten times the files with -j 16, peak RSS and time per file.
big=$((files * 10))
make_files "$bench_work/a/many" "$big"
for f in "$bench_work"/a/many/*; do echo "$src/many/${f##*/} $dst/many/"; done >"$bench_work/job10"
mkdir -p "$bench_work/b/many" "$bench_work/b/out"
rm -rf "$bench_work/b/out"/*
t_small=$(seconds_of "$RSEXEC" batch -j 16 --no-journal --json "$bench_work/job")
/usr/bin/time -f '%e %M' -o "$bench_work/time" "$RSEXEC" batch -j 16 --no-journal --json "$bench_work/job10" >/dev/null
read -r t_big rss_kib <"$bench_work/time"
awk -v s="$t_small" -v b="$t_big" -v f="$files" -v g="$big" -v r="$rss_kib" 'BEGIN {
  printf "%d files -j 16: %.3f s (%.2f ms/file); %d files: %.3f s (%.2f ms/file, x%.2f per file); peak RSS %.1f MiB\n",
    f, s, 1000 * s / f, g, b, 1000 * b / g, (b / g) / (s / f), r / 1024 }'
