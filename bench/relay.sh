#!/usr/bin/env bash
# The relay: copies through rsexec between two rsexecd without --fxp-peers (they refuse to pair).
#   1 GiB relayed by rsexec (splice) against lftp relaying (ftp:use-fxp no) on the same servers,
#   and against rsexec direct on two rsexecd with --fxp-peers serving the same file;
#   rsexec's own CPU (user+sys, from /usr/bin/time) for the 1 GiB, and lftp's;
#   FILES (default 1000) files of 4 KiB relayed: rsexec batch -j 4 against lftp mirror --parallel=4;
#   ten times as many files relayed: rsexec's peak RSS.
# Usage: bench/relay.sh [MIB] [FILES]   (defaults 1024 and 1000). Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mib=${1:-1024}
files=${2:-1000}

# rsexecd as most servers ship: no data connections to or from any address but its client's.
start_lone() {  # ADDR ROOT
  local addr=$1 root=$2 out=$bench_work/lone.$1.out
  mkdir -p "$root"
  "$RSEXECD" --root "$root" --bind "$addr" --port 0 --user "$BENCH_USER:$BENCH_PASS" --log-level warning \
    >"$out" 2>"$out.log" &
  bench_pids+=($!)
  port=$(wait_line "$out" 's/^rsexecd listening on .*:\([0-9]*\)$/\1/p' "rsexecd on $addr")
}

start_lone 127.0.0.161 "$bench_work/a"; pa=$port
start_lone 127.0.0.162 "$bench_work/b"; pb=$port
start_rsexecd 127.0.0.163 "$bench_work/a"; pc=$port
start_rsexecd 127.0.0.164 "$bench_work/c"; pd=$port
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$bench_work/a/big.bin"
src="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.161:$pa"
dst="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.162:$pb"
fxp_src="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.163:$pc"
fxp_dst="ftp://$BENCH_USER:$BENCH_PASS@127.0.0.164:$pd"

# timed LABEL COMMAND...: wall, user, sys seconds and peak RSS of the command (GNU time).
timed() {
  local label=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$bench_work/time" "$@" >/dev/null 2>"$bench_work/err" ||
    { echo "failed: $label" >&2; cat "$bench_work/err" >&2; exit 1; }
  read -r wall user sys rss <"$bench_work/time"
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v m="$mib" 'BEGIN {
    printf "%-34s %8.3f s %8.1f MB/s   cpu %5.2f s (user %.2f + sys %.2f)   rss %6.1f MiB\n",
      l, w, m * 1048576 / w / 1e6, u + s, u, s, r / 1024 }'
}

check_copy() {  # FILE
  cmp -s "$bench_work/a/big.bin" "$1" || { echo "copy differs: $1" >&2; exit 1; }
  rm -f "$1"
}

echo "one file of $mib MiB"
timed "rsexec relay (auto, splice)" "$RSEXEC" copy "$src/big.bin" "$dst/big.bin"
check_copy "$bench_work/b/big.bin"
timed "rsexec relay (--verify checksum)" "$RSEXEC" copy --relay always --verify checksum "$src/big.bin" "$dst/big.bin"
check_copy "$bench_work/b/big.bin"
timed "lftp relay (ftp:use-fxp no)" lftp -c "set ftp:use-fxp no; set xfer:clobber yes; get $src/big.bin -o $dst/big.bin"
check_copy "$bench_work/b/big.bin"
timed "rsexec direct (FXP pair)" "$RSEXEC" copy "$fxp_src/big.bin" "$fxp_dst/big.bin"
check_copy "$bench_work/c/big.bin"
rm -f "$bench_work/a/big.bin"

make_files() {  # DIR COUNT
  mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do head -c 4096 /dev/urandom >"$1/f$i"; done
}
make_files "$bench_work/a/set" "$files"
for f in "$bench_work"/a/set/*; do echo "$src/set/${f##*/} $dst/out/"; done >"$bench_work/job"
echo
echo "$files files of 4 KiB, relayed, 4 at once"
mkdir -p "$bench_work/b/out"
t_rsexec=$(seconds_of "$RSEXEC" batch -j 4 --no-journal --json "$bench_work/job")
[ "$(ls "$bench_work/b/out" | wc -l)" -eq "$files" ] || { echo "rsexec copied too few files" >&2; exit 1; }
rm -rf "$bench_work/b/out"
t_lftp=$(seconds_of lftp -c "set ftp:use-fxp no; mirror --parallel=4 $src/set/ $dst/out/")
[ "$(ls "$bench_work/b/out" | wc -l)" -eq "$files" ] || { echo "lftp copied too few files" >&2; exit 1; }
awk -v f="$files" -v a="$t_rsexec" -v b="$t_lftp" 'BEGIN {
  printf "rsexec batch -j 4: %.1f files/s; lftp mirror --parallel=4: %.1f files/s; %.2fx\n", f / a, f / b, b / a }'

big=$((files * 10))
make_files "$bench_work/a/many" "$big"
for f in "$bench_work"/a/many/*; do echo "$src/many/${f##*/} $dst/many/"; done >"$bench_work/job10"
mkdir -p "$bench_work/b/many"
/usr/bin/time -f '%e %M' -o "$bench_work/time" "$RSEXEC" batch -j 4 --no-journal --json "$bench_work/job10" >/dev/null
read -r t_big rss_kib <"$bench_work/time"
[ "$(ls "$bench_work/b/many" | wc -l)" -eq "$big" ] || { echo "rsexec copied too few of $big files" >&2; exit 1; }
awk -v t="$t_big" -v g="$big" -v r="$rss_kib" 'BEGIN {
  printf "%d files relayed, -j 4: %.1f s (%.1f files/s), peak RSS %.1f MiB\n", g, t, g / t, r / 1024 }'
