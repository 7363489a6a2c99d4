#!/usr/bin/env bash
# Per-file cost with no delay (docs/BENCHMARKS.md, "Per-file cost"): an rsexecd pair on loopback,
# FILES files of 4 KiB (default 1,000) copied by `rsexec batch` with its default settings, as
# bench/rtt.sh --block's RTT 0 row does. For each build (this one, and with --before DIR the
# rsexec and rsexecd in DIR) its own pair of servers; the builds run alternately, ROUNDS times
# (default 5), and the medians are compared, so a loaded machine hurts both alike. Prints per run
# and as medians: files/s and CPU microseconds per file of rsexec (its user+system time) and of
# each rsexecd (/proc/PID/stat, before and after), and of that the destination's system time
# (kernel: creating, writing and renaming files).
#
# --strace: also one run per build with strace -c -f on rsexec and on each rsexecd, printing
# system calls per file on each side (a figure the machine's load does not change).
#
# Usage: bench/percost.sh [--before DIR] [--rounds N] [--strace]
#   RSEXEC, RSEXECD: this build's binaries (default build/bin/...); FILES=N: N files.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

before=
rounds=5
with_strace=no
while [ $# -gt 0 ]; do
  case $1 in
    --before) before=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --strace) with_strace=yes ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
files=${FILES:-1000}
case $files$rounds in *[!0-9]*) echo "percost: FILES and --rounds are counts" >&2; exit 2 ;; esac
hz=$(getconf CLK_TCK)

src=$bench_work/data
mkdir -p "$src"
for i in $(seq -w 1 "$files"); do head -c 4096 /dev/urandom >"$src/f$i"; done

builds=(new)
declare -A rsexec_of rsexecd_of
rsexec_of[new]=$RSEXEC
rsexecd_of[new]=$RSEXECD
if [ -n "$before" ]; then
  builds=(before new)
  rsexec_of[before]=$before/rsexec
  rsexecd_of[before]=$before/rsexecd
fi

# One pair of servers per build, each on its own addresses.
declare -A port_a port_b pid_a pid_b root_b
n=0
for b in "${builds[@]}"; do
  n=$((n + 1))
  mkdir -p "$bench_work/$b-a"
  cp -al "$src" "$bench_work/$b-a/data"
  RSEXECD=${rsexecd_of[$b]} start_rsexecd "127.0.8.$((2 * n - 1))" "$bench_work/$b-a"
  port_a[$b]=$port pid_a[$b]=${bench_pids[-1]}
  RSEXECD=${rsexecd_of[$b]} start_rsexecd "127.0.8.$((2 * n))" "$bench_work/$b-b"
  port_b[$b]=$port pid_b[$b]=${bench_pids[-1]} root_b[$b]=$bench_work/$b-b
  for f in "$src"/*; do
    echo "ftp://$BENCH_USER:$BENCH_PASS@127.0.8.$((2 * n - 1)):${port_a[$b]}/data/${f##*/} ftp://$BENCH_USER:$BENCH_PASS@127.0.8.$((2 * n)):${port_b[$b]}/out/"
  done >"$bench_work/$b.job"
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$1/stat"; }

# run BUILD [WRAP...]: one copy; prints "seconds client_us src_us dst_us dst_sys_us" (per file for the CPU).
run() {
  local b=$1 out=${root_b[$1]}/out start end t0a t0b t1a t1b s0b s1b cpu rc=0
  shift
  rm -rf "$out"
  mkdir -p "$out"
  t0a=$(ticks "${pid_a[$b]}") t0b=$(ticks "${pid_b[$b]}") s0b=$(sys_ticks "${pid_b[$b]}")
  start=$(date +%s.%N)
  cpu=$( { TIMEFORMAT='%U %S'; time "$@" "${rsexec_of[$b]}" batch --no-journal --json "$bench_work/$b.job" \
           >"$bench_work/run.log" 2>&1; } 2>&1 ) || rc=$?
  end=$(date +%s.%N)
  t1a=$(ticks "${pid_a[$b]}") t1b=$(ticks "${pid_b[$b]}") s1b=$(sys_ticks "${pid_b[$b]}")
  if [ "$rc" != 0 ] || ! diff -r "$src" "$out" >/dev/null 2>&1; then
    echo "percost: the $b run failed (exit $rc) or its copy differs" >&2
    tail -5 "$bench_work/run.log" >&2
    return 1
  fi
  awk -v s="$start" -v e="$end" -v c="$cpu" -v a0="$t0a" -v a1="$t1a" -v b0="$t0b" -v b1="$t1b" -v hz="$hz" \
      -v k0="$s0b" -v k1="$s1b" -v f="$files" 'BEGIN { split(c, u, " ");
        printf "%.3f %.0f %.0f %.0f %.0f\n", e - s, (u[1] + u[2]) * 1e6 / f, (a1 - a0) * 1e6 / hz / f, (b1 - b0) * 1e6 / hz / f,
          (k1 - k0) * 1e6 / hz / f }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "percost: $files files of 4 KiB, rsexec batch defaults, rsexecd pair, $rounds rounds (builds alternate)"
printf '%-7s %5s %8s %9s %12s %12s %12s %12s\n' build round seconds files/s 'rsexec us/f' 'src us/f' 'dst us/f' 'dst sys us/f'
for r in $(seq "$rounds"); do
  for b in "${builds[@]}"; do
    line=$(run "$b")
    echo "$b $line" >>"$bench_work/runs"
    read -r secs c s d k <<<"$line"
    printf '%-7s %5s %8s %9.0f %12s %12s %12s %12s\n' "$b" "$r" "$secs" "$(awk -v s="$secs" -v f="$files" 'BEGIN { print f / s }')" "$c" "$s" "$d" "$k"
  done
done
echo "medians:"
for b in "${builds[@]}"; do
  secs=$(awk -v b="$b" '$1 == b { print $2 }' "$bench_work/runs" | median)
  c=$(awk -v b="$b" '$1 == b { print $3 }' "$bench_work/runs" | median)
  s=$(awk -v b="$b" '$1 == b { print $4 }' "$bench_work/runs" | median)
  d=$(awk -v b="$b" '$1 == b { print $5 }' "$bench_work/runs" | median)
  k=$(awk -v b="$b" '$1 == b { print $6 }' "$bench_work/runs" | median)
  printf '%-7s %5s %8s %9.0f %12s %12s %12s %12s\n' "$b" median "$secs" "$(awk -v s="$secs" -v f="$files" 'BEGIN { print f / s }')" "$c" "$s" "$d" "$k"
done

[ "$with_strace" = yes ] || exit 0
command -v strace >/dev/null || { echo "percost: --strace needs strace" >&2; exit 1; }
# syscalls_of FILE: the total of `strace -c` output.
syscalls_of() { awk '$NF == "total" { print ($4 ~ /^[0-9]+$/ ? $4 : $3) }' "$1"; }
echo "system calls per file (strace -c -f; one run each):"
printf '%-7s %10s %10s %10s\n' build rsexec 'src rsexecd' 'dst rsexecd'
for b in "${builds[@]}"; do
  strace -c -f -o "$bench_work/$b.sa" -p "${pid_a[$b]}" & sa=$!
  strace -c -f -o "$bench_work/$b.sb" -p "${pid_b[$b]}" & sb=$!
  sleep 1  # strace attaches to every thread before the run starts
  run "$b" strace -c -f -o "$bench_work/$b.sc" >/dev/null
  kill -INT "$sa" "$sb"
  wait "$sa" "$sb" 2>/dev/null || true
  printf '%-7s %10.1f %10.1f %10.1f\n' "$b" \
    "$(awk -v n="$(syscalls_of "$bench_work/$b.sc")" -v f="$files" 'BEGIN { print n / f }')" \
    "$(awk -v n="$(syscalls_of "$bench_work/$b.sa")" -v f="$files" 'BEGIN { print n / f }')" \
    "$(awk -v n="$(syscalls_of "$bench_work/$b.sb")" -v f="$files" 'BEGIN { print n / f }')"
  if [ -n "${PERCOST_KEEP:-}" ]; then cp "$bench_work/$b.s"[abc] "$PERCOST_KEEP/" 2>/dev/null || true; fi
done
