"""rsexec copy and batch over FTPS between two real rsexecd with TLS.

    /usr/bin/python3 test_tls_copy.py RSEXEC RSEXECD [GROUP]

GROUP is one of: copy, batch, failures, capture (all when omitted). Certificates are made here
with the openssl CLI: a test CA and one certificate per server address (subjectAltName IP).
The servers listen on 127.0.0.91 and 127.0.0.92. The capture group needs root (tcpdump on lo).
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
SRC_ADDR, DST_ADDR = "127.0.0.91", "127.0.0.92"
FXP = ["--fxp-peers", "127.0.0.0/8"]
TLS_EXIT = 13


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


class Certificates:
    """A CA, a certificate per address signed by it, and an unrelated CA."""

    def __init__(self, folder, addresses):
        self.folder = folder
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=rsexec test CA", cwd=folder)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem",
                "-days", "2", "-subj", "/CN=unrelated CA", cwd=folder)
        for address in addresses:
            with open(os.path.join(folder, address + ".ext"), "w") as f:
                f.write("subjectAltName=IP:%s\n" % address)
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", address + ".key", "-out", address + ".csr",
                    "-subj", "/CN=" + address, cwd=folder)
            openssl("x509", "-req", "-in", address + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                    "-CAcreateserial", "-out", address + ".pem", "-days", "2", "-extfile", address + ".ext",
                    cwd=folder)
        self.ca = os.path.join(folder, "ca.pem")
        self.other_ca = os.path.join(folder, "other.pem")

    def server_args(self, address, *extra):
        return FXP + ["--tls-cert", os.path.join(self.folder, address + ".pem"),
                      "--tls-key", os.path.join(self.folder, address + ".key")] + list(extra)


def url(server, path="", scheme="ftp"):
    return "%s://%s:%s@%s:%d/%s" % (scheme, USER, PASSWORD, server.address, server.port, path)



def run(args, timeout=60):
    started = time.monotonic()
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    result.elapsed = time.monotonic() - started
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def tls_data_lines(server):
    return [l for l in server.log().splitlines() if re.search(r"data connection is TLS", l)]


def test_copy(tmp, certs):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=certs.server_args(SRC_ADDR)) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=certs.server_args(DST_ADDR)) as dst:
        write_random(src.path("f.bin"), 3 * 1024 * 1024 + 17)
        cases = [(dialect, passive, method) for dialect in ("auto", "pasv", "epsv") for passive in ("src", "dst")
                 for method in ("auto", "sscn")] + [("pasv", "src", "cpsv"), ("pasv", "dst", "cpsv")]
        for dialect, passive, method in cases:
            label = "--dialect %s --passive %s --fxp-tls %s" % (dialect, passive, method)
            name = "copy-%s-%s-%s.bin" % (dialect, passive, method)
            tls_before = len(tls_data_lines(dst))
            result = run(["copy", "-v", "--tls", "required", "--ca-file", certs.ca, "--dialect", dialect,
                          "--passive", passive, "--fxp-tls", method, url(src, "f.bin"), url(dst, name)])
            check(result.returncode == 0, "%s: exit %d: %s" % (label, result.returncode, result.stderr[-1500:]))
            check(digest(dst.path(name)) == digest(src.path("f.bin")), label + ": copy differs")
            trace = result.stderr
            check("src> AUTH TLS" in trace and "dst> PROT P" in trace, label + ": no AUTH TLS / PROT P")
            check(len(tls_data_lines(dst)) > tls_before, label + ": the destination's data connection was not TLS")
            if method == "sscn" and dialect != "auto":
                check("> SSCN ON" in trace, label + ": SSCN ON not sent")
            if method == "cpsv":
                check("> CPSV" in trace and "> SSCN ON" not in trace, label + ": CPSV not used")
            print("ok: TLS copy %s" % label)

        # ftps://: TLS from the first byte, on servers started that way.
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=certs.server_args(SRC_ADDR, "--implicit-tls")) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=certs.server_args(DST_ADDR, "--implicit-tls")) as dst:
        write_random(src.path("g.bin"), 100000)
        result = run(["copy", "-v", "--ca-file", certs.ca, url(src, "g.bin", "ftps"), url(dst, "g.bin", "ftps")])
        check(result.returncode == 0, "ftps://: exit %d: %s" % (result.returncode, result.stderr[-1500:]))
        check("> AUTH TLS" not in result.stderr, "ftps:// sent AUTH TLS")
        check(digest(dst.path("g.bin")) == digest(src.path("g.bin")), "ftps:// copy differs")
        print("ok: ftps:// (implicit TLS) copy")


def test_batch(tmp, certs):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=certs.server_args(SRC_ADDR)) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=certs.server_args(DST_ADDR)) as dst:
        names = ["t%02d.bin" % i for i in range(30)]
        for i, name in enumerate(names):
            write_random(src.path("set", name), 1000 * i)
        job = os.path.join(tmp, "tls.job")
        for pipeline in ("block", "commands", "off"):
            out = "out-" + pipeline
            os.makedirs(dst.path(out))
            with open(job, "w") as f:
                f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, out + "/")) for n in names)
            result = run(["batch", "-j", "2", "--no-journal", "--json", "--tls", "required", "--ca-file", certs.ca,
                          "--pipeline", pipeline, "--dialect", "pasv", job], timeout=120)
            check(result.returncode == 0, "batch %s: exit %d: %s" % (pipeline, result.returncode, result.stderr[-1500:]))
            summary = json.loads(result.stdout.splitlines()[-1])
            check(summary["done"] == len(names), "batch %s: %s" % (pipeline, summary))
            for name in names:
                check(digest(dst.path(out, name)) == digest(src.path("set", name)), "batch %s: %s differs" % (pipeline, name))
            print("ok: TLS batch --pipeline %s: %d files" % (pipeline, summary["done"]))

        # mirror lists both trees over TLS data connections (rsexec the TLS client) too.
        result = run(["mirror", "--json", "--tls", "required", "--ca-file", certs.ca, url(src, "set/"),
                      url(dst, "mirrored/")], timeout=120)
        check(result.returncode == 0, "TLS mirror: exit %d: %s" % (result.returncode, result.stderr[-1500:]))
        for name in names:
            check(digest(dst.path("mirrored", name)) == digest(src.path("set", name)), "TLS mirror: %s differs" % name)
        again = run(["mirror", "--json", "--tls", "required", "--ca-file", certs.ca, url(src, "set/"),
                     url(dst, "mirrored/")], timeout=120)
        check(again.returncode == 0 and again.stdout.strip() and json.loads(again.stdout.splitlines()[-1])["done"] == 0,
              "second TLS mirror: exit %d: %s %s" % (again.returncode, again.stdout[-300:], again.stderr[-1500:]))
        print("ok: TLS mirror, listings over TLS; a second run copies nothing")


def test_failures(tmp, certs):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=certs.server_args(SRC_ADDR)) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=FXP) as plain:
        write_random(src.path("f.bin"), 1000)
        # A certificate from another CA: a certificate error and exit 13, at once.
        result = run(["copy", "--tls", "required", "--ca-file", certs.other_ca, url(src, "f.bin"), url(plain, "x")])
        check(result.returncode == TLS_EXIT, "wrong CA: exit %d: %s" % (result.returncode, result.stderr))
        check("certificate" in result.stderr, "wrong CA: no certificate error: " + result.stderr)
        check(result.elapsed < 10, "wrong CA took %.1f s" % result.elapsed)
        check(not os.path.exists(plain.path("x")), "wrong CA: something was created")
        print("ok: an unknown CA fails with exit 13 in %.1f s: %s" % (result.elapsed, result.stderr.strip()[-160:]))

        # --tls required against a server without TLS: exit 13 and no PASS sent to it.
        write_random(plain.path("p.bin"), 1000)
        result = run(["copy", "-v", "--tls", "required", "--ca-file", certs.ca, url(plain, "p.bin"), url(src, "p.bin")])
        check(result.returncode == TLS_EXIT, "no TLS at src: exit %d: %s" % (result.returncode, result.stderr[-800:]))
        check("src> PASS" not in result.stderr, "PASS sent in clear to a server without TLS")
        check("src> AUTH TLS" in result.stderr, "AUTH TLS not asked")
        print("ok: --tls required refuses a server without TLS before PASS")

        # TLS on one side only: the data between them cannot be protected; --relay never keeps
        # them apart (exit 13), auto relays (tests/integration/test_relay_checks.py), and
        # --allow-clear-data pairs them in clear.
        result = run(["copy", "--relay", "never", "--tls", "optional", "--ca-file", certs.ca, url(src, "f.bin"),
                      url(plain, "f.bin")])
        check(result.returncode == TLS_EXIT and "--allow-clear-data" in result.stderr,
              "TLS on one side: exit %d: %s" % (result.returncode, result.stderr))
        result = run(["copy", "--tls", "optional", "--allow-clear-data", "--ca-file", certs.ca, url(src, "f.bin"),
                      url(plain, "f.bin")])
        check(result.returncode == 0, "--allow-clear-data: exit %d: %s" % (result.returncode, result.stderr))
        check("in clear" in result.stderr, "no warning for clear data: " + result.stderr)
        check(digest(plain.path("f.bin")) == digest(src.path("f.bin")), "--allow-clear-data copy differs")
        print("ok: TLS on one server only: exit 13 with --relay never, or a clear copy with a warning when allowed")


class Capture:
    """tcpdump on lo for the servers' control ports, started by pid, stopped by SIGINT."""

    def __init__(self, path, servers):
        expression = " or ".join("port %d" % s.port for s in servers)
        # --immediate-mode: each packet is handed over as it comes, not in timed batches.
        self.process = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-w", path, expression],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.path = path
        # tcpdump says "listening on lo" once capturing: wait for that, not a time.
        deadline = time.monotonic() + 20
        line = b""
        while b"listening on" not in line and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
        check(b"listening on" in line, "tcpdump did not start: %r" % line)
        # "listening" may come before packets are seen: knock on a captured port until the
        # capture file grows past its 24-byte header.
        while os.path.getsize(path) <= 24 and time.monotonic() < deadline:
            try:
                socket.create_connection((servers[0].address, servers[0].port), timeout=1).close()
            except OSError:
                pass
            time.sleep(0.05)
        check(os.path.getsize(path) > 24, "tcpdump captured nothing")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)
        self.process.stderr.close()
        with open(self.path, "rb") as f:
            return f.read()


def test_capture(tmp, certs):
    if os.geteuid() != 0:
        raise AssertionError("the capture group needs root (tcpdump on lo)")
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=certs.server_args(SRC_ADDR, "--tls", "required")) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=certs.server_args(DST_ADDR)) as dst:
        write_random(src.path("f.bin"), 50000)
        # The control: a clear login to dst is seen in the capture, so the capture sees logins.
        capture = Capture(os.path.join(tmp, "clear.pcap"), [dst])
        result = run(["copy", "--tls", "off", url(dst, "nothing"), url(dst, "y")])
        clear = capture.stop()
        check(b"PASS " + PASSWORD.encode() in clear, "the capture did not see a clear login (%d bytes)" % len(clear))

        capture = Capture(os.path.join(tmp, "tls.pcap"), [src, dst])
        result = run(["copy", "--tls", "required", "--ca-file", certs.ca, url(src, "f.bin"), url(dst, "f.bin")])
        packets = capture.stop()
        check(result.returncode == 0, "TLS copy: exit %d: %s" % (result.returncode, result.stderr))
        check(len(packets) > 2000, "capture too small to mean anything: %d bytes" % len(packets))
        check(b"PASS" not in packets and PASSWORD.encode() not in packets, "PASS crossed in clear")
        check(b"USER " not in packets, "USER crossed in clear")
        print("ok: with --tls required no PASS or USER crosses in clear (%d bytes captured)" % len(packets))

        # A server that requires TLS refuses a clear login outright.
        result = run(["copy", "--tls", "off", url(src, "f.bin"), url(dst, "z.bin")])
        check(result.returncode == 4, "clear login to --tls required: exit %d: %s" % (result.returncode, result.stderr))
        print("ok: rsexecd --tls required refuses a clear login (exit 4)")


GROUPS = {"copy": test_copy, "batch": test_batch, "failures": test_failures, "capture": test_capture}

if __name__ == "__main__":
    chosen = sys.argv[3:] or list(GROUPS)
    with tempfile.TemporaryDirectory(prefix="rsexec-tls-certs-") as cert_dir:
        certificates = Certificates(cert_dir, [SRC_ADDR, DST_ADDR])
        for group in chosen:
            with tempfile.TemporaryDirectory(prefix="rsexec-tls-test-") as tmp:
                GROUPS[group](tmp, certificates)
