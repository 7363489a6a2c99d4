#!/usr/bin/env bash
# Starts and stops real FTP servers on loopback for the interop tests (docs/INTEROP.md, "Peers").
#
#   scripts/peers.sh start KIND ADDR PORT ROOT [--no-fxp] [--tls CERT KEY]
#                                                             prints ADDR:PORT once it serves
#   scripts/peers.sh stop [ADDR:PORT|ADDR|all]                default: all
#   scripts/peers.sh list                                     running peers: KIND ADDR:PORT PID
#   scripts/peers.sh log ADDR:PORT                            the server's log
#   scripts/peers.sh creds                                    user and password every peer takes
#   scripts/peers.sh version KIND                             e.g. "vsftpd 3.0.3 (Debian 3.0.3-13+b2)"
#   scripts/peers.sh tls-support KIND                         exit 0 if --tls works for KIND, else
#                                                             1 and the reason on stderr
#   scripts/peers.sh setup-user                               create the test user (root only)
#
# KIND: vsftpd | proftpd | pure-ftpd | pyftpdlib | rsexecd
# ADDR: a 127.0.0.x address (one per server, so "foreign address" checks are real).
# PORT: a TCP port, or 0 to pick a free one. ROOT: the folder the test user sees as "/",
#       created if missing and chowned (recursively) to the test user.
# --no-fxp: leave the server's default, which refuses data connections to or from an address
#       other than the client's.
# --tls CERT KEY: also offer FTPS (explicit, AUTH TLS) with this PEM certificate and key, copied
#       into the state folder. TLS stays optional for the client; a data connection's TLS session
#       need not reuse the control connection's (FXP: the other server is the data peer).
#       vsftpd, proftpd (needs mod_tls.so from proftpd-mod-crypto unpacked in
#       RSEXEC_PEERS_DIR/proftpd-crypto or RSEXEC_PEERS_DIR/proftpd) and rsexecd.
#
# Environment: RSEXEC_PEERS_STATE (default /tmp/rsexec-peers) holds one folder per server,
# ADDR_PORT (config, pid, logs); RSEXEC_PEERS_DIR (default $RSEXEC_BUILD_DIR/peers, i.e. build/peers) holds
# proftpd and pure-ftpd unpacked by scripts/setup-interop.sh; RSEXECD overrides the path to
# rsexecd (default $RSEXEC_BUILD_DIR/bin/rsexecd); RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT sets vsftpd's
# accept_timeout (seconds a transfer waits for its data connection; vsftpd's default is 60).
#
# vsftpd, proftpd and pure-ftpd need root (they chroot and switch to the test user); pyftpdlib
# and rsexecd run as anyone.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${RSEXEC_BUILD_DIR:-build}
case $build_dir in /*) ;; *) build_dir=$repo/$build_dir ;; esac
peers_dir=${RSEXEC_PEERS_DIR:-$build_dir/peers}
state_root=${RSEXEC_PEERS_STATE:-/tmp/rsexec-peers}
rsexecd_bin=${RSEXECD:-$build_dir/bin/rsexecd}
py=/usr/bin/python3

# Every peer takes the same login. The system user of the same name owns the files the servers
# write (vsftpd logs it in through PAM; proftpd, pure-ftpd and pyftpdlib map their own accounts
# to its uid).
test_user=rsexec
test_password=rsexec-test
pam_service=rsexec-peers

ready_timeout=10   # seconds for a server to accept connections
stop_timeout=5     # seconds for a server to exit on SIGTERM before SIGKILL

die() { echo "peers: $*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (it chroots and switches to the user $test_user)"
}

# Creates the system user and the PAM service vsftpd authenticates it with. Idempotent; safe
# when several tests start peers at once.
setup_user() {
  need_root "setting up the test user"
  mkdir -p "$state_root"
  (
    flock -w 30 9 || die "timed out waiting for $state_root/.setup.lock"
    if ! getent passwd "$test_user" >/dev/null; then
      useradd --system --user-group --no-create-home --home-dir / \
        --shell /usr/sbin/nologin --comment "rsexec interop tests" "$test_user"
    fi
    # vsftpd changes to the home folder before it applies local_root: it must exist.
    if [ "$(getent passwd "$test_user" | cut -d: -f6)" != / ]; then
      usermod --home / "$test_user" || die "cannot set the home of $test_user to /"
    fi
    # Only pam_unix: Debian's /etc/pam.d/vsftpd also wants pam_shells (a login shell) and
    # /etc/ftpusers, which a test account should not need.
    local pam="auth required pam_unix.so
account required pam_unix.so
session required pam_permit.so"
    if [ "$(cat "/etc/pam.d/$pam_service" 2>/dev/null)" != "$pam" ]; then
      printf '%s\n' "$pam" >"/etc/pam.d/$pam_service"
    fi
    if ! [ -e "$state_root/.password-set" ]; then
      echo "$test_user:$test_password" | chpasswd
      touch "$state_root/.password-set"
    fi
  ) 9>"$state_root/.setup.lock"
}

user_ids() { echo "$(id -u "$test_user") $(id -g "$test_user")"; }

peer_version() {
  local kind=$1
  deb_version() { dpkg-deb -f "$(ls "$peers_dir"/debs/"$1"_*.deb | tail -1)" Version 2>/dev/null; }
  case $kind in
    vsftpd)
      # vsftpd -v writes to file descriptor 0.
      echo "vsftpd $(vsftpd -v 0>&1 | sed 's/.*version //') (Debian $(dpkg-query -W -f='${Version}' vsftpd))" ;;
    proftpd)
      echo "proftpd $("$peers_dir/proftpd/usr/sbin/proftpd" -v | sed 's/.*Version //') (Debian $(deb_version proftpd-core))" ;;
    pure-ftpd)
      echo "pure-ftpd $("$peers_dir/pure-ftpd/usr/sbin/pure-ftpd" -h 2>&1 | head -1 | sed 's/^pure-ftpd v\([^ ]*\).*/\1/') (Debian $(deb_version pure-ftpd))" ;;
    pyftpdlib)
      echo "pyftpdlib $($py -c 'import pyftpdlib; print(pyftpdlib.__ver__)') (Debian $(dpkg-query -W -f='${Version}' python3-pyftpdlib))" ;;
    rsexecd)
      [ -x "$rsexecd_bin" ] || die "no $rsexecd_bin (build first)"
      local v
      v=$("$rsexecd_bin" --version 2>/dev/null | head -1 | sed 's/^rsexecd //') || v=""
      # Until rsexecd has --version: the commit it was built from.
      [ -n "$v" ] || v="git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
      echo "rsexecd $v" ;;
    lftp)
      echo "lftp $(lftp --version | head -1 | sed 's/.*Version \([^ ]*\).*/\1/') (Debian $(dpkg-query -W -f='${Version}' lftp))" ;;
    *) die "unknown kind: $kind" ;;
  esac
}

free_port() {
  $py -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# A passive port range of 50 per server, spread by a hash of ADDR:PORT below the kernel's
# ephemeral range (32768-60999), where PORT 0 picks control ports.
pasv_range() {
  local h
  h=$(printf '%s' "$1:$2" | cksum | cut -d' ' -f1)
  local low=$((10000 + (h % 440) * 50))
  echo "$low $((low + 49))"
}

# Start time of a process, in clock ticks since boot: with the pid it names one process, so a
# reused pid is never killed.
start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

alive() {
  local pid=$1 started=$2 state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$(start_time "$pid")" = "$started" ]
}

# Reads the first reply line; a server is ready when it greets with 220.
greets() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r -t 2 line <&3 && [ "${line:0:3}" = 220 ]' _ "$1" "$2" 2>/dev/null
}

write_vsftpd_conf() {
  local dir=$1 addr=$2 port=$3 root=$4 fxp=$5 low=$6 high=$7 tls=$8
  mkdir -p "$dir/empty"
  chmod 0755 "$dir/empty"
  {
    cat <<EOF
# vsftpd peer $addr:$port, written by scripts/peers.sh
listen=YES
listen_ipv6=NO
background=NO
listen_address=$addr
listen_port=$port
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pam_service_name=$pam_service
local_root=$root
chroot_local_user=YES
allow_writeable_chroot=YES
secure_chroot_dir=$dir/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
connect_from_port_20=NO
pasv_enable=YES
pasv_min_port=$low
pasv_max_port=$high
dirmessage_enable=NO
use_localtime=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$dir/server.log
syslog_enable=NO
EOF
    if [ -n "${RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT:-}" ]; then
      [[ $RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT =~ ^[0-9]+$ ]] || die "RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT must be seconds"
      echo "accept_timeout=$RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT"
    fi
    if [ "$fxp" = yes ]; then
      # Without these vsftpd refuses PORT to another host (500 Illegal PORT command) and drops a
      # passive data connection from another host (425 Security: Bad IP connecting).
      printf 'pasv_promiscuous=YES\nport_promiscuous=YES\n'
    fi
    if [ "$tls" = yes ]; then
      # Explicit FTPS, optional for the client. require_ssl_reuse=NO: by default vsftpd demands
      # that a data connection's TLS session resume the control connection's, which the other
      # server of an FXP pair cannot do. ssl_request_cert=NO: no client certificate asked for.
      cat <<EOF
ssl_enable=YES
rsa_cert_file=$dir/tls-cert.pem
rsa_private_key_file=$dir/tls-key.pem
allow_anon_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=NO
ssl_request_cert=NO
ssl_ciphers=HIGH
ssl_tlsv1=YES
ssl_sslv2=NO
ssl_sslv3=NO
debug_ssl=YES
EOF
    fi
  } >"$dir/vsftpd.conf"
}

# mod_tls.so for proftpd: Debian ships it in proftpd-mod-crypto, not proftpd-core.
proftpd_tls_module() {
  local d
  for d in "$peers_dir/proftpd/usr/lib/proftpd" "$peers_dir/proftpd-crypto/usr/lib/proftpd"; do
    [ -e "$d/mod_tls.so" ] && { echo "$d"; return 0; }
  done
  return 1
}

tls_support() {
  case $1 in
    vsftpd)
      command -v vsftpd >/dev/null || { echo "no vsftpd" >&2; return 1; }
      case $(ldd "$(command -v vsftpd)") in
        *libssl*) ;;
        *) echo "vsftpd built without OpenSSL" >&2; return 1 ;;
      esac ;;
    proftpd)
      proftpd_tls_module >/dev/null || {
        echo "no mod_tls.so in $peers_dir/proftpd/usr/lib/proftpd or $peers_dir/proftpd-crypto/usr/lib/proftpd (dpkg -x proftpd-mod-crypto)" >&2
        return 1
      } ;;
    rsexecd) [ -x "$rsexecd_bin" ] || { echo "no $rsexecd_bin" >&2; return 1; } ;;
    pure-ftpd | pyftpdlib) echo "peers.sh has no TLS set-up for $1" >&2; return 1 ;;
    *) die "unknown kind: $1" ;;
  esac
}

write_proftpd_conf() {
  local dir=$1 addr=$2 port=$3 root=$4 fxp=$5 low=$6 high=$7 tls=$8 uid gid
  read -r uid gid < <(user_ids)
  printf '%s:%s:%s:%s:rsexec interop tests:%s:/bin/sh\n' \
    "$test_user" "$(openssl passwd -6 "$test_password")" "$uid" "$gid" "$root" >"$dir/ftpd.passwd"
  printf '%s:x:%s:\n' "$test_user" "$gid" >"$dir/ftpd.group"
  chmod 0600 "$dir/ftpd.passwd" "$dir/ftpd.group"
  {
    cat <<EOF
# proftpd peer $addr:$port, written by scripts/peers.sh
ServerName "rsexec peer"
ServerType standalone
DefaultServer on
UseIPv6 off
DefaultAddress $addr
Port $port
SocketBindTight on
User nobody
Group nogroup
PidFile $dir/proftpd.pid
ScoreboardFile $dir/proftpd.scoreboard
ControlsEngine off
WtmpLog off
DelayEngine off
UseReverseDNS off
SystemLog $dir/server.log
TransferLog $dir/xfer.log
AuthOrder mod_auth_file.c
AuthUserFile $dir/ftpd.passwd
AuthGroupFile $dir/ftpd.group
RequireValidShell off
DefaultRoot ~
Umask 022
PassivePorts $low $high
MaxInstances 50
<Directory />
  AllowOverwrite on
</Directory>
EOF
    if [ "$fxp" = yes ]; then
      # Covers both directions: PORT to another host, and a passive connection from one.
      echo "AllowForeignAddress on"
    fi
    if [ "$tls" = yes ]; then
      # Explicit FTPS, optional for the client. mod_tls answers SSCN (on SSCN ON it is the TLS
      # client of the data connection); it has no CPSV. NoSessionReuseRequired: the data
      # connection of an FXP pair comes from the other server and cannot resume this session.
      # TLSv1.2 only: as the TLS client of a data connection (SSCN ON) under TLSv1.3, proftpd
      # 1.3.8 closes the socket without reading the server's post-handshake session tickets, so
      # the kernel resets the connection and a vsftpd or proftpd receiving the upload loses its
      # tail (426 after about 100 KiB; measured by tests/interop/tls_matrix.py).
      cat <<EOF
<IfModule mod_dso.c>
  ModulePath $(proftpd_tls_module)
  LoadModule mod_tls.c
</IfModule>
TLSEngine on
TLSRequired off
TLSProtocol TLSv1.2
TLSCipherSuite HIGH
TLSRSACertificateFile $dir/tls-cert.pem
TLSRSACertificateKeyFile $dir/tls-key.pem
TLSOptions NoSessionReuseRequired
TLSVerifyClient off
TLSVerifyServer off
TLSLog $dir/tls.log
EOF
    fi
  } >"$dir/proftpd.conf"
}

write_pure_ftpd_db() {
  local dir=$1 root=$2 uid gid
  read -r uid gid < <(user_ids)
  # The line pure-pw useradd would write, but with a SHA-512 crypt hash: pure-pw's own argon2id
  # costs seconds of CPU per login, enough to time clients out. "ROOT/./": chrooted to ROOT.
  printf '%s:%s:%s:%s::%s/./::::::::::::\n' \
    "$test_user" "$(openssl passwd -6 "$test_password")" "$uid" "$gid" "$root" >"$dir/pureftpd.passwd"
  chmod 0600 "$dir/pureftpd.passwd"
  "$peers_dir/pure-ftpd/usr/bin/pure-pw" mkdb "$dir/pureftpd.pdb" -f "$dir/pureftpd.passwd" >/dev/null ||
    die "pure-pw mkdb failed in $dir"
}

start() {
  [ $# -ge 4 ] || die "usage: start KIND ADDR PORT ROOT [--no-fxp] [--tls CERT KEY]"
  local kind=$1 addr=$2 port=$3 root=$4 fxp=yes tls=no tls_cert="" tls_key=""
  shift 4
  while [ $# -gt 0 ]; do
    case $1 in
      --no-fxp) fxp=no; shift ;;
      --tls)
        [ $# -ge 3 ] || die "usage: --tls CERT KEY"
        tls=yes tls_cert=$2 tls_key=$3
        [ -r "$tls_cert" ] || die "cannot read the certificate $tls_cert"
        [ -r "$tls_key" ] || die "cannot read the key $tls_key"
        shift 3 ;;
      *) die "unknown option: $1" ;;
    esac
  done
  [[ $addr =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "ADDR must be a 127.x.y.z address: $addr"
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
  case $kind in vsftpd | proftpd | pure-ftpd | pyftpdlib | rsexecd) ;; *) die "unknown kind: $kind" ;; esac
  if [ "$tls" = yes ]; then
    local why
    why=$(tls_support "$kind" 2>&1) || die "--tls with $kind: $why"
  fi

  mkdir -p "$root"
  root=$(cd "$root" && pwd)
  [ "$root" != / ] || die "refusing ROOT=/"

  local uid_now
  uid_now=$(id -u)
  case $kind in
    vsftpd | proftpd | pure-ftpd) need_root "$kind" ;;
  esac
  case $kind in
    proftpd | pure-ftpd)
      [ -x "$peers_dir/$kind/usr/sbin/$kind" ] ||
        die "no $peers_dir/$kind/usr/sbin/$kind: run scripts/setup-interop.sh" ;;
    vsftpd) command -v vsftpd >/dev/null || die "no vsftpd: run scripts/setup-interop.sh" ;;
    rsexecd) [ -x "$rsexecd_bin" ] || die "no $rsexecd_bin: build rsexecd first" ;;
  esac
  if [ "$uid_now" -eq 0 ] && [ "$kind" != rsexecd ]; then
    setup_user
    chown -R "$test_user:$test_user" "$root"
  fi

  if [ "$port" = 0 ] && [ "$kind" != rsexecd ]; then
    port=$(free_port "$addr")
  fi

  mkdir -p "$state_root"
  local dir="$state_root/${addr}_$port"
  if [ "$port" != 0 ] && [ -e "$dir/pid" ] && alive "$(cat "$dir/pid")" "$(cat "$dir/started")"; then
    die "$addr:$port is already served by pid $(cat "$dir/pid") ($(cat "$dir/kind"))"
  fi
  if [ "$port" = 0 ]; then
    dir=$(mktemp -d "$state_root/${addr}_0.XXXXXX")
  else
    rm -rf "$dir"
    mkdir -p "$dir"
  fi
  chmod 0755 "$dir"

  local low high
  read -r low high < <(pasv_range "$addr" "$port")

  if [ "$tls" = yes ]; then
    install -m 0644 "$tls_cert" "$dir/tls-cert.pem"
    install -m 0600 "$tls_key" "$dir/tls-key.pem"
  fi

  local cmd=()
  case $kind in
    vsftpd)
      write_vsftpd_conf "$dir" "$addr" "$port" "$root" "$fxp" "$low" "$high" "$tls"
      cmd=(vsftpd "$dir/vsftpd.conf") ;;
    proftpd)
      write_proftpd_conf "$dir" "$addr" "$port" "$root" "$fxp" "$low" "$high" "$tls"
      cmd=("$peers_dir/proftpd/usr/sbin/proftpd" -n -c "$dir/proftpd.conf") ;;
    pure-ftpd)
      write_pure_ftpd_db "$dir" "$root"
      local uid gid
      read -r uid gid < <(user_ids)
      # -E: no anonymous login; -H: no reverse DNS; -u 1: allow the system uid of the test user
      # (the default minimum is 100); -w: FXP for authenticated users (-W would be anonymous).
      cmd=("$peers_dir/pure-ftpd/usr/sbin/pure-ftpd" -S "$addr,$port" -p "$low:$high"
        -l "puredb:$dir/pureftpd.pdb" -E -H -4 -u 1 -g "$dir/pure-ftpd.pid" -O "clf:$dir/xfer.log")
      if [ "$fxp" = yes ]; then cmd+=(-w); fi ;;
    pyftpdlib)
      cmd=($py "$repo/scripts/peers/pyftpd.py" --addr "$addr" --port "$port" --root "$root"
        --user "$test_user" --password "$test_password" --pasv "$low-$high")
      if [ "$uid_now" -eq 0 ]; then cmd+=(--run-as "$test_user"); fi
      if [ "$fxp" = no ]; then cmd+=(--no-fxp); fi ;;
    rsexecd)
      cmd=("$rsexecd_bin" --root "$root" --bind "$addr" --port "$port"
        --user "$test_user:$test_password")
      if [ "$fxp" = yes ]; then cmd+=(--fxp-peers 127.0.0.0/8); fi
      if [ "$tls" = yes ]; then cmd+=(--tls-cert "$dir/tls-cert.pem" --tls-key "$dir/tls-key.pem"); fi ;;
  esac
  printf '%q ' "${cmd[@]}" >"$dir/command"
  echo "$kind" >"$dir/kind"
  echo "$root" >"$dir/root"
  echo "$fxp" >"$dir/fxp"
  echo "$tls" >"$dir/tls"

  # setsid: the server is detached from the caller's terminal and process group.
  setsid "${cmd[@]}" >>"$dir/output.log" 2>&1 </dev/null &
  local pid=$!
  local started=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    started=$(start_time "$pid")
    [ -n "$started" ] && break
    sleep 0.01
  done
  echo "$pid" >"$dir/pid"
  echo "$started" >"$dir/started"

  local deadline=$((SECONDS + ready_timeout)) ok=no
  while [ $SECONDS -lt $deadline ]; do
    if ! alive "$pid" "$started"; then break; fi
    if [ "$kind" = rsexecd ] && [ "$port" = 0 ]; then
      local line
      line=$(grep -m1 -o 'rsexecd listening on [0-9.]*:[0-9]*' "$dir/output.log" || true)
      if [ -n "$line" ]; then port=${line##*:}; fi
    fi
    if [ "$port" != 0 ] && greets "$addr" "$port"; then
      ok=yes
      break
    fi
    sleep 0.05
  done
  if [ $ok != yes ]; then
    {
      if alive "$pid" "$started"; then
        echo "peers: $kind on $addr:$port did not greet with 220 within ${ready_timeout}s"
      else
        echo "peers: $kind on $addr:$port exited before it served"
      fi
      echo "peers: command: $(cat "$dir/command")"
      for f in output.log server.log; do
        [ -s "$dir/$f" ] && { echo "--- $dir/$f"; tail -n 50 "$dir/$f"; }
      done
    } >&2
    stop_dir "$dir"
    exit 1
  fi
  if [ "$dir" != "$state_root/${addr}_$port" ]; then
    rm -rf "$state_root/${addr}_$port"
    mv "$dir" "$state_root/${addr}_$port"
    dir="$state_root/${addr}_$port"
  fi
  echo "$port" >"$dir/port"
  echo "peers: $kind on $addr:$port (pid $pid, fxp $fxp, tls $tls, root $root)" >&2
  echo "$addr:$port"
}

# "PID STARTTIME" of every descendant of a process. vsftpd's session processes call setsid(),
# so neither the process group nor the session of the master reaches them.
descendants() {
  local root=$1
  ps -e -o pid=,ppid= | awk -v root="$root" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      for (i = 1; i <= NR; i++) {
        p = pids[i]; q = parent[p]
        while (q != "" && q != 0 && q != 1) {
          if (q == root) { print p; break }
          q = parent[q]
        }
      }
    }' | while read -r p; do
    local t
    t=$(start_time "$p")
    [ -n "$t" ] && echo "$p $t"
  done
}

stop_dir() {
  local dir=$1 pid started
  [ -e "$dir/pid" ] || { rm -rf "$dir"; return 0; }
  pid=$(cat "$dir/pid")
  started=$(cat "$dir/started" 2>/dev/null || true)
  if [ -n "$started" ] && alive "$pid" "$started"; then
    local tree p t
    tree=$(descendants "$pid")
    # The master first (it would otherwise fork new sessions), then the sessions it had.
    kill -TERM "$pid" 2>/dev/null || true
    while read -r p t; do
      [ -n "$p" ] && alive "$p" "$t" && kill -TERM "$p" 2>/dev/null
    done <<<"$tree"
    local deadline=$((SECONDS + stop_timeout))
    while alive "$pid" "$started" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if alive "$pid" "$started"; then
      echo "peers: pid $pid ignored SIGTERM for ${stop_timeout}s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid" "$started"; do sleep 0.05; done
    fi
    while read -r p t; do
      [ -n "$p" ] && alive "$p" "$t" && kill -KILL "$p" 2>/dev/null
    done <<<"$tree"
  fi
  rm -rf "$dir"
}

stop() {
  local which=${1:-all}
  [ -d "$state_root" ] || return 0
  if [ "$which" = all ]; then
    local d
    for d in "$state_root"/127.*; do
      [ -d "$d" ] && stop_dir "$d"
    done
  elif [[ $which != *:* ]]; then
    # ADDR alone: every peer on that address, including one whose start was interrupted.
    local d
    for d in "$state_root/${which}"_*; do
      [ -d "$d" ] && stop_dir "$d"
    done
  else
    [ -d "$state_root/${which/:/_}" ] || die "no peer at $which"
    stop_dir "$state_root/${which/:/_}"
  fi
}

list() {
  [ -d "$state_root" ] || return 0
  local d
  for d in "$state_root"/127.*; do
    [ -e "$d/pid" ] || continue
    local state=dead
    alive "$(cat "$d/pid")" "$(cat "$d/started")" && state=running
    local name=${d##*/}
    echo "$(cat "$d/kind") ${name/_/:} $(cat "$d/pid") $state fxp=$(cat "$d/fxp") tls=$(cat "$d/tls" 2>/dev/null || echo no)"
  done
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  list) list ;;
  log)
    [ $# -eq 2 ] || die "usage: log ADDR:PORT"
    for f in output.log server.log xfer.log tls.log; do
      [ -s "$state_root/${2/:/_}/$f" ] && { echo "--- $f"; cat "$state_root/${2/:/_}/$f"; }
    done
    true ;;
  creds) echo "user=$test_user password=$test_password" ;;
  version) [ $# -eq 2 ] || die "usage: version KIND"; peer_version "$2" ;;
  setup-user) setup_user ;;
  tls-support) [ $# -eq 2 ] || die "usage: tls-support KIND"; tls_support "$2" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
