#!/usr/bin/env bash
# How rsexec's cost grows with the size of a job: for each item count N, a job file of N zero-byte
# files (a thousand source names reused across destination directories of a thousand each), then
#   check     rsexec batch --check JOB
#   dry-run   rsexec batch --dry-run --json JOB            (journal read, nothing moves)
#   submit    rsexec batch --submit --journal J.sqlite JOB (and into PostgreSQL with --pg)
#   run       rsexec batch JOB between two rsexecd          (up to RUN_MAX items, default 100000)
#   status    rsexec status --journal J.sqlite              (on the finished job; and the PostgreSQL
#                                                            job with --pg, as submitted)
# Each step prints wall seconds, microseconds per item and rsexec's peak RSS, and rsexec's own CPU
# time per item (user+system: what the machine's load does not change).
# RSEXEC_BEFORE=BIN: the submits also with that build (steps submit-before, submit-pg-before),
# each beside this build's in the same run.
# With gnuplot installed, the table is drawn into docs/scale.png (bench/plot-scale.gp; --no-plot: not).
# Usage: bench/scale.sh [--pg] [--no-plot] [N...]   (default 10000 100000 1000000). Asserts nothing.
# STEPS="check submit ...": only those steps (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

pg= plot=1
while [ $# -gt 0 ]; do
  case $1 in
    --pg) pg=1; shift ;;
    --no-plot) plot=; shift ;;
    *) break ;;
  esac
done
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000 1000000)
run_max=${RUN_MAX:-100000}
before=${RSEXEC_BEFORE:-}
steps=" ${STEPS:-check dry-run submit submit-pg run status status-pg} "
wanted() { [[ $steps == *" $1 "* ]]; }

start_rsexecd 127.0.0.41 "$bench_work/a"; pa=$port
start_rsexecd 127.0.0.42 "$bench_work/b"; pb=$port
src="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.41:$pa"
dst="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.42:$pb"
mkdir -p "$bench_work/a/set"
for i in $(seq -w 0 999); do : >"$bench_work/a/set/f$i"; done

if [ -n "$pg" ]; then
  # A private PostgreSQL cluster on a Unix socket, as tests/integration/postgres_fixture.py does.
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
  pgdir=$(mktemp -d /tmp/rsexec-bench-pg.XXXXXX)
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -A trust -U bench --no-sync >/dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -o "-k $pgdir -c listen_addresses=''" -w start >/dev/null
  trap '"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null; rm -rf "$pgdir"; bench_cleanup' EXIT
  pgurl="postgresql://bench@/postgres?host=$pgdir"
fi

make_job() {  # N FILE: N items, destination directories of 1000 items each (made on disk)
  awk -v n="$1" -v s="$src" -v d="$dst" 'BEGIN {
    for (i = 0; i < n; i++) printf "%s/set/f%03d %s/out/d%d/i%d\n", s, i % 1000, d, int(i / 1000), i }' >"$2"
  rm -rf "$bench_work/b/out"
  for i in $(seq 0 $((($1 - 1) / 1000))); do mkdir -p "$bench_work/b/out/d$i"; done
}

# measure LABEL N COMMAND...: wall seconds, us per item, peak RSS (MiB) and CPU us per item of COMMAND.
measure() {
  local label=$1 n=$2 wall rss user sys
  shift 2
  if ! /usr/bin/time -f '%e %M %U %S' -o "$bench_work/time" "$@" >"$bench_work/out" 2>"$bench_work/err"; then
    echo "failed: $*" >&2; tail -5 "$bench_work/err" >&2; return 1
  fi
  read -r wall rss user sys <"$bench_work/time"
  awk -v l="$label" -v n="$n" -v w="$wall" -v r="$rss" -v c="$user" -v s="$sys" \
    'BEGIN { printf "%-16s %9d %9.2f %10.1f %9.1f %10.1f\n", l, n, w, 1e6 * w / n, r / 1024, 1e6 * (c + s) / n }' |
    tee -a "$bench_work/table"
}

printf '%-16s %9s %9s %10s %9s %10s\n' step items seconds "us/item" "RSS MiB" "cpu us/item"
for n in "${counts[@]}"; do
  job=$bench_work/job.$n
  make_job "$n" "$job"
  if wanted check; then measure check "$n" "$RSEXEC" batch --check "$job"; fi
  if wanted dry-run; then measure dry-run "$n" "$RSEXEC" batch --dry-run --json --no-journal "$job"; fi
  if [ -n "$before" ] && wanted submit; then
    measure submit-before "$n" "$before" batch --submit --journal "$bench_work/before.$n.sqlite" "$job"
  fi
  measure submit "$n" "$RSEXEC" batch --submit --journal "$bench_work/j.$n.sqlite" "$job"
  if [ -n "$pg" ] && wanted submit-pg; then
    if [ -n "$before" ]; then
      # The build before reads a database of its own schema only.
      "${as_pg[@]}" "$pgbin/createdb" -h "$pgdir" -U bench "before$n"
      measure submit-pg-before "$n" "$before" batch --submit --journal "postgresql://bench@/before$n?host=$pgdir" \
        --job "scale$n" "$job"
    fi
    measure submit-pg "$n" "$RSEXEC" batch --submit --journal "$pgurl" --job "scale$n" "$job"
  fi
  if [ "$n" -le "$run_max" ] && wanted run; then
    measure run "$n" "$RSEXEC" batch --json --journal "$bench_work/j.$n.sqlite" "$job"
    done_files=$(find "$bench_work/b/out" -type f | wc -l)
    [ "$done_files" -eq "$n" ] || { echo "run copied $done_files of $n" >&2; exit 1; }
  fi
  if wanted status; then measure status "$n" "$RSEXEC" status --journal "$bench_work/j.$n.sqlite"; fi
  if [ -n "$pg" ] && wanted status-pg; then
    measure status-pg "$n" "$RSEXEC" status --journal "$pgurl" --job "scale$n"
  fi
done

if [ -n "$plot" ] && command -v gnuplot >/dev/null; then
  steps=$(awk '!seen[$1]++ { printf "%s ", $1 }' "$bench_work/table")
  for step in $steps; do
    awk -v s="$step" '$1 == s { print $2, $3, $4, $5 }' "$bench_work/table"; printf '\n\n'
  done >"$bench_work/series"
  gnuplot -e "data='$bench_work/series'; steps='$steps'; out='docs/scale.png'" bench/plot-scale.gp
  echo "plot: docs/scale.png"
fi
