# Shared by the benchmarks: start rsexecd instances by pid, stop them on exit.
# Source it; then `start_rsexecd ADDR ROOT` sets $port.
bench_pids=()
bench_work=$(mktemp -d /tmp/rsexec-bench.XXXXXX)
bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT

RSEXEC=${RSEXEC:-build/bin/rsexec}
RSEXECD=${RSEXECD:-build/bin/rsexecd}
BENCH_USER=bench
BENCH_PASS=bench

start_rsexecd() {  # ADDR ROOT [EXTRA RSEXECD OPTIONS...]
  local addr=$1 root=$2 out
  shift 2
  out=$bench_work/$addr.$RANDOM.out
  mkdir -p "$root"
  "$RSEXECD" --root "$root" --bind "$addr" --port 0 --user "$BENCH_USER:$BENCH_PASS" \
    --fxp-peers 127.0.0.0/8 --log-level warning "$@" >"$out" 2>"$out.log" &
  bench_pids+=($!)
  port=
  for _ in $(seq 200); do
    port=$(sed -n 's/^rsexecd listening on .*:\([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "rsexecd on $addr did not start" >&2
  cat "$out.log" >&2
  exit 1
}

# Wall seconds of a command, to stdout with 3 decimals.
seconds_of() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# wait_line FILE SED_EXPR WHAT: the first match of SED_EXPR in FILE, waiting up to 10 s for it.
wait_line() {
  local v
  for _ in $(seq 200); do
    v=$(sed -n "$2" "$1" 2>/dev/null | head -1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.05
  done
  echo "bench: $3 did not start" >&2
  cat "$1" "$1.err" 2>/dev/null >&2
  return 1
}

# start_proxy ADDR PORT DELAY_MS: bench/rtt-proxy on ADDR in front of ADDR:PORT, delaying each
# direction by DELAY_MS; its pid joins proxy_pids, its port is left in $pport.
start_proxy() {
  local out=$bench_work/proxy.$1.$2.$3.out
  bench/rtt-proxy --listen "$1:0" --to "$1:$2" --delay-ms "$3" >"$out" 2>"$out.err" &
  proxy_pids+=($!)
  pport=$(wait_line "$out" 's/^rtt-proxy listening on .*:\([0-9]*\)$/\1/p' "rtt-proxy on $1")
}
