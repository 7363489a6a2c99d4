#!/usr/bin/env bash
# The relay: copies through rsexec between servers that refuse to connect to each other, on two
# pairs of each kind:
#   vsftpd  - two vsftpd as shipped (no pasv_promiscuous/port_promiscuous: server-to-server off),
#             and two with the promiscuous flags for rsexec direct (FXP);
#   rsexecd - two rsexecd without --fxp-peers, and two with --fxp-peers for rsexec direct.
# Per pair: one file of MIB MiB relayed by rsexec (splice) against lftp relaying (ftp:use-fxp no)
# on the same servers and against rsexec direct on the FXP pair; rsexec's own CPU (user+sys,
# GNU time); FILES files of 4 KiB relayed by rsexec batch -j 4 --relay auto, the default (the first
# item's direct attempt is refused, then every worker relays through the relay pipeline,
# relay_pipeline.hpp) against lftp mirror --parallel=4.
# Then ten times as many files relayed between the rsexecd pair: rsexec's peak RSS.
# Usage: bench/relay.sh [MIB] [FILES]   (defaults 1024 and 1000). Needs root (vsftpd chroots).
# Prints figures and ratios; asserts only that every copy is whole.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mib=${1:-1024}
files=${2:-1000}
[ "$(id -u)" -eq 0 ] || { echo "relay: needs root (vsftpd chroots and switches to its user)" >&2; exit 1; }
peers=scripts/peers.sh
net=127.0.15  # .1/.2 rsexecd (no FXP), .3/.4 rsexecd (FXP), .5/.6 vsftpd (no FXP), .7/.8 vsftpd (FXP)
chmod 0755 "$bench_work"
# The peers this bench starts live in their own state folder: `peers.sh stop` never reaches
# servers that tests running beside it started.
export RSEXEC_PEERS_STATE=$bench_work/peers
relay_cleanup() {
  for a in 5 6 7 8; do "$peers" stop "$net.$a" >/dev/null 2>&1 || true; done
  bench_cleanup
}
trap relay_cleanup EXIT
trap 'exit 130' INT TERM

# rsexecd as most servers ship: no data connections to or from any address but its client's.
start_lone() {  # ADDR ROOT
  local addr=$1 root=$2 out=$bench_work/lone.$1.out
  mkdir -p "$root"
  "$RSEXECD" --root "$root" --bind "$addr" --port 0 --user "$BENCH_USER:$BENCH_PASS" --log-level warning \
    >"$out" 2>"$out.log" &
  bench_pids+=($!)
  port=$(wait_line "$out" 's/^rsexecd listening on .*:\([0-9]*\)$/\1/p' "rsexecd on $addr")
}

make_files() {  # DIR COUNT
  mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do head -c 4096 /dev/urandom >"$1/f$i"; done
}

# Every pair's source folder holds the same files.
seed() {  # DIR
  mkdir -p "$1"
  cp "$bench_work/big.bin" "$1/big.bin"
  cp -r "$bench_work/set" "$1/set"
}
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$bench_work/big.bin"
make_files "$bench_work/set" "$files"

seed "$bench_work/rs-a"; seed "$bench_work/rs-fxp-a"; seed "$bench_work/vs-a"; seed "$bench_work/vs-fxp-a"
mkdir -p "$bench_work/vs-b" "$bench_work/vs-fxp-b"
start_lone "$net.1" "$bench_work/rs-a"; rs_pa=$port
start_lone "$net.2" "$bench_work/rs-b"; rs_pb=$port
start_rsexecd "$net.3" "$bench_work/rs-fxp-a"; rs_fa=$port
start_rsexecd "$net.4" "$bench_work/rs-fxp-b"; rs_fb=$port
vs_pa=$("$peers" start vsftpd "$net.5" 0 "$bench_work/vs-a" --no-fxp 2>/dev/null); vs_pa=${vs_pa##*:}
vs_pb=$("$peers" start vsftpd "$net.6" 0 "$bench_work/vs-b" --no-fxp 2>/dev/null); vs_pb=${vs_pb##*:}
vs_fa=$("$peers" start vsftpd "$net.7" 0 "$bench_work/vs-fxp-a" 2>/dev/null); vs_fa=${vs_fa##*:}
vs_fb=$("$peers" start vsftpd "$net.8" 0 "$bench_work/vs-fxp-b" 2>/dev/null); vs_fb=${vs_fb##*:}
vs_creds=$("$peers" creds | sed 's/^user=\(.*\) password=\(.*\)$/\1:\2/')
rs_creds=$BENCH_USER:$BENCH_PASS

# timed LABEL COMMAND...: wall, user+sys seconds and peak RSS of the command (GNU time), printed
# and left in $wall $cpu $rss_mib. Each starts with no dirty page cache: the seeded copies (GiBs)
# and the previous copies would otherwise still be written back to disk during it, throttling the
# destination server's writes (measured: the same relay 18 s instead of 6-8 s) and favouring
# whichever client runs later.
timed() {
  local label=$1 user sys rss
  shift
  sync
  /usr/bin/time -f '%e %U %S %M' -o "$bench_work/time" "$@" >/dev/null 2>"$bench_work/err" ||
    { echo "failed: $label" >&2; cat "$bench_work/err" >&2; exit 1; }
  read -r wall user sys rss <"$bench_work/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  rss_mib=$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v m="${moved_mib:-$mib}" 'BEGIN {
    printf "  %-32s %8.2f s %8.1f MB/s   cpu %5.2f s (user %.2f + sys %.2f)   rss %6.1f MiB\n",
      l, w, m * 1048576 / w / 1e6, u + s, u, s, r / 1024 }'
}

check_copy() {  # FILE
  cmp -s "$bench_work/big.bin" "$1" || { echo "copy differs: $1" >&2; exit 1; }
  rm -f "$1"
}

check_set() {  # DIR
  local n
  n=$(find "$1" -maxdepth 1 -type f -name 'f*' | wc -l)
  [ "$n" -eq "$files" ] || { echo "$1: $n of $files files" >&2; exit 1; }
  diff -r "$bench_work/set" "$1" >/dev/null || { echo "$1: files differ" >&2; exit 1; }
  rm -rf "$1"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "$(nproc) cores; load: $(uptime | sed 's/.*load average: //'); $("$peers" version vsftpd); $(lftp --version | head -1)"
for kind in vsftpd rsexecd; do
  case $kind in
    vsftpd) src="ftp://$vs_creds@$net.5:$vs_pa" dst="ftp://$vs_creds@$net.6:$vs_pb"
            fsrc="ftp://$vs_creds@$net.7:$vs_fa" fdst="ftp://$vs_creds@$net.8:$vs_fb"
            out=$bench_work/vs-b fout=$bench_work/vs-fxp-b ;;
    rsexecd) src="ftp://$rs_creds@$net.1:$rs_pa" dst="ftp://$rs_creds@$net.2:$rs_pb"
             fsrc="ftp://$rs_creds@$net.3:$rs_fa" fdst="ftp://$rs_creds@$net.4:$rs_fb"
             out=$bench_work/rs-b fout=$bench_work/rs-fxp-b ;;
  esac
  echo
  echo "$kind pair, server-to-server off; one file of $mib MiB"
  moved_mib=$mib
  timed "rsexec relay (auto, splice)" "$RSEXEC" copy --timeout 120 "$src/big.bin" "$dst/big.bin"
  check_copy "$out/big.bin"
  r_wall=$wall r_cpu=$cpu
  timed "lftp relay (ftp:use-fxp no)" lftp -c "set ftp:use-fxp no; set xfer:clobber yes; get $src/big.bin -o $dst/big.bin"
  check_copy "$out/big.bin"
  l_wall=$wall l_cpu=$cpu
  timed "rsexec direct (FXP pair)" "$RSEXEC" copy --timeout 120 "$fsrc/big.bin" "$fdst/big.bin"
  check_copy "$fout/big.bin"
  d_wall=$wall
  echo "  wall: rsexec relay / lftp relay $(ratio "$r_wall" "$l_wall"), rsexec relay / rsexec direct $(ratio "$r_wall" "$d_wall");" \
       "cpu: rsexec $r_cpu s, lftp $l_cpu s"

  echo "$kind pair, server-to-server off; $files files of 4 KiB, 4 at once"
  moved_mib=$(awk -v f="$files" 'BEGIN { print f * 4 / 1024 }')
  for f in "$bench_work"/set/*; do echo "$src/set/${f##*/} $dst/out/"; done >"$bench_work/job"
  mkdir -p "$out/out"
  [ "$kind" = vsftpd ] && chown rsexec:rsexec "$out/out"
  timed "rsexec batch -j 4 (relayed)" "$RSEXEC" batch -j 4 --relay auto --timeout 120 --no-journal "$bench_work/job"
  t_rsexec=$wall
  check_set "$out/out"
  mkdir -p "$out/out"
  [ "$kind" = vsftpd ] && chown rsexec:rsexec "$out/out"
  timed "lftp mirror --parallel=4 (relay)" lftp -c "set ftp:use-fxp no; mirror --parallel=4 $src/set/ $dst/out/"
  t_lftp=$wall
  check_set "$out/out"
  awk -v f="$files" -v a="$t_rsexec" -v b="$t_lftp" 'BEGIN {
    printf "  files/s: rsexec %.1f, lftp %.1f; rsexec / lftp %.2fx\n", f / a, f / b, b / a }'
done

big=$((files * 10))
make_files "$bench_work/rs-a/many" "$big"
for f in "$bench_work"/rs-a/many/*; do echo "ftp://$rs_creds@$net.1:$rs_pa/many/${f##*/} ftp://$rs_creds@$net.2:$rs_pb/many/"; done >"$bench_work/job10"
mkdir -p "$bench_work/rs-b/many"
echo
echo "rsexecd pair, server-to-server off; $big files of 4 KiB relayed, 4 at once"
moved_mib=$(awk -v f="$big" 'BEGIN { print f * 4 / 1024 }')
timed "rsexec batch -j 4 (relayed)" "$RSEXEC" batch -j 4 --relay auto --timeout 120 --no-journal "$bench_work/job10"
n=$(ls "$bench_work/rs-b/many" | wc -l)
[ "$n" -eq "$big" ] || { echo "rsexec copied $n of $big files" >&2; exit 1; }
awk -v t="$wall" -v g="$big" -v r="$rss_mib" 'BEGIN {
  printf "  %d files: %.1f files/s, peak RSS %.1f MiB\n", g, g / t, r }'
