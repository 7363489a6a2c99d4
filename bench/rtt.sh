#!/usr/bin/env bash
# Files per second against control-connection round-trip time (docs/BENCHMARKS.md, "Round-trip
# time"). Each server sits behind bench/rtt-proxy, listening on the server's own address, which
# delays its control connection by RTT/2 each way; data connections go from server to server
# directly, undelayed. For RTT 0, 20 and 100 ms (0: no proxy), three pairs of local servers:
#
#   rsexecd -> rsexecd   rsexec batch -j 1 / -j 4, rsexec mirror, lftp FXP mirror (sequential,
#   vsftpd  -> vsftpd    --parallel=4; ftp:fxp-passive-source, as passive-destination FXP between
#                        two vsftpd stalls under delay)
#   gridftp -> gridftp   globus-url-copy -r -cd (sequential, -pp, -pp -cc 4), when
#                        globus-gridftp-server and globus-url-copy are there or can be installed
#
# copying 200 files of 4 KiB; at RTT 20 ms also 1,000 files of 4 KiB (the concurrent settings
# only: rsexec -j 4 and mirror, lftp --parallel=4, globus-url-copy -pp) and one 256 MiB file.
# Every copy is compared with its source (diff -r), and bounded by `timeout` (RUN_TIMEOUT, 300 s).
# Prints a table and the ratios of the project's goals; writes the figures to
# --data FILE (default $TMPDIR/rsexec-rtt.dat), and draws docs/rtt.png with bench/plot-rtt.gp when
# gnuplot is there (--no-plot: not).
#
# With 1,000 files also rsexec batch -j auto and -j 16 (vsftpd pair also at RTT 0: the no-delay
# files/s -j auto is measured against). Each row also gives CPU microseconds per file of rsexec
# (the command's user+system time) and of each server process (/proc/PID/stat utime+stime and
# its reaped children's, before and after: vsftpd's and gridftp's sessions are such children).
#
# Usage (as root, after scripts/setup.sh):
#   bench/rtt.sh [--quick|--big|--block|--auto] [--data FILE] [--no-plot]
#   --quick: RTT 20 ms and 200 files only; --big: RTT 20 ms and the 256 MiB file only;
#   --block: the rsexecd pair only (block mode), 1,000 files at RTT 0, 20 and 100 ms, `rsexec batch`
#   with its default settings; prints files/s at each RTT against RTT 0 (goals: >= 80 % at 20 ms,
#   >= 60 % at 100 ms), round trips of wall time per file, and the CPU seconds of rsexec, each
#   rsexecd and each proxy; draws docs/rtt-block.png. RSEXEC_BEFORE=BINARY adds the same runs
#   with another rsexec (say, the build before a change), for a comparison in one run.
#   --auto: RTT 0 and 20 ms, 1,000 files, the vsftpd pair only (the -j auto rows, with the pairs
#   settled on and the logins paid); RSEXEC_BEFORE=BINARY adds its batch (-j auto) and mirror.
# RTT_FILES=N: N files where the runs copy 1,000 (a short trial of the script, not the figures).
# RSEXEC, RSEXECD: the binaries (default build/bin/...).
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
. bench/lib.sh

quick=no
data_copy=${TMPDIR:-/tmp}/rsexec-rtt.dat
plot=yes
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=yes ;;
    --big) quick=big ;;
    --block) quick=block ;;
    --auto) quick=auto ;;
    --data) data_copy=$2; shift ;;
    --no-plot) plot=no ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "rtt: needs root (vsftpd chroots; globus-gridftp-server setuids)" >&2; exit 1; }
case $data_copy in /*) ;; *) data_copy=$here/$data_copy ;; esac

run_timeout=${RUN_TIMEOUT:-300}
many=${RTT_FILES:-1000}
case $many in '' | *[!0-9]* | 0*) echo "rtt: RTT_FILES must be a count of files, not '$many'" >&2; exit 2 ;; esac
many_text=$many
[ "$many" != 1000 ] || many_text=1,000
peers=scripts/peers.sh
net=127.0.9          # .1/.2 rsexecd, .3/.4 vsftpd, .5/.6 globus-gridftp-server
chmod 0755 "$bench_work"
# The peers this bench starts live in their own state folder: `peers.sh stop` never reaches
# servers that tests running beside it started.
export RSEXEC_PEERS_STATE=$bench_work/peers
data=$bench_work/rtt.dat
: >"$data"
failures=0

proxy_pids=()
gridftp_pids=()
rtt_cleanup() {
  local pid child
  for pid in "${proxy_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  # globus-gridftp-server forks a process per session: the sessions first, then the listener.
  for pid in "${gridftp_pids[@]}"; do
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  "$peers" stop "$net.3" >/dev/null 2>&1 || true
  "$peers" stop "$net.4" >/dev/null 2>&1 || true
  bench_cleanup
}
trap rtt_cleanup EXIT
trap 'exit 130' INT TERM


stop_proxies() {
  local pid
  for pid in "${proxy_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  proxy_pids=()
}

greets() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && [ "${line:0:3}" = 220 ]' _ "$1" "$2" 2>/dev/null
}

# start_gridftp ADDR ROOT: globus-gridftp-server in the foreground, anonymous as nobody; sets $port.
start_gridftp() {
  local addr=$1 root=$2 log=$bench_work/gridftp.$1
  port=$(/usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$addr")
  globus-gridftp-server -aa -anonymous-user nobody -anonymous-group nogroup \
    -p "$port" -control-interface "$addr" -data-interface "$addr" -home-dir "$root" \
    -log-level error -logfile "$log.log" >"$log.out" 2>&1 </dev/null &
  gridftp_pids+=($!)
  for _ in $(seq 200); do
    greets "$addr" "$port" && return 0
    kill -0 "${gridftp_pids[-1]}" 2>/dev/null || break
    sleep 0.05
  done
  echo "rtt: globus-gridftp-server on $addr did not start" >&2
  cat "$log.out" "$log.log" >&2 2>/dev/null
  return 1
}

# --- the data: 200 and 1,000 (RTT_FILES) files of 4 KiB, one 256 MiB file
make_files() {  # DIR COUNT
  mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do head -c 4096 /dev/urandom >"$1/f$i"; done
}
echo "rtt: writing the data sets" >&2
src_data=$bench_work/data
sets=()
case $quick in no | yes)
  make_files "$src_data/s200" 200
  sets+=(s200) ;;
esac
case $quick in no | block | auto)
  make_files "$src_data/s1000" "$many"
  sets+=(s1000) ;;
esac
case $quick in no | big)
  mkdir -p "$src_data/big"
  head -c $((256 * 1024 * 1024)) /dev/urandom >"$src_data/big/big"
  sets+=(big) ;;
esac
chmod -R a+rX "$src_data"
files_of() { ls "$src_data/$1" | wc -l; }
bytes_of() { du -sb --apparent-size "$src_data/$1" | cut -f1; }
seed() {  # ROOT: the data sets, hard-linked
  local s
  mkdir -p "$1"
  for s in "${sets[@]}"; do cp -al "$src_data/$s" "$1/$s"; done
}

# --- the servers: real ports; the proxies in front of them change with the RTT
# --block: the rsexecd pair only; --auto: the vsftpd pair only.
pairs=()
if [ $quick != auto ]; then
  seed "$bench_work/rs-a"
  start_rsexecd "$net.1" "$bench_work/rs-a"; rs_pa=$port; rs_pida=${bench_pids[-1]}
  start_rsexecd "$net.2" "$bench_work/rs-b"; rs_pb=$port; rs_pidb=${bench_pids[-1]}
  pairs+=(rsexecd)
fi

if [ $quick != block ]; then
  seed "$bench_work/vs-a"
  mkdir -p "$bench_work/vs-b"
  vs_pa=$("$peers" start vsftpd "$net.3" 0 "$bench_work/vs-a" 2>/dev/null); vs_pa=${vs_pa##*:}
  vs_pb=$("$peers" start vsftpd "$net.4" 0 "$bench_work/vs-b" 2>/dev/null); vs_pb=${vs_pb##*:}
  vs_creds=$("$peers" creds | sed 's/^user=\(.*\) password=\(.*\)$/\1:\2/')
  pairs+=(vsftpd)
fi

gridftp=no
if [ $quick = block ] || [ $quick = auto ]; then
  :
elif ! command -v globus-url-copy >/dev/null || ! command -v globus-gridftp-server >/dev/null; then
  echo "rtt: installing globus-gass-copy-progs globus-gridftp-server-progs" >&2
  install_globus() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      globus-gass-copy-progs globus-gridftp-server-progs </dev/null >>"$bench_work/apt.log" 2>&1
  }
  install_globus || { apt-get update -q </dev/null >>"$bench_work/apt.log" 2>&1 && install_globus; } ||
    tail -n 5 "$bench_work/apt.log" >&2
fi
if [ $quick = block ] || [ $quick = auto ]; then
  :
elif ! command -v globus-url-copy >/dev/null || ! command -v globus-gridftp-server >/dev/null; then
  echo "globus-url-copy: not available (apt-get install globus-gass-copy-progs globus-gridftp-server-progs failed)"
else
  seed "$bench_work/gf-a"
  mkdir -p "$bench_work/gf-b"
  chmod 0777 "$bench_work/gf-b"
  if start_gridftp "$net.5" "$bench_work/gf-a" && gf_pa=$port &&
     start_gridftp "$net.6" "$bench_work/gf-b" && gf_pb=$port; then
    gridftp=yes
    pairs+=(gridftp)
  else
    echo "globus-url-copy: not available (globus-gridftp-server did not start)"
  fi
fi

# --- CPU: the client's from its own user+system time (timed_cpu), each server's and proxy's from
# /proc (cpu_ticks, before and after a run)
server_pid_of() {  # PAIR a|b: the server's (listener's) pid
  case $1:$2 in
    rsexecd:a) echo "$rs_pida" ;;
    rsexecd:b) echo "$rs_pidb" ;;
    vsftpd:a) cat "$RSEXEC_PEERS_STATE/${net}.3_"*/pid 2>/dev/null | head -1 ;;
    vsftpd:b) cat "$RSEXEC_PEERS_STATE/${net}.4_"*/pid 2>/dev/null | head -1 ;;
    gridftp:a) echo "${gridftp_pids[0]:-}" ;;
    gridftp:b) echo "${gridftp_pids[1]:-}" ;;
  esac
}
cpu_ticks() {  # PID: utime + stime + reaped children's cutime + cstime, in clock ticks
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo NaN; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 + $14 + $15 }'
}
cpu_ticks_of() {  # PAIR: the ticks of the pair's servers (a, b), then of the proxies in front of them
  local pid ticks
  ticks="$(cpu_ticks "$(server_pid_of "$1" a)") $(cpu_ticks "$(server_pid_of "$1" b)")"
  for pid in "${proxy_pids[@]}"; do ticks="$ticks $(cpu_ticks "$pid")"; done
  echo "$ticks"
}
cpu_before() {  # PAIR
  ticks_before=$(cpu_ticks_of "$1")
}
timed_cpu() {  # FILE COMMAND...: runs it; its user+system seconds (children included) to FILE
  local out=$1 rc=0
  shift
  local TIMEFORMAT='%U %S'
  { time "$@" 2>&3 3>&-; } 3>&2 2>"$out" || rc=$?
  return $rc
}
cpu_after() {  # PAIR FILES CPUFILE: from CPUFILE (timed_cpu's) and the ticks since cpu_before, sets
  # cpu_per_file "CLIENT SRC DST" (microseconds a file) and cpu_secs "CLIENT SRC DST PROXY..."
  # (seconds of the run)
  local ticks_after
  ticks_after=$(cpu_ticks_of "$1")
  { read -r cpu_per_file || true; read -r cpu_secs || true; } < <(cat "$3" 2>/dev/null | awk -v f="$2" -v hz="$(getconf CLK_TCK)" \
      -v before="$ticks_before" -v after="$ticks_after" '
    NF == 2 && $1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ { client = $1 + $2; timed = 1 }
    END {
      n = split(before, b, " "); split(after, a, " ")
      s[1] = timed ? client : "NaN"
      for (i = 1; i <= n; i++) s[i + 1] = (b[i] == "NaN" || a[i] == "NaN") ? "NaN" : (a[i] - b[i]) / hz
      for (i = 1; i <= 3; i++) printf "%s%s", (i > 1 ? " " : ""), (s[i] == "NaN" ? "NaN" : sprintf("%.0f", s[i] * 1e6 / f))
      printf "\n"
      for (i = 1; i <= n + 1; i++) printf "%s%s", (i > 1 ? " " : ""), (s[i] == "NaN" ? "NaN" : sprintf("%.2f", s[i]))
      printf "\n"
    }')
  [ -n "$cpu_per_file" ] || cpu_per_file="NaN NaN NaN"
}
# --block: after a run, what bound it: the CPU seconds of rsexec, each rsexecd and each proxy, and
# the wall time per file in round trips.
what_binds() {  # RTT FILES SECS
  awk -v rtt="$1" -v files="$2" -v secs="$3" -v cpu="$cpu_secs" 'BEGIN {
    n = split(cpu, c, " ")
    line = sprintf("         cpu s: rsexec %s", n ? c[1] : "?")
    for (i = 2; i <= n; i++) line = line sprintf(", %s %s", (i <= 3 ? "rsexecd" : "proxy"), c[i])
    if (rtt > 0 && secs != "NaN") line = line sprintf("; %.2f round trips of wall time a file", secs / files / (rtt / 1000))
    print line }' >&2
}

# --- which runs; -j auto: what it settled on, its goals
wanted() {  # PAIR RTT SET: 1,000 files and the big file at 20 ms only, to bound the run time; the
  # vsftpd pair's 1,000 files also at 0 ms, the reference of -j auto's goal; --block: every RTT
  [ $quick != block ] || return 0
  [ "$3" = s200 ] || [ "$2" = 20 ] || { [ "$3" = s1000 ] && [ "$2" = 0 ] && [ "$1" = vsftpd ]; }
}
auto_settled() {  # TOOL: ", -j auto settled on N (peak M)" from the run's summary event
  case $1 in rsexec-jauto | rsexec-mirror | rsexec-default | rsexec-before | rsexec-mirror-before) ;; *) return 0 ;; esac
  tail -n 1 "$bench_work/run.log" | sed -n 's/.*"concurrency":\([0-9]*\).*"concurrency_peak":\([0-9]*\).*"logins":\([0-9]*\).*/; -j auto settled on \1 pairs (peak \2), \3 logins/p'
}
auto_goals() {
  local fps0 fps20 lftp20
  fps0=$(fps vsftpd 0 s1000 rsexec-jauto)
  fps20=$(fps vsftpd 20 s1000 rsexec-jauto)
  lftp20=$(fps vsftpd 20 s1000 lftp-P4)
  [ -n "$fps20" ] || return 0
  echo "Goals, vsftpd pair, $many_text x 4 KiB, rsexec batch -j auto:"
  ratio "  RTT 20 ms / RTT 0 ms" "$fps20" "$fps0" 0.8
  ratio "  RTT 20 ms, against lftp mirror --parallel=4" "$fps20" "$lftp20" 8
  [ -z "${RSEXEC_BEFORE:-}" ] || ratio "  RTT 20 ms, RSEXEC_BEFORE's batch (-j auto) / RTT 0 ms" \
    "$(fps vsftpd 20 s1000 rsexec-before)" "$(fps vsftpd 0 s1000 rsexec-before)" 0.8
}

# --- one run
# url_of PAIR a|b PORT: the base URL a client uses; gridftp paths are the server's own paths.
url_of() {
  local pair=$1 side=$2 p=$3
  case $pair:$side in
    rsexecd:a) echo "ftp://$BENCH_USER:$BENCH_PASS@$net.1:$p" ;;
    rsexecd:b) echo "ftp://$BENCH_USER:$BENCH_PASS@$net.2:$p" ;;
    vsftpd:a) echo "ftp://$vs_creds@$net.3:$p" ;;
    vsftpd:b) echo "ftp://$vs_creds@$net.4:$p" ;;
    gridftp:a) echo "ftp://$net.5:$p$bench_work/gf-a" ;;
    gridftp:b) echo "ftp://$net.6:$p$bench_work/gf-b" ;;
  esac
}
dst_root_of() {
  case $1 in rsexecd) echo "$bench_work/rs-b" ;; vsftpd) echo "$bench_work/vs-b" ;; gridftp) echo "$bench_work/gf-b" ;; esac
}

lftp_fxp="set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 60; set ftp:ssl-allow no; \
set ftp:use-fxp yes; set ftp:fxp-force yes; set ftp:fxp-passive-source yes;"

# run PAIR RTT SET TOOL SRC_URL DST_URL: one timed copy of SET into out/, checked, recorded.
run() {
  local pair=$1 rtt=$2 set=$3 tool=$4 src=$5 dst=$6 droot out cmd=()
  droot=$(dst_root_of "$pair")
  out=$droot/out
  rm -rf "$out"
  case $tool in
    rsexec-j* | rsexec-default | rsexec-before)
      for f in "$src_data/$set"/*; do echo "$src/$set/${f##*/} $dst/out/"; done >"$bench_work/job"
      mkdir -p "$out"
      [ "$pair" = vsftpd ] && chown rsexec:rsexec "$out"
      case $tool in
        rsexec-j*) cmd=("$RSEXEC" batch -j "${tool#rsexec-j}" --no-journal --json "$bench_work/job") ;;
        rsexec-default) cmd=("$RSEXEC" batch --no-journal --json "$bench_work/job") ;;
        rsexec-before) cmd=("$RSEXEC_BEFORE" batch --no-journal --json "$bench_work/job") ;;
      esac ;;
    rsexec-mirror) cmd=("$RSEXEC" mirror --json "$src/$set/" "$dst/out/") ;;
    rsexec-mirror-before) cmd=("$RSEXEC_BEFORE" mirror --json "$src/$set/" "$dst/out/") ;;
    lftp) cmd=(lftp -c "$lftp_fxp mirror $src/$set/ $dst/out/") ;;
    lftp-P4) cmd=(lftp -c "$lftp_fxp mirror --parallel=4 $src/$set/ $dst/out/") ;;
    guc) cmd=(globus-url-copy -r -cd "$src/$set/" "$dst/out/") ;;
    guc-pp) cmd=(globus-url-copy -r -cd -pp "$src/$set/" "$dst/out/") ;;
    guc-pp-cc4) cmd=(globus-url-copy -r -cd -pp -cc 4 "$src/$set/" "$dst/out/") ;;
  esac
  local start end secs status=ok
  cpu_before "$pair"
  start=$(date +%s.%N)
  timed_cpu "$bench_work/run.cpu" timeout "$run_timeout" "${cmd[@]}" >"$bench_work/run.log" 2>&1 || status=$?
  end=$(date +%s.%N)
  cpu_after "$pair" "$(files_of "$set")" "$bench_work/run.cpu"
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  if [ "$status" = 124 ]; then
    status=timeout
  elif [ "$status" != ok ]; then
    status="exit $status"
  elif ! diff -r "$src_data/$set" "$out" >"$bench_work/diff.log" 2>&1; then
    status="differs"
  fi
  local files
  files=$(files_of "$set")
  if [ "$status" != ok ]; then
    failures=$((failures + 1))
    {
      echo "rtt: FAILED ($status): $pair RTT $rtt ms $set $tool after $secs s"
      echo "rtt: command: ${cmd[*]}" | sed 's/:[^:@/]*@/:***@/g'
      tail -n 15 "$bench_work/run.log"
      [ "$status" = differs ] && head -n 10 "$bench_work/diff.log"
    } >&2
    echo "$pair $rtt $set $files $(bytes_of "$set") $tool NaN NaN $cpu_per_file" >>"$data"
  else
    echo "$pair $rtt $set $files $(bytes_of "$set") $tool $secs $(awk -v f="$files" -v s="$secs" 'BEGIN { printf "%.1f", f / s }') $cpu_per_file" >>"$data"
  fi
  printf '%-8s %4s ms %-6s %-14s %9s s %s; CPU us/file client %s, src %s, dst %s%s\n' "$pair" "$rtt" "$set" "$tool" "$secs" \
    "$( [ "$status" = ok ] && tail -1 "$data" | awk '{ printf "%s files/s, %.1f MB/s", $8, $5 / $7 / 1e6 }' || echo "$status")" \
    $cpu_per_file "$(auto_settled "$tool")" >&2
  [ $quick = block ] && what_binds "$rtt" "$files" "$secs"
  rm -rf "$out"
}

tools_of() {  # PAIR SET
  if [ $quick = block ]; then echo "rsexec-default${RSEXEC_BEFORE:+ rsexec-before}"; return; fi
  case $1:$2 in
    gridftp:big) echo "guc guc-pp" ;;
    gridftp:s1000) echo "guc-pp guc-pp-cc4" ;;
    gridftp:*) echo "guc guc-pp guc-pp-cc4" ;;
    *:big) echo "rsexec-j1 rsexec-mirror lftp" ;;
    *:s1000) echo "rsexec-j4 rsexec-j16 rsexec-jauto rsexec-mirror lftp-P4${RSEXEC_BEFORE:+ rsexec-before rsexec-mirror-before}" ;;
    *) echo "rsexec-j1 rsexec-j4 rsexec-mirror lftp lftp-P4" ;;
  esac
}

case $quick in no | block) rtts=(0 20 100) ;; auto) rtts=(0 20) ;; *) rtts=(20) ;; esac
for rtt in "${rtts[@]}"; do
  for pair in "${pairs[@]}"; do
    case $pair in
      rsexecd) pa=$rs_pa pb=$rs_pb a=$net.1 b=$net.2 ;;
      vsftpd) pa=$vs_pa pb=$vs_pb a=$net.3 b=$net.4 ;;
      gridftp) pa=$gf_pa pb=$gf_pb a=$net.5 b=$net.6 ;;
    esac
    if [ "$rtt" != 0 ]; then
      half=$(awk -v r="$rtt" 'BEGIN { print r / 2 }')
      start_proxy "$a" "$pa" "$half"; pa=$pport
      start_proxy "$b" "$pb" "$half"; pb=$pport
    fi
    src=$(url_of "$pair" a "$pa")
    dst=$(url_of "$pair" b "$pb")
    for set in "${sets[@]}"; do
      wanted "$pair" "$rtt" "$set" || continue
      for tool in $(tools_of "$pair" "$set"); do
        run "$pair" "$rtt" "$set" "$tool" "$src" "$dst"
      done
    done
    stop_proxies
  done
done

# --- the table, the ratios, the plot
{
  echo "# rsexec bench/rtt.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, rsexec $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# servers rtt_ms set files bytes tool seconds files_per_s cpu_us_per_file_client cpu_us_per_file_src cpu_us_per_file_dst"
  cat "$data"
} >"$data.tmp" && mv "$data.tmp" "$data"
cp "$data" "$data_copy"

echo
echo "$(nproc) cores; $("$peers" version vsftpd); $("$peers" version lftp)$(
  [ $gridftp = yes ] && echo "; globus-url-copy $(globus-url-copy -version 2>&1 | head -1 | sed 's/^[^0-9]*//')")"
echo
echo "| servers | RTT ms | files | tool | seconds | files/s | MB/s | CPU us/file: client, src, dst |"
echo "|---|---|---|---|---|---|---|---|"
label() {
  case $1 in
    rsexec-j*) echo "rsexec batch -j ${1#rsexec-j}" ;;
    rsexec-default) echo 'rsexec batch' ;; rsexec-before) echo 'rsexec batch (RSEXEC_BEFORE)' ;;
    rsexec-mirror-before) echo 'rsexec mirror (RSEXEC_BEFORE)' ;;
    rsexec-mirror) echo 'rsexec mirror (-j auto)' ;; lftp) echo 'lftp mirror (FXP)' ;;
    lftp-P4) echo 'lftp mirror --parallel=4 (FXP)' ;; guc) echo 'globus-url-copy' ;;
    guc-pp) echo 'globus-url-copy -pp' ;; guc-pp-cc4) echo 'globus-url-copy -pp -cc 4' ;;
  esac
}
grep -v '^#' "$data" | while read -r pair rtt set files bytes tool secs fps cpu_c cpu_a cpu_b; do
  what="$files x 4 KiB"
  [ "$set" = big ] && what="1 x 256 MiB"
  mbs=$(awk -v b="$bytes" -v s="$secs" -v big="$set" 'BEGIN { if (s == "NaN" || big != "big") print "-"; else printf "%.0f", b / s / 1e6 }')
  echo "| $pair | $rtt | $what | $(label "$tool") | ${secs/NaN/failed} | ${fps/NaN/-} | $mbs | $cpu_c, $cpu_a, $cpu_b |"
done

fps() { awk -v p="$1" -v r="$2" -v s="$3" -v t="$4" '$1 == p && $2 == r && $3 == s && $6 == t { print $8 }' "$data"; }
secs() { awk -v p="$1" -v r="$2" -v s="$3" -v t="$4" '$1 == p && $2 == r && $3 == s && $6 == t { print $7 }' "$data"; }
ratio() {  # LABEL A B GOAL: A / B against GOAL
  awk -v l="$1" -v a="$2" -v b="$3" -v g="$4" 'BEGIN {
    if (a == "" || b == "" || a == "NaN" || b == "NaN") { printf "%s: not measured\n", l; exit }
    r = a / b; printf "%s: %.2fx (goal >= %sx): %s\n", l, r, g, (r >= g ? "met" : "NOT met") }'
}
if [ $quick = block ]; then
  echo
  echo "Goals, rsexecd pair, $many_text x 4 KiB, files/s against RTT 0:"
  for tool in $(tools_of rsexecd s1000); do
    ratio "  $(label "$tool"), RTT 20 ms" "$(fps rsexecd 20 s1000 "$tool")" "$(fps rsexecd 0 s1000 "$tool")" 0.8
    ratio "  $(label "$tool"), RTT 100 ms" "$(fps rsexecd 100 s1000 "$tool")" "$(fps rsexecd 0 s1000 "$tool")" 0.6
  done
  if [ $plot = yes ] && command -v gnuplot >/dev/null; then
    for tool in $(tools_of rsexecd s1000); do
      printf '"%s"\n' "$(label "$tool")"
      awk -v t="$tool" '!/^#/ && $6 == t && $8 != "NaN" { print $2, $8 }' "$data"
      printf '\n\n'
    done >"$bench_work/rtt.rsexecd.series"
    gnuplot -e "dir='$bench_work'; pairs='rsexecd'; out='docs/rtt-block.png'; what='$many_text files of 4 KiB, block mode'" \
      bench/plot-rtt.gp && echo "rtt: drew docs/rtt-block.png" >&2
  fi
  echo "rtt: figures in $data_copy" >&2
  [ "$failures" -eq 0 ] || { echo "rtt: $failures run(s) FAILED (see above)" >&2; exit 1; }
  exit 0
fi
echo
[ $quick = big ] || [ $quick = auto ] || echo "Goals, RTT 20 ms, 200 x 4 KiB:"
[ $quick = big ] || [ $quick = auto ] || ratio "  vsftpd pair, rsexec batch -j 1 / lftp mirror" "$(fps vsftpd 20 s200 rsexec-j1)" "$(fps vsftpd 20 s200 lftp)" 3
[ $quick = big ] || [ $quick = auto ] || ratio "  vsftpd pair, rsexec batch -j 4 / lftp mirror --parallel=4" "$(fps vsftpd 20 s200 rsexec-j4)" "$(fps vsftpd 20 s200 lftp-P4)" 5
if [ $quick = big ] || [ $quick = auto ]; then
  :
elif [ $gridftp = yes ]; then
  ratio "  rsexec -j 4 (rsexecd pair) / globus-url-copy -pp -cc 4 (gridftp pair)" \
    "$(fps rsexecd 20 s200 rsexec-j4)" "$(fps gridftp 20 s200 guc-pp-cc4)" 1
else
  echo "  rsexec -j 4 / globus-url-copy -pp -cc 4: globus-url-copy not available"
fi
[ $quick = big ] || [ $quick = auto ] || awk -v a="$(fps rsexecd 20 s200 rsexec-j4)" 'BEGIN {
  if (a == "" || a == "NaN") print "  rsexecd pair, rsexec batch -j 4: not measured";
  else printf "  rsexecd pair, rsexec batch -j 4: %.0f files/s (goal >= 220): %s\n", a, (a >= 220 ? "met" : "NOT met") }'
auto_goals
if [ $quick != yes ] && [ $quick != auto ]; then
  echo "Goal, RTT 20 ms, 256 MiB: rsexec within 5% of the best anchor on the same servers:"
  for pair in rsexecd vsftpd; do
    best=$(awk -v p="$pair" '$1 == p && $2 == 20 && $3 == "big" && $6 !~ /^rsexec/ && $7 != "NaN" { print $7 }' "$data" | sort -n | head -1)
    for tool in rsexec-j1 rsexec-mirror; do
      awk -v l="  $pair pair, $(label $tool) / lftp" -v a="$(secs "$pair" 20 big "$tool")" -v b="$best" 'BEGIN {
        if (a == "" || b == "" || a == "NaN") { printf "%s: not measured\n", l; exit }
        r = b / a; printf "%s: %.2fx the anchor'"'"'s speed (goal >= 0.95x): %s\n", l, r, (r >= 0.95 ? "met" : "NOT met") }'
    done
  done
fi

if [ $plot = yes ] && [ $quick = no ] && command -v gnuplot >/dev/null; then
  # Per pair, one block per tool, 200 files: RTT, files/s.
  for pair in "${pairs[@]}"; do
    awk -v p="$pair" 'BEGIN { n = split("rsexec-j1 rsexec batch -j 1|rsexec-j4 rsexec batch -j 4|rsexec-mirror rsexec mirror (-j auto)|lftp lftp mirror|lftp-P4 lftp mirror --parallel=4|guc globus-url-copy|guc-pp globus-url-copy -pp|guc-pp-cc4 globus-url-copy -pp -cc 4", l, "|")
        for (i = 1; i <= n; i++) { t = l[i]; sub(/ .*/, "", t); name[t] = substr(l[i], length(t) + 2) }; n = 0 }
      !/^#/ && $1 == p && $3 == "s200" && $8 != "NaN" { k = name[$6]; if (!(k in seen)) { seen[k] = 1; order[++n] = k } v[k] = v[k] $2 " " $8 "\n" }
      END { for (i = 1; i <= n; i++) printf "%s\"%s\"\n%s", (i > 1 ? "\n\n" : ""), order[i], v[order[i]] }' "$data" >"$bench_work/rtt.$pair.series"
  done
  gnuplot -e "dir='$bench_work'; pairs='${pairs[*]}'; out='docs/rtt.png'" bench/plot-rtt.gp &&
    echo "rtt: drew docs/rtt.png" >&2
fi

echo "rtt: figures in $data_copy" >&2
if [ "$failures" -gt 0 ]; then
  echo "rtt: $failures run(s) FAILED (see above)" >&2
  exit 1
fi
