#!/usr/bin/env bash
# One big file between two real servers, copied four ways; the median of RUNS runs of each:
#   rsexec copy          vsftpd -> vsftpd, both promiscuous (FXP on), dialect auto
#   lftp FXP             the same servers, `set ftp:use-fxp yes; set ftp:fxp-force yes`
#   lftp relay           the same servers, `set ftp:use-fxp no`: the bytes pass through lftp
#   rsexec copy          rsexecd -> rsexecd (auto: RFC 438 LSTN/SOCK)
# Figures: wall seconds (logins included), MB/s (10^6 bytes per wall second), and the client's
# CPU seconds (user + system of rsexec or lftp, from /usr/bin/time). Each copy is compared
# byte for byte with the source.
#
# lftp FXP runs with -d: now and then it has ended with "Fatal error: 500 Unknown command." on
# this pair, and its dialogue is then printed.
#
# Usage (as root, after scripts/setup-interop.sh): bench/interop.sh [MIB [RUNS]]
#   default 1024 MiB, 3 runs; needs 2 x MIB of disk in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."

mib=${1:-1024}
runs=${2:-3}
RSEXEC=${RSEXEC:-build/bin/rsexec}
peers=scripts/peers.sh
net=127.0.7
creds=rsexec:rsexec-test

work=$(mktemp -d "${TMPDIR:-/tmp}/rsexec-bench-interop.XXXXXX")
chmod 0755 "$work"
cleanup() {
  local a
  for a in 1 2 3 4; do "$peers" stop "$net.$a" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "writing a $mib MiB source file" >&2
mkdir -p "$work/data" "$work/vs-a" "$work/rs-a"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/data/big"
ln "$work/data/big" "$work/vs-a/big"
ln "$work/data/big" "$work/rs-a/big"

vs_a=$("$peers" start vsftpd "$net.1" 0 "$work/vs-a")
vs_b=$("$peers" start vsftpd "$net.2" 0 "$work/vs-b")
rs_a=$("$peers" start rsexecd "$net.3" 0 "$work/rs-a")
rs_b=$("$peers" start rsexecd "$net.4" 0 "$work/rs-b")

lftp_base="set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 30; set ftp:ssl-allow no; set xfer:clobber yes;"

# run NAME DSTROOT CMD...: one timed copy into DSTROOT/big; appends "wall cpu" to $work/NAME.
run() {
  local name=$1 dst=$2
  shift 2
  rm -f "$dst/big" "$dst/.big.rsexec-part"
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$work/out" 2>&1 ||
    { echo "failed: $*" >&2; cat "$work/out" >&2; tail -n 40 2>/dev/null >&2; exit 1; }
  cmp -s "$work/data/big" "$dst/big" || { echo "$name: the copy differs from the source" >&2; exit 1; }
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time" >>"$work/$name"
  echo "$name: $(tail -1 "$work/$name") (wall s, client cpu s)" >&2
}

for i in $(seq "$runs"); do
  run rsexec-vsftpd "$work/vs-b" "$RSEXEC" copy --timeout 60 "ftp://$creds@$vs_a/big" "ftp://$creds@$vs_b/big"
  run lftp-fxp "$work/vs-b" lftp -d -c "$lftp_base set ftp:use-fxp yes; set ftp:fxp-force yes; get ftp://$creds@$vs_a/big -o ftp://$creds@$vs_b/big"
  run lftp-relay "$work/vs-b" lftp -c "$lftp_base set ftp:use-fxp no; get ftp://$creds@$vs_a/big -o ftp://$creds@$vs_b/big"
  run rsexec-rsexecd "$work/rs-b" "$RSEXEC" copy --timeout 60 "ftp://$creds@$rs_a/big" "ftp://$creds@$rs_b/big"
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bytes=$((mib * 1024 * 1024))
echo
echo "$mib MiB, median of $runs runs; $(nproc) cores; $("$peers" version vsftpd); $("$peers" version lftp)"
echo
echo "| copy | servers | wall s | MB/s | client CPU s |"
echo "|---|---|---|---|---|"
for row in "rsexec-vsftpd|rsexec copy|vsftpd → vsftpd" "lftp-fxp|lftp FXP|vsftpd → vsftpd" \
           "lftp-relay|lftp relay (no FXP)|vsftpd → vsftpd" "rsexec-rsexecd|rsexec copy|rsexecd → rsexecd"; do
  IFS='|' read -r name label servers <<<"$row"
  wall=$(cut -d' ' -f1 "$work/$name" | median)
  cpu=$(cut -d' ' -f2 "$work/$name" | median)
  echo "| $label | $servers | $wall | $(awk -v n="$bytes" -v s="$wall" 'BEGIN { printf "%.0f", n / s / 1e6 }') | $cpu |"
done
