#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang and runs each for SECONDS (default 20) on
# a copy of its seed corpus, so the committed corpus stays as it is. Fails on any crash, leak,
# timeout or out-of-memory, printing the reproducer. Environment:
#   RSEXEC_FUZZ_BUILD_DIR  build directory (default build-fuzz)
#   RSEXEC_FUZZ_TARGETS    targets to run (default: all eight)
#   RSEXEC_FUZZ_JOBS       targets run at once (default 1)
#   RSEXEC_FUZZ_SEED       libFuzzer's random seed (default 1, so a run can be repeated; 0 picks one)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-20}
build=${RSEXEC_FUZZ_BUILD_DIR:-build-fuzz}
targets=${RSEXEC_FUZZ_TARGETS:-reply_parser address url netrc job_file command_line jail glob time_val}
jobs=${RSEXEC_FUZZ_JOBS:-1}
seed=${RSEXEC_FUZZ_SEED:-1}

# The fuzz targets need only the pure parsers, so they are configured on their own: the rest of
# the project (server, SQLite, cxxopts) is neither needed nor built with clang here.
CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

max_len() {
  case $1 in
    reply_parser) echo 2048 ;;
    address) echo 512 ;;
    url) echo 1024 ;;
    jail) echo 512 ;;
    time_val) echo 256 ;;
    *) echo 4096 ;;
  esac
}

# Runs one target; its log, working corpus and any reproducer stay under $build/run/<target>.
run_target() {
  local target=$1 dir="$root/$build/run/$1"
  rm -rf "$dir/artifacts"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/tests/fuzz/corpus/$target/"* "$dir/corpus/"
  local rc=0
  # -timeout: one input may take at most 10 s; the outer timeout bounds the whole run.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    timeout --kill-after=10 $((seconds + 120)) \
    "$root/$build/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
    -rss_limit_mb=512 -timeout=10 -seed="$seed" -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  local execs per_second coverage
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
  coverage=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 || true)
  echo "fuzz_$target: ${execs:-?} runs, ${per_second:-?}/s, ${coverage:-cov: ?}, corpus $(ls "$dir/corpus" | wc -l) files, exit $rc"
  local found
  found=$(ls "$dir/artifacts" 2>/dev/null || true)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    echo "fuzz_$target FAILED (log: $dir/log)" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY)' "$dir/log" >&2 || tail -20 "$dir/log" >&2
    for file in $found; do
      echo "  reproducer: $dir/artifacts/$file (run: $build/fuzz/fuzz_$target $dir/artifacts/$file)" >&2
    done
    return 1
  fi
}

status=0
pids=()
for target in $targets; do
  run_target "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
[ "$status" -eq 0 ] && echo "fuzzing found nothing"
exit "$status"
