#!/usr/bin/python3
"""rsexec copy over FTPS (RFC 4217) between real FTP servers: which pairings protect the data.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/tls_matrix.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--out build] [--net 127.0.7]

A CA and one server certificate per address (subjectAltName=IP:ADDR) are made with the openssl
CLI in a temporary folder, plus a second, unrelated CA. TLS-enabled peers are started with
`scripts/peers.sh start KIND ADDR 0 ROOT --tls CERT KEY` (their own RSEXEC_PEERS_STATE, on
NET.x addresses no other test uses) and every pair below is copied with
`rsexec copy -v --tls required --ca-file CA --passive src|dst`:

  vsftpd -> vsftpd     vsftpd has neither SSCN nor CPSV: exit 13 with "neither server can take
                       the TLS client role", within seconds; with --allow-clear-data it copies
                       (byte-identical) and warns that the data crosses in clear.
  proftpd -> proftpd   mod_tls answers SSCN (when mod_tls.so is unpacked, see peers.sh).
  rsexecd <-> vsftpd, rsexecd <-> proftpd, vsftpd <-> proftpd, rsexecd -> rsexecd.

Also: --ca-file of the unrelated CA fails with exit 13 and a certificate error within seconds;
--tls required against a vsftpd without TLS fails with exit 13 and no PASS in the -v trace.

For each copy it records the exit code, how the data connection was protected (SSCN ON sent to
the server that became the TLS client, CPSV, or PROT C) and, for a failure, rsexec's error.
Prints a Markdown table and writes it to OUT/interop-tls.md. Exits 0 when every case behaves as
expected (EXPECT below), 1 otherwise. Every server is stopped by pid when the run ends.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import PEERS_SH, Peer, PeerError, REPO  # noqa: E402

TIMEOUT = 10          # rsexec --timeout
HARD_LIMIT = 60       # a copy still running after this is a hang
FAST = 5.0            # seconds within which a refusal must come (no waiting on a timeout)
MIB = 1024 * 1024
NO_ROLE = "neither server can take the TLS client role"
CLEAR_WARNING = "the data crosses in clear"

# "copied SRC -> DST: N bytes in S s (R MB/s), DIALECT with SIDE listening"
RESULT = re.compile(r"^copied .*: (\d+) bytes in [\d.]+ s \([\d.]+ MB/s\), "
                    r"(\w+) with (src|dst) listening$", re.M)

# Expected outcome per (source kind, destination kind): "ok" (copied, byte-identical, data
# under TLS) or "no-role" (exit 13, NO_ROLE, fast). The same for --passive src and dst.
EXPECT = {
    ("vsftpd", "vsftpd"): "no-role",
    ("proftpd", "proftpd"): "ok",
    ("rsexecd", "vsftpd"): "ok",
    ("vsftpd", "rsexecd"): "ok",
    ("rsexecd", "proftpd"): "ok",
    ("proftpd", "rsexecd"): "ok",
    ("vsftpd", "proftpd"): "ok",
    ("proftpd", "vsftpd"): "ok",
    ("rsexecd", "rsexecd"): "ok",
}

# Explicit --fxp-tls (and --dialect) choices: (source, destination, passive side, options).
# All expected to copy with the data under TLS.
EXPLICIT = [
    ("rsexecd", "rsexecd", "dst", ["--dialect", "epsv", "--fxp-tls", "sscn"]),
    ("rsexecd", "rsexecd", "dst", ["--dialect", "pasv", "--fxp-tls", "cpsv"]),
    ("rsexecd", "rsexecd", "src", ["--dialect", "pasv", "--fxp-tls", "cpsv"]),
    ("vsftpd", "rsexecd", "dst", ["--fxp-tls", "cpsv"]),
    ("rsexecd", "vsftpd", "src", ["--fxp-tls", "cpsv"]),
    ("vsftpd", "rsexecd", "src", ["--fxp-tls", "sscn"]),
    ("proftpd", "vsftpd", "dst", ["--fxp-tls", "sscn"]),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=rsexec interop %s" % name, "-keyout", name + ".key", "-out", name + ".pem",
            cwd=d)
    return os.path.join(d, name + ".pem")


def make_cert(d, ca, addr):
    """A certificate for addr signed by the CA named ca; returns (cert, key) paths."""
    base = "server-" + addr
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + addr,
            "-keyout", base + ".key", "-out", base + ".csr", cwd=d)
    with open(os.path.join(d, base + ".ext"), "w") as f:
        f.write("subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % addr)
    openssl("x509", "-req", "-in", base + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-extfile", base + ".ext", "-out", base + ".pem",
            cwd=d)
    return os.path.join(d, base + ".pem"), os.path.join(d, base + ".key")


class TlsPeer(Peer):
    """A Peer started with `peers.sh start ... --tls CERT KEY` (tls=None: without TLS)."""

    def __init__(self, kind, addr, root, tls):
        super().__init__(kind, addr, root)
        self.tls = tls

    def start(self):
        cmd = [PEERS_SH, "start", self.kind, self.addr, str(self.port), self.root]
        if self.tls:
            cmd += ["--tls", self.tls[0], self.tls[1]]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        except BaseException:
            self._stop_quietly()
            raise
        if done.returncode != 0:
            raise PeerError("%s on %s: peers.sh start failed:\n%s"
                            % (self.kind, self.addr, done.stderr))
        self.port = int(done.stdout.strip().splitlines()[-1].rsplit(":", 1)[1])
        self._running = True
        return self


class Run:
    """One `rsexec copy -v` and what it left."""

    def __init__(self, rsexec, src, dst, name, target, passive, extra, want_sha):
        self.args = [rsexec, "copy", "-v", "--timeout", str(TIMEOUT), "--passive", passive] + \
            extra + [src.url(name), dst.url(target)]
        self.target = dst.path(target)
        started = time.monotonic()
        try:
            done = subprocess.run(self.args, capture_output=True, text=True, timeout=HARD_LIMIT,
                                  stdin=subprocess.DEVNULL)
            self.rc, self.out, self.err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            self.rc = None
            self.out = (e.stdout or b"").decode(errors="replace") \
                if isinstance(e.stdout, bytes) else (e.stdout or "")
            self.err = (e.stderr or b"").decode(errors="replace") \
                if isinstance(e.stderr, bytes) else (e.stderr or "")
        self.elapsed = time.monotonic() - started
        self.trace = self.out + "\n" + self.err
        self.intact = (want_sha is not None and os.path.exists(self.target)
                       and sha256(self.target) == want_sha)
        m = RESULT.search(self.out)
        self.chose = "%s, %s listening" % (m.group(2), m.group(3)) if m else None

    def sent_any(self, command):
        """Whether rsexec sent command (a word, e.g. PASS) to either server."""
        return re.search(r"^(src|dst)> %s\b" % command, self.trace, re.M) is not None

    def sent(self, side, prefix):
        """Whether rsexec sent a command starting with prefix to side (src or dst)."""
        return re.search(r"^%s> %s" % (side, re.escape(prefix)), self.trace, re.M) is not None

    def protection(self):
        roles = []
        for side in ("src", "dst"):
            if self.sent(side, "SSCN ON"):
                roles.append("SSCN: %s is TLS client" % side)
            if self.sent(side, "CPSV"):
                roles.append("CPSV: %s listens, is TLS client" % side)
            if self.sent(side, "LSTN"):
                roles.append("LSTN/SOCK: %s listens, %s (SOCK connects) is TLS client"
                             % (side, "dst" if side == "src" else "src"))
        if self.sent("src", "PROT C") or self.sent("dst", "PROT C"):
            roles.append("PROT C (clear data)")
        return "; ".join(roles) or "-"

    def error(self):
        lines = [l for l in self.err.splitlines() if l.startswith("rsexec:")]
        return lines[-1] if lines else (self.err.strip().splitlines() or [""])[-1]

    def exit_text(self):
        return "hang (killed after %d s)" % HARD_LIMIT if self.rc is None else "exit %d" % self.rc


def md(s):
    return s.replace("|", "\\|")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rsexec", default=os.path.join(REPO, "build", "bin", "rsexec"))
    ap.add_argument("--rsexecd", default=None)
    ap.add_argument("--out", default=os.path.join(REPO, "build"))
    ap.add_argument("--net", default=os.environ.get("RSEXEC_INTEROP_TLS_NET", "127.0.7"),
                    help="first three octets of the loopback addresses")
    args = ap.parse_args()
    rsexec = os.path.abspath(args.rsexec)
    if args.rsexecd:
        os.environ["RSEXECD"] = os.path.abspath(args.rsexecd)
    if os.getuid() != 0:
        sys.exit("tls_matrix: run as root (vsftpd and proftpd chroot)")

    work = tempfile.mkdtemp(prefix="rsexec-tls-")
    os.chmod(work, 0o755)       # vsftpd changes into ROOT as the test user
    os.environ["RSEXEC_PEERS_STATE"] = os.path.join(work, "state")
    failures, rows, peers = [], [], []

    def check(cond, what):
        print("%s %s" % ("PASS" if cond else "FAIL", what), flush=True)
        if not cond:
            failures.append(what)

    try:
        pki = os.path.join(work, "pki")
        os.makedirs(pki)
        ca = make_ca(pki, "ca")
        wrong_ca = make_ca(pki, "other-ca")

        payload = os.urandom(MIB)
        want = hashlib.sha256(payload).hexdigest()

        kinds = ["vsftpd", "proftpd", "rsexecd"]
        missing = {}
        for kind in kinds:
            done = subprocess.run([PEERS_SH, "tls-support", kind], capture_output=True,
                                  text=True, timeout=30)
            if done.returncode != 0:
                missing[kind] = done.stderr.strip()
        # scripts/setup-interop.sh provides TLS for every kind (proftpd's mod_tls from
        # proftpd-mod-crypto): a kind without it is a broken setup, and docs/INTEROP.md's rows for
        # it would be unproven, so the test fails rather than leaving them out.
        if missing:
            raise RuntimeError("peers without TLS, their rows cannot be run: %s" % "; ".join(
                "%s: %s" % (kind, why) for kind, why in sorted(missing.items())))

        # Two servers of each kind (a, b) so that a same-kind pair has two hosts, and a vsftpd
        # without TLS.
        host = 10
        servers = {}
        for kind in kinds:
            for n in ("a", "b"):
                addr = "%s.%d" % (args.net, host)
                host += 1
                root = os.path.join(work, "root-%s-%s" % (kind, n))
                os.makedirs(root)
                with open(os.path.join(root, "src.bin"), "wb") as f:
                    f.write(payload)
                servers[(kind, n)] = TlsPeer(kind, addr, root, make_cert(pki, "ca", addr))
        plain = TlsPeer("vsftpd", "%s.%d" % (args.net, 30), os.path.join(work, "root-plain"),
                        None)
        os.makedirs(plain.root)
        with open(os.path.join(plain.root, "src.bin"), "wb") as f:
            f.write(payload)
        for p in list(servers.values()) + [plain]:
            peers.append(p)
            p.start()

        tls = ["--tls", "required", "--ca-file", ca]
        for (sk, dk), expect in EXPECT.items():
            src, dst = servers[(sk, "a")], servers[(dk, "b")]
            for passive in ("src", "dst"):
                target = "from-%s-%s-passive-%s.bin" % (sk, src.addr.rsplit(".", 1)[1], passive)
                r = Run(rsexec, src, dst, "src.bin", target, passive, tls, want)
                label = "%s -> %s --passive %s" % (sk, dk, passive)
                if expect == "ok":
                    ok = r.rc == 0 and r.intact and "PROT C" not in r.protection() \
                        and r.protection() != "-"
                    check(ok, "%s: copied byte-identical with TLS data (%s, %s, %s)"
                          % (label, r.exit_text(), r.protection(), r.error() if r.rc else "ok"))
                else:
                    ok = r.rc == 13 and NO_ROLE in r.err and r.elapsed < FAST \
                        and not os.path.exists(r.target)
                    check(ok, "%s: exit 13, \"%s\", in %.1f s < %.0f s (%s)"
                          % (label, NO_ROLE, r.elapsed, FAST, r.exit_text()))
                result = "copied" if r.rc == 0 and r.intact else "fails"
                rows.append((sk, dk, passive, r.exit_text(), result, r.protection(),
                             r.error() if r.rc != 0 else (r.chose or "")))
                if expect == "no-role":
                    # The fallback: clear data, with a warning.
                    r = Run(rsexec, src, dst, "src.bin", "clear-" + target, passive,
                            tls + ["--allow-clear-data"], want)
                    check(r.rc == 0 and r.intact and CLEAR_WARNING in r.err
                          and "PROT C" in r.protection(),
                          "%s --allow-clear-data: copied byte-identical, warned \"%s\" (%s)"
                          % (label, CLEAR_WARNING, r.exit_text()))
                    rows.append((sk, dk, passive + " (--allow-clear-data)", r.exit_text(),
                                 "copied" if r.rc == 0 and r.intact else "fails",
                                 r.protection(), r.error() if r.rc != 0 else "warning: " +
                                 next((l for l in r.err.splitlines() if "warning" in l), "")))

        for sk, dk, passive, opts in EXPLICIT:
            src, dst = servers[(sk, "a")], servers[(dk, "b")]
            target = "explicit-%s-%s-%s.bin" % (sk, passive, "-".join(o.strip("-") for o in opts))
            r = Run(rsexec, src, dst, "src.bin", target, passive, tls + opts, want)
            label = "%s -> %s --passive %s %s" % (sk, dk, passive, " ".join(opts))
            check(r.rc == 0 and r.intact and "PROT C" not in r.protection()
                  and r.protection() != "-",
                  "%s: copied byte-identical with TLS data (%s, %s, %s)"
                  % (label, r.exit_text(), r.protection(), r.error() if r.rc else "ok"))
            rows.append((sk, dk, "%s (%s)" % (passive, " ".join(opts)), r.exit_text(),
                         "copied" if r.rc == 0 and r.intact else "fails", r.protection(),
                         r.error() if r.rc != 0 else (r.chose or "")))

        # A CA that did not sign the servers' certificates.
        src, dst = servers[("vsftpd", "a")], servers[("rsexecd", "b")]
        r = Run(rsexec, src, dst, "src.bin", "wrong-ca.bin", "dst",
                ["--tls", "required", "--ca-file", wrong_ca], want)
        check(r.rc == 13 and re.search(r"certificate", r.err, re.I) is not None
              and r.elapsed < FAST and not os.path.exists(r.target),
              "unrelated --ca-file: exit 13, a certificate error, in %.1f s (%s: %s)"
              % (r.elapsed, r.exit_text(), r.error()))
        rows.append(("vsftpd", "rsexecd", "dst (--ca-file of another CA)", r.exit_text(),
                     "fails", r.protection(), r.error()))

        # --tls required against a server without TLS: no password may leave in clear.
        r = Run(rsexec, plain, plain, "src.bin", "no-tls.bin", "dst", tls, want)
        check(r.rc == 13 and not r.sent_any("PASS") and "> AUTH TLS" in r.trace
              and r.elapsed < FAST
              and not os.path.exists(r.target),
              "--tls required, vsftpd without TLS: exit 13, no PASS sent, in %.1f s (%s: %s)"
              % (r.elapsed, r.exit_text(), r.error()))
        rows.append(("vsftpd (no TLS)", "vsftpd (no TLS)", "dst", r.exit_text(), "fails",
                     "PASS sent" if r.sent_any("PASS") else "no PASS sent", r.error()))
    except Exception as e:   # a peer that cannot start is a failure, not a skip
        failures.append("%s: %s" % (type(e).__name__, e))
        print("FAIL %s: %s" % (type(e).__name__, e), flush=True)
    finally:
        if failures:
            # The servers' logs, before peers.sh stop removes their state folders.
            shutil.copytree(os.environ["RSEXEC_PEERS_STATE"], os.path.join(work, "logs"),
                            ignore_dangling_symlinks=True, dirs_exist_ok=True)
        for p in peers:
            try:
                p.stop(check=False)
            except Exception as e:
                print("warning: stopping %s: %s" % (p, e), file=sys.stderr)
        subprocess.run([PEERS_SH, "stop", "all"], capture_output=True, timeout=60)

    versions = []
    for kind in ("vsftpd", "proftpd", "rsexecd"):
        v = subprocess.run([PEERS_SH, "version", kind], capture_output=True, text=True,
                           timeout=30).stdout.strip()
        if v:
            versions.append(v)
    table = ["`rsexec copy -v --tls required --ca-file CA --passive SIDE` between TLS-enabled "
             "peers (`scripts/peers.sh start ... --tls CERT KEY`); %s." % ", ".join(versions),
             "",
             "| source | destination | passive side | exit | result | data connection | "
             "detail |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        table.append("| " + " | ".join(md(str(c)) for c in row) + " |")
    text = "\n".join(table) + "\n"
    print()
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "interop-tls.md"), "w") as f:
        f.write(text)

    if failures:
        print("%d failure(s); the temporary folder %s is kept" % (len(failures), work))
        for f in failures:
            print("  " + f)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("all TLS interop cases behave as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
