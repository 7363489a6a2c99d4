#!/usr/bin/env bash
# The shared job queue on PostgreSQL: files per second with one worker and with three, under a
# control-connection RTT of 20 ms, and what the queue costs per file in database round trips.
#
#   - PostgreSQL of its own: initdb into a temporary folder as the postgres user (trust, fsync=off),
#     on 127.0.0.1 and a free port, with log_statement=all into its log;
#   - two rsexecd pairs (127.0.10.1 -> .2, 127.0.10.3 -> .4), each server behind bench/rtt-proxy,
#     which delays its control connection by RTT/2 each way (data goes server to server, undelayed);
#   - FILES files of 4 KiB, half per pair, submitted with `rsexec batch --submit`, then worked by
#     1 worker -j 4, then (fresh destinations, a new job name) by 3 workers -j 4 each.
#
# For each run: seconds from the workers' start to the last one's exit, files/s, and per file the
# statements PostgreSQL logged (each one query, one round trip; the submit's and the workers')
# and the transactions it committed (pg_stat_database.xact_commit); then the ratio of the two
# runs' files/s. Logging every statement costs the server a little: the figures are for the
# queue's overhead, not the best files/s. Every destination is compared with its source
# (diff -r) and the job's status must say every item done; a failure there fails the bench.
#
# Usage (as root, after scripts/setup.sh): bench/queue.sh [--files N] [--rtt MS]
#   --files N: how many files (default 10000); --rtt MS: the added RTT (default 20; 0: no proxy).
# RSEXEC, RSEXECD: the binaries (default build/bin/...); PG_BIN: PostgreSQL's (default
# /usr/lib/postgresql/15/bin); RUN_TIMEOUT: the longest run, in seconds (default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

files=10000
rtt=20
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift ;;
    --rtt) rtt=$2; shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
case $files in '' | *[!0-9]* | 0 | 1) echo "queue: --files wants a number >= 2" >&2; exit 2 ;; esac
case $rtt in '' | *[!0-9]*) echo "queue: --rtt wants milliseconds" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "queue: needs root (PostgreSQL runs as the postgres user)" >&2; exit 1; }

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
run_timeout=${RUN_TIMEOUT:-600}
net=127.0.10
pg_dir=
pg_pid=
proxy_pids=()
worker_pids=()

pid_alive() {  # PID: exists and is not a zombie (the postmaster is not our child)
  [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

stop_pid() {  # PID: SIGINT (PostgreSQL's fast shutdown), a bounded wait, then SIGKILL
  local sig n
  for sig in INT KILL; do
    kill -s "$sig" "$1" 2>/dev/null || return 0
    for n in $(seq 300); do pid_alive "$1" || return 0; sleep 0.05; done
  done
}

pg_stop() {  # the postmaster by its pid, then its folder
  [ -z "$pg_pid" ] || stop_pid "$pg_pid"
  pg_pid=
  [ -z "$pg_dir" ] || rm -rf "$pg_dir"
  pg_dir=
}

queue_cleanup() {
  local pid
  for pid in "${worker_pids[@]}" "${proxy_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  pg_stop
  bench_cleanup
}
trap queue_cleanup EXIT
trap 'exit 130' INT TERM


# --- PostgreSQL: a cluster of its own, owned by the postgres user
as_postgres() { (cd "$pg_dir" && runuser -u postgres -- env -i PATH=/usr/bin:/bin LC_ALL=C HOME="$pg_dir" "$@"); }
pg_dir=$(mktemp -d /tmp/rsexec-bench-pg.XXXXXX)
chown postgres:postgres "$pg_dir"
as_postgres "$pg_bin/initdb" -D "$pg_dir/data" --auth=trust -U rsexec -E UTF8 --locale=C --no-sync \
  >"$bench_work/initdb.log" 2>&1 || { cat "$bench_work/initdb.log" >&2; exit 1; }
for attempt in 1 2 3 4 5; do
  pg_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -f "$pg_dir/postgres.log"
  if as_postgres "$pg_bin/pg_ctl" -w -t 60 -D "$pg_dir/data" -l "$pg_dir/postgres.log" \
      -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c log_statement=all" start >"$bench_work/pg_ctl.log" 2>&1; then
    break
  fi
  # pg_ctl gave up: stop what it may have left, and try another port only after a collision.
  if [ -r "$pg_dir/data/postmaster.pid" ]; then stop_pid "$(head -1 "$pg_dir/data/postmaster.pid")"; fi
  if [ "$attempt" = 5 ] || ! grep -qE 'could not bind|already in use' "$pg_dir/postgres.log" 2>/dev/null; then
    echo "queue: PostgreSQL did not start" >&2
    cat "$bench_work/pg_ctl.log" "$pg_dir/postgres.log" >&2 2>/dev/null
    exit 1
  fi
done
pg_pid=$(head -1 "$pg_dir/data/postmaster.pid")
pg_url="postgresql://rsexec@127.0.0.1:$pg_port/postgres"
# psql for the figures; its own statements are not logged.
pg_query() {
  PGOPTIONS="-c log_statement=none" "$pg_bin/psql" -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
    -U rsexec -d postgres -c "$1"
}
# Statements logged so far (simple and extended protocol), and transactions committed.
statements() { grep -cE 'LOG:  (statement|execute [^:]*):' "$pg_dir/postgres.log" || true; }
commits() {
  # Backends flush their statistics as they exit: wait (bounded) until no other client is connected.
  local n
  for n in $(seq 200); do
    [ "$(pg_query "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] && break
    sleep 0.05
  done
  pg_query "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"
}
echo "queue: PostgreSQL $("$pg_bin/postgres" --version | sed 's/^[^0-9]*//') on 127.0.0.1:$pg_port (pid $pg_pid)" >&2

# --- the servers, their proxies, the files
echo "queue: writing $files files of 4 KiB" >&2
half=$((files / 2))
/usr/bin/python3 - "$bench_work" "$files" <<'EOF'
import os, sys
work, files = sys.argv[1], int(sys.argv[2])
for i in range(files):
    folder = os.path.join(work, "a%d" % (i % 2 + 1), "set")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "f%05d" % i), "wb") as f:
        f.write(os.urandom(4096))
EOF
declare -A ports
for k in 1 2; do
  start_rsexecd "$net.$((2 * k - 1))" "$bench_work/a$k"; ports[a$k]=$port
  start_rsexecd "$net.$((2 * k))" "$bench_work/b$k"; ports[b$k]=$port
done
if [ "$rtt" != 0 ]; then
  half_rtt=$(awk -v r="$rtt" 'BEGIN { print r / 2 }')
  for k in 1 2; do
    start_proxy "$net.$((2 * k - 1))" "${ports[a$k]}" "$half_rtt"; ports[a$k]=$pport
    start_proxy "$net.$((2 * k))" "${ports[b$k]}" "$half_rtt"; ports[b$k]=$pport
  done
fi
# The queue keeps no password: workers log in with a .netrc of their own.
home=$bench_work/home
mkdir -p "$home"
for n in 1 2 3 4; do echo "machine $net.$n login $BENCH_USER password $BENCH_PASS"; done >"$home/.netrc"
chmod 600 "$home/.netrc"

# --- one run: WORKERS workers, -j 4 each
results=$bench_work/results
: >"$results"
run() {
  local workers=$1 run_name job jobfile k pid status=0 s0 s1 s2 c0 c1 c2 start end secs
  run_name=w$workers
  job=queue-$run_name-$$-$RANDOM
  jobfile=$bench_work/$job
  for k in 1 2; do
    rm -rf "$bench_work/b$k/out-$run_name"
    mkdir -p "$bench_work/b$k/out-$run_name"
    for f in "$bench_work/a$k/set"/*; do
      echo "ftp://$BENCH_USER:$BENCH_PASS@$net.$((2 * k - 1)):${ports[a$k]}/set/${f##*/} ftp://$BENCH_USER:$BENCH_PASS@$net.$((2 * k)):${ports[b$k]}/out-$run_name/"
    done
  done >"$jobfile"

  s0=$(statements); c0=$(commits)
  HOME=$home timeout "$run_timeout" "$RSEXEC" batch --journal "$pg_url" --job "$job" --submit --json "$jobfile" \
    >"$jobfile.submit" 2>&1 || { echo "queue: batch --submit failed:" >&2; cat "$jobfile.submit" >&2; return 1; }
  s1=$(statements); c1=$(commits)

  start=$(date +%s.%N)
  worker_pids=()
  for k in $(seq "$workers"); do
    HOME=$home timeout "$run_timeout" "$RSEXEC" worker --journal "$pg_url" --job "$job" -j 4 --name "$run_name-$k" \
      --json >"$jobfile.w$k.out" 2>"$jobfile.w$k.err" &
    worker_pids+=($!)
  done
  k=0
  for pid in "${worker_pids[@]}"; do
    k=$((k + 1))
    if ! wait "$pid"; then
      status=1
      echo "queue: worker $k of $workers failed:" >&2
      grep -v '^NOTICE:' "$jobfile.w$k.err" | tail -n 5 >&2
      grep -E '"event":"(error|retry)"' "$jobfile.w$k.out" | head -n 5 | sed 's/"src"/\n    "src"/' >&2
      grep '"event":"summary"' "$jobfile.w$k.out" >&2
    fi
  done
  worker_pids=()
  end=$(date +%s.%N)
  s2=$(statements); c2=$(commits)
  [ "$status" = 0 ] || return 1

  for k in 1 2; do
    diff -r "$bench_work/a$k/set" "$bench_work/b$k/out-$run_name" >"$jobfile.diff" 2>&1 ||
      { echo "queue: $run_name: pair $k's copy differs from its source:" >&2; head -n 10 "$jobfile.diff" >&2; return 1; }
  done
  HOME=$home "$RSEXEC" status --journal "$pg_url" --job "$job" --json >"$jobfile.status"
  /usr/bin/python3 - "$jobfile.status" "$files" <<'EOF' || return 1
import json, sys
s = json.load(open(sys.argv[1]))
want = {"done": int(sys.argv[2]), "failed": 0, "pending": 0, "running": 0}
got = {k: s.get(k) for k in want}
if got != want:
    sys.exit("queue: status says %s, want %s" % (got, want))
EOF
  # Round trips the workers counted themselves, when their summaries say.
  local reported
  reported=$(cat "$jobfile".w*.out | /usr/bin/python3 -c '
import json, sys
total = None
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    key = next((k for k in ("journal_round_trips", "round_trips") if k in e), None)
    if e.get("event") == "summary" and key:
        total = (total or 0) + e[key]
print("-" if total is None else total)')
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  echo "$workers $secs $((s1 - s0)) $((s2 - s1)) $((c1 - c0)) $((c2 - c1)) $reported" >>"$results"
  awk -v w="$workers" -v f="$files" -v t="$secs" 'BEGIN { printf "queue: %d worker(s): %d files in %.3f s, %.1f files/s\n", w, f, t, f / t }' >&2
  rm -rf "$bench_work/b1/out-$run_name" "$bench_work/b2/out-$run_name"
}

failed=0
run 1 || failed=1
[ $failed = 1 ] || run 3 || failed=1
[ $failed = 0 ] || { echo "queue: FAILED" >&2; exit 1; }

echo
echo "$(nproc) cores; PostgreSQL $("$pg_bin/postgres" --version | sed 's/^[^0-9]*//'); $files x 4 KiB over two rsexecd pairs; control RTT $rtt ms"
echo
echo "| workers | -j | seconds | files/s | statements/file (submit + work) | commits/file (submit + work) | round trips/file (workers' own count) |"
echo "|---|---|---|---|---|---|---|"
while read -r workers secs s_submit s_work c_submit c_work reported; do
  awk -v w="$workers" -v t="$secs" -v f="$files" -v ss="$s_submit" -v sw="$s_work" -v cs="$c_submit" -v cw="$c_work" -v r="$reported" 'BEGIN {
    printf "| %d | 4 | %.3f | %.1f | %.3f (%.3f + %.3f) | %.3f (%.3f + %.3f) | %s |\n", w, t, f / t,
      (ss + sw) / f, ss / f, sw / f, (cs + cw) / f, cs / f, cw / f, (r == "-" ? "-" : sprintf("%.3f", r / f)) }'
done <"$results"
awk -v f="$files" 'NR == 1 { one = f / $2 } NR == 2 { three = f / $2 } END {
  printf "\n3 workers / 1 worker: %.2fx the files/s\n", three / one }' "$results"
