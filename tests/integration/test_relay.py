"""The relay: rsexec copies through itself when the servers refuse to connect to each other.

    /usr/bin/python3 test_relay.py RSEXEC RSEXECD GROUP

GROUP is one of copy, verify, resume, stall, tls, kill, memory, batch, local. The servers are
rsexecd without --fxp-peers (they refuse every pairing) on 127.0.0.151 and 127.0.0.152;
127.0.0.153 holds a scripted server (tests/faults/hostile_server.py) or a TLS rsexecd. Every
process is stopped by its pid; every wait is bounded.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from hostile_fixture import HostileServer  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
SRC_ADDR, DST_ADDR, OTHER_ADDR = "127.0.0.151", "127.0.0.152", "127.0.0.153"
NO_FXP = ["--data-timeout", "5"]
RELAY_LINE = "relaying: the servers refuse to connect to each other"
PAIRING_EXIT, TIMEOUT_EXIT = 7, 10
PAIRING_VERBS = re.compile(r"(?m)^(src|dst)> (PORT|EPRT|LSTN|SOCK|CPSV|SSCN ON)\b")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120):
    started = time.monotonic()
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    result.elapsed = time.monotonic() - started
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def describe(result):
    return "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout[-1500:], result.stderr[-3000:])


def parts_in(root):
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if f.endswith(".rsexec-part")]
    return found


def wait_for(condition, what, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("gave up waiting for " + what)


def pair():
    return RsexecdServer(RSEXECD, SRC_ADDR, extra_args=NO_FXP), RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP)


def test_copy(tmp):
    src, dst = pair()
    with src, dst:
        write_random(src.path("f.bin"), 5 * 1024 * 1024 + 3)
        # auto (the default): every pairing is refused, the copy goes through rsexec, said once.
        result = run(["copy", url(src, "f.bin"), url(dst, "f.bin")])
        check(result.returncode == 0, "auto: " + describe(result))
        check(result.stderr.count(RELAY_LINE) == 1, "auto: the relay not said exactly once: " + describe(result))
        check("relayed through rsexec" in result.stdout, "auto: result line: " + describe(result))
        check(digest(dst.path("f.bin")) == digest(src.path("f.bin")), "auto: the copy differs")
        check(parts_in(dst.root) == [], "auto: a temporary file is left: %s" % parts_in(dst.root))
        print("ok: --relay auto copies through rsexec and says so once")

        # The temporary name and its rename, as for a direct copy.
        result = run(["copy", "-v", url(src, "f.bin"), url(dst, "g.bin")])
        check(result.returncode == 0, "trace: " + describe(result))
        check(re.search(r"(?m)^dst> STOR \.g\.bin\.rsexec-part$", result.stderr), "no STOR to the temporary name: "
              + describe(result))
        check(re.search(r"(?m)^dst> RNTO g\.bin$", result.stderr), "no rename: " + describe(result))
        print("ok: a relayed copy is written under its temporary name and renamed")

        # never: today's refusal, exit 7, nothing at the destination.
        result = run(["copy", "--relay", "never", url(src, "f.bin"), url(dst, "never.bin")])
        check(result.returncode == PAIRING_EXIT, "never: " + describe(result))
        check(RELAY_LINE not in result.stderr, "never: relayed anyway: " + describe(result))
        check(not os.path.exists(dst.path("never.bin")) and parts_in(dst.root) == [], "never: something was created")
        print("ok: --relay never fails with exit 7")

        # always: the servers are never asked to connect to each other.
        result = run(["copy", "-v", "--relay", "always", url(src, "f.bin"), url(dst, "always.bin")])
        check(result.returncode == 0, "always: " + describe(result))
        sent = PAIRING_VERBS.search(result.stderr)
        check(not sent, "always: a pairing command was sent: %s" % (sent.group(0) if sent else ""))
        check(re.search(r"(?m)^src> (PASV|EPSV)$", result.stderr) and re.search(r"(?m)^dst> (PASV|EPSV)$", result.stderr),
              "always: no passive data connection on both: " + describe(result))
        check(RELAY_LINE not in result.stderr, "always: said the servers refuse: " + describe(result))
        check(digest(dst.path("always.bin")) == digest(src.path("f.bin")), "always: the copy differs")
        print("ok: --relay always sends no PORT/EPRT/LSTN/SOCK and copies")

        # A bad value is a usage error.
        result = run(["copy", "--relay", "sometimes", url(src, "f.bin"), url(dst, "x.bin")])
        check(result.returncode == 2 and "--relay must be" in result.stderr, "bad --relay: " + describe(result))
        print("ok: --relay sometimes is exit 2")

        # An empty file and a missing source.
        write_random(src.path("empty.bin"), 0)
        result = run(["copy", url(src, "empty.bin"), url(dst, "empty.bin")])
        check(result.returncode == 0 and os.path.getsize(dst.path("empty.bin")) == 0, "empty: " + describe(result))
        result = run(["copy", url(src, "missing.bin"), url(dst, "missing.bin")])
        check(result.returncode == 5, "missing source: " + describe(result))
        check(not os.path.exists(dst.path("missing.bin")) and parts_in(dst.root) == [], "missing: something created")
        print("ok: an empty file relays; a missing source is exit 5 and creates nothing")


def test_verify(tmp):
    src, dst = pair()
    with src, dst:
        write_random(src.path("v.bin"), 3 * 1024 * 1024 + 1)
        result = run(["copy", "-v", "--verify", "checksum", url(src, "v.bin"), url(dst, "v.bin")])
        check(result.returncode == 0, "checksum: " + describe(result))
        check(re.search(r"(?m)^(src|dst)> (HASH|XSHA256) ", result.stderr), "no server checksum asked: "
              + describe(result))
        check(digest(src.path("v.bin")) in result.stderr, "the SHA-256 is not reported: " + describe(result))
        check(digest(dst.path("v.bin")) == digest(src.path("v.bin")), "the copy differs")
        print("ok: a relayed copy with --verify checksum compares both servers' digests")

    # A source that offers no checksum at all (the scripted server): rsexec hashes the stream.
    with tempfile.TemporaryDirectory(prefix="rsexec-relay-") as root, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        write_random(os.path.join(root, "s.bin"), 2 * 1024 * 1024 + 5)
        with Hostile("well-behaved", root) as source:
            result = run(["copy", "-v", "--verify", "checksum", source.url("s.bin"), url(dst, "s.bin")])
        check(result.returncode == 0, "stream digest: " + describe(result))
        expected = digest(os.path.join(root, "s.bin"))
        check("SHA-256 of the relayed stream: " + expected in result.stderr, "stream digest not reported: "
              + describe(result))
        check(digest(dst.path("s.bin")) == expected, "stream digest: the copy differs")
        print("ok: --verify checksum with a server offering none: rsexec's own SHA-256 of the stream")


def test_resume(tmp):
    src, dst = pair()
    with src, dst:
        write_random(src.path("r.bin"), 4 * 1024 * 1024)
        with open(src.path("r.bin"), "rb") as f:
            prefix = f.read(1500000)
        with open(dst.path(".r.bin.rsexec-part"), "wb") as f:
            f.write(prefix)
        result = run(["copy", "-v", "--resume", "--verify", "checksum", url(src, "r.bin"), url(dst, "r.bin")])
        check(result.returncode == 0, "resume: " + describe(result))
        check(re.search(r"(?m)^src> REST 1500000$", result.stderr), "no REST: " + describe(result))
        check(re.search(r"(?m)^dst> APPE \.r\.bin\.rsexec-part$", result.stderr), "no APPE: " + describe(result))
        check(digest(dst.path("r.bin")) == digest(src.path("r.bin")), "resume: the copy differs")
        check(parts_in(dst.root) == [], "resume: a temporary file is left")
        sent = [l for l in src.transfers("RETR") if "r.bin" in l]
        check(sent and re.search(r"bytes=%d\b" % (4 * 1024 * 1024 - 1500000), sent[-1]),
              "the source sent more than the rest: %s" % sent)
        print("ok: --resume relays from byte 1500000 (REST on the source, APPE on the destination)")


def Hostile(script, root):
    """tests/faults/hostile_server.py on OTHER_ADDR serving `root`, stopped by its pid."""
    return HostileServer(script, OTHER_ADDR, root, credentials=(USER, PASSWORD))


def test_stall(tmp):
    # The source answers RETR with 150 and then sends nothing: the relayed transfer stalls and
    # is given up after --timeout, naming the source; nothing stays at the destination.
    with tempfile.TemporaryDirectory(prefix="rsexec-relay-") as root, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        write_random(os.path.join(root, "h.bin"), 100000)
        with Hostile("hang-after-150", root) as source:
            result = run(["copy", "--relay", "always", "--timeout", "2", source.url("h.bin"), url(dst, "h.bin")],
                         timeout=60)
        check(result.returncode == TIMEOUT_EXIT, "stall: " + describe(result))
        check("src" in result.stderr and "timeout" in result.stderr, "stall: the source not named: " + describe(result))
        check(result.elapsed < 20, "stall: took %.1f s" % result.elapsed)
        check(not os.path.exists(dst.path("h.bin")) and parts_in(dst.root) == [], "stall: something left at dst")
        print("ok: a relayed transfer whose source stops sending ends after the stall timeout (exit 10)")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def test_tls(tmp):
    # A CA and a certificate for OTHER_ADDR: the source speaks TLS, the destination does not.
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=relay test CA", cwd=tmp)
    with open(os.path.join(tmp, "s.ext"), "w") as f:
        f.write("subjectAltName=IP:%s\n" % OTHER_ADDR)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=" + OTHER_ADDR,
            cwd=tmp)
    openssl("x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "s.pem",
            "-days", "2", "-extfile", "s.ext", cwd=tmp)
    tls_args = NO_FXP + ["--tls-cert", os.path.join(tmp, "s.pem"), "--tls-key", os.path.join(tmp, "s.key")]
    with RsexecdServer(RSEXECD, OTHER_ADDR, extra_args=tls_args) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        write_random(src.path("t.bin"), 3 * 1024 * 1024 + 7)
        ca = os.path.join(tmp, "ca.pem")
        result = run(["copy", "-v", "--relay", "always", "--tls", "optional", "--ca-file", ca, url(src, "t.bin"),
                      url(dst, "t.bin")])
        check(result.returncode == 0, "TLS on one side: " + describe(result))
        check("src> PROT P" in result.stderr, "TLS on one side: no PROT P at the source: " + describe(result))
        check(re.search(r"RETR /t\.bin: data connection is TLS", src.log()), "the source's data connection was not TLS:\n"
              + src.log()[-2000:])
        check(digest(dst.path("t.bin")) == digest(src.path("t.bin")), "TLS on one side: the copy differs")
        print("ok: relayed from a TLS source (data under TLS, rsexec the TLS client) to a clear destination")

        # The certificate is checked as for a direct copy.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "o.key", "-out", "o.pem", "-days", "2",
                "-subj", "/CN=unrelated", cwd=tmp)
        result = run(["copy", "--relay", "always", "--tls", "optional", "--ca-file", os.path.join(tmp, "o.pem"),
                      url(src, "t.bin"),
                      url(dst, "u.bin")])
        check(result.returncode == 13 and "certificate" in result.stderr, "unknown CA: " + describe(result))
        check(not os.path.exists(dst.path("u.bin")), "unknown CA: something was created")
        print("ok: an unknown CA still fails with exit 13 before any byte is relayed")


def test_kill(tmp):
    # rsexec killed (SIGKILL) in the middle of a relayed copy: the final name never appears.
    src, dst = pair()
    with src, dst:
        size = 200 * 1024 * 1024
        write_random(src.path("k.bin"), size)
        process = subprocess.Popen([RSEXEC, "copy", "--relay", "always", url(src, "k.bin"), url(dst, "k.bin")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        part = dst.path(".k.bin.rsexec-part")
        try:
            wait_for(lambda: os.path.exists(part) and os.path.getsize(part) > 0 or process.poll() is not None,
                     "the temporary file to grow")
            check(process.poll() is None, "the copy ended before it could be killed; make the file bigger")
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
            process.stdout.close()
            process.stderr.close()
        # The destination sees its data connection close: whatever it stores stays temporary.
        wait_for(lambda: re.search(r"STOR \.k\.bin\.rsexec-part", dst.log()) is not None, "the STOR in the log", 10)
        time.sleep(0.5)  # not a wait for a condition: a last look after the server has had its chance
        check(not os.path.exists(dst.path("k.bin")), "a killed relay left a file under the final name")
        print("ok: a killed relay leaves no file under the final name (%d bytes under the temporary one)"
              % (os.path.getsize(part) if os.path.exists(part) else 0))


def max_rss_kib(args):
    """Runs rsexec and returns (exit status, stderr, its own peak RSS in KiB): VmHWM from
    /proc/PID/status, read until it exits (rusage's maxrss would count the forking Python)."""
    err_path = os.path.join(tempfile.gettempdir(), "rsexec-relay-rss-%d.err" % os.getpid())
    with open(err_path, "w+") as err:
        process = subprocess.Popen([RSEXEC] + args, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        deadline = time.monotonic() + 150
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with open("/proc/%d/status" % process.pid) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        err.seek(0)
        text = err.read()
    os.remove(err_path)
    check(peak > 0, "no VmHWM read for rsexec")
    return process.returncode, text, peak


def test_memory(tmp):
    src, dst = pair()
    with src, dst:
        write_random(src.path("small.bin"), 1000)
        size = 256 * 1024 * 1024
        write_random(src.path("big.bin"), size)
        code, err, small = max_rss_kib(["copy", "--relay", "always", url(src, "small.bin"), url(dst, "small.bin")])
        check(code == 0, "small: exit %d: %s" % (code, err))
        code, err, big = max_rss_kib(["copy", "--relay", "always", url(src, "big.bin"), url(dst, "big.bin")])
        check(code == 0, "splice: exit %d: %s" % (code, err))
        check(digest(dst.path("big.bin")) == digest(src.path("big.bin")), "splice: the copy differs")
        check(big - small < 8 * 1024, "splice: 256 MiB relayed grew rsexec's RSS by %d KiB (%d -> %d)"
              % (big - small, small, big))
        print("ok: 256 MiB relayed (splice) with peak RSS %d KiB, %d KiB above a 1000-byte copy" % (big, big - small))

    # The buffered pump: a source without checksums and --verify checksum make rsexec hash the
    # stream, so every byte passes through its buffer.
    with RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        write_random(os.path.join(tmp, "src", "big.bin"), 128 * 1024 * 1024)
        with Hostile("well-behaved", os.path.join(tmp, "src")) as source:
            code, err, small = max_rss_kib(["copy", "--relay", "always", source.url("missing-is-fine"),
                                            url(dst, "none.bin")])
            code, err, big = max_rss_kib(["copy", "-v", "--relay", "always", "--verify", "checksum",
                                          source.url("big.bin"), url(dst, "big.bin")])
        check(code == 0, "buffered: exit %d: %s" % (code, err))
        check("SHA-256 of the relayed stream" in err, "buffered: the stream was not hashed: " + err[-1500:])
        check(digest(dst.path("big.bin")) == digest(os.path.join(tmp, "src", "big.bin")), "buffered: the copy differs")
        check(big - small < 8 * 1024, "buffered: 128 MiB relayed grew rsexec's RSS by %d KiB (%d -> %d)"
              % (big - small, small, big))
        print("ok: 128 MiB relayed (buffered, hashed) with peak RSS %d KiB, %d KiB above a failed copy"
              % (big, big - small))


def test_batch(tmp):
    src, dst = pair()
    with src, dst:
        names = ["b%02d.bin" % i for i in range(12)]
        for i, name in enumerate(names):
            write_random(src.path("set", name), 5000 * i)
        os.makedirs(dst.path("out"))
        job = os.path.join(tmp, "relay.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, "out/")) for n in names)
        result = run(["batch", "-j", "2", "--no-journal", "--json", job])
        check(result.returncode == 0, "batch: " + describe(result))
        check(result.stderr.count(RELAY_LINE) == 1, "batch: the relay not said exactly once: " + describe(result))
        events = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        done = [e for e in events if e.get("event") == "done"]
        check(len(done) == len(names) and all(e.get("relay") is True for e in done),
              "batch: done events without \"relay\": true: %s" % done[:3])
        for name in names:
            check(digest(dst.path("out", name)) == digest(src.path("set", name)), "batch: %s differs" % name)
        print("ok: a batch between servers without FXP relays every item, \"relay\": true, said once")

        # The job file's "relay" field: "never" for one item makes that one fail with exit 7.
        with open(job, "w") as f:
            f.write(json.dumps({"src": url(src, "set/b01.bin"), "dst": url(dst, "never/"), "relay": "never"}) + "\n")
            f.write(json.dumps({"src": url(src, "set/b02.bin"), "dst": url(dst, "out/again.bin")}) + "\n")
        os.makedirs(dst.path("never"))
        result = run(["batch", "--no-journal", "--json", "--retries", "0", job])
        events = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        failed = [e for e in events if e.get("event") == "error"]
        check(len(failed) == 1 and failed[0].get("exit_code") == PAIRING_EXIT, "job field relay never: "
              + describe(result))
        check(digest(dst.path("out", "again.bin")) == digest(src.path("set", "b02.bin")), "the other item differs")
        bad = os.path.join(tmp, "bad.job")
        with open(bad, "w") as f:
            f.write(json.dumps({"src": url(src, "set/b01.bin"), "dst": url(dst, "x/"), "relay": "sometimes"}) + "\n")
        result = run(["batch", "--no-journal", bad])
        check(result.returncode == 2 and "\"relay\" must be" in result.stderr, "bad job field: " + describe(result))
        print("ok: the job file's \"relay\" field: never fails that item with exit 7; a bad value is refused")


def test_local(tmp):
    # file:///abs/path and /abs/path on either side: downloads and uploads on the relay's data
    # path, written under a temporary name and renamed, never half a file under the final name.
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=NO_FXP) as server:
        write_random(server.path("d.bin"), 3 * 1024 * 1024 + 11)
        inbox = os.path.join(tmp, "in")
        os.makedirs(inbox)
        result = run(["copy", "-v", url(server, "d.bin"), inbox + "/"])
        check(result.returncode == 0, "download: " + describe(result))
        check("downloaded" in result.stdout, "download: result line: " + describe(result))
        check(digest(os.path.join(inbox, "d.bin")) == digest(server.path("d.bin")), "download: the copy differs")
        check(parts_in(inbox) == [], "download: a temporary file is left")
        result = run(["copy", url(server, "d.bin"), "file://" + inbox + "/named%20copy.bin"])
        check(result.returncode == 0, "download to file://: " + describe(result))
        check(digest(os.path.join(inbox, "named copy.bin")) == digest(server.path("d.bin")), "file:// copy differs")
        print("ok: downloads to a plain path's directory and to a file:// URL")

        # Resume a local temporary file.
        with open(server.path("d.bin"), "rb") as f:
            prefix = f.read(1000000)
        with open(os.path.join(inbox, ".r.bin.rsexec-part"), "wb") as f:
            f.write(prefix)
        result = run(["copy", "-v", "--resume", url(server, "d.bin"), os.path.join(inbox, "r.bin")])
        check(result.returncode == 0, "local resume: " + describe(result))
        check(re.search(r"(?m)^src> REST 1000000$", result.stderr), "local resume: no REST: " + describe(result))
        check(digest(os.path.join(inbox, "r.bin")) == digest(server.path("d.bin")), "local resume: the copy differs")
        print("ok: a download resumes its local temporary file (REST)")

        # Uploads: the temporary name on the server, then RNFR/RNTO.
        source = os.path.join(tmp, "up load.bin")
        write_random(source, 2 * 1024 * 1024 + 5)
        result = run(["copy", "-v", "--verify", "checksum", source, url(server, "u.bin")])
        check(result.returncode == 0, "upload: " + describe(result))
        check(re.search(r"(?m)^dst> STOR \.u\.bin\.rsexec-part$", result.stderr), "upload: no temporary STOR: "
              + describe(result))
        check(re.search(r"(?m)^dst> RNTO u\.bin$", result.stderr), "upload: no rename: " + describe(result))
        check("SHA-256 of the copy: " + digest(source) in result.stderr, "upload: no SHA-256: " + describe(result))
        check(digest(server.path("u.bin")) == digest(source), "upload: the copy differs")
        result = run(["copy", "file://" + os.path.join(tmp, "up%20load.bin"), url(server, "")])
        check(result.returncode == 0 and "uploaded" in result.stdout, "upload from file://: " + describe(result))
        check(digest(server.path("up load.bin")) == digest(source), "upload from file://: the copy differs")
        check(parts_in(server.root) == [], "upload: a temporary file is left")
        print("ok: uploads from a plain path and a file:// URL, temporary name and rename, --verify checksum")

        # Refused: both sides local; a missing local source creates nothing.
        result = run(["copy", source, os.path.join(tmp, "x.bin")])
        check(result.returncode == 2, "both local: " + describe(result))
        result = run(["copy", os.path.join(tmp, "missing.bin"), url(server, "m.bin")])
        check(result.returncode == 5 and not os.path.exists(server.path("m.bin")), "missing local: " + describe(result))
        print("ok: both sides local is exit 2; a missing local source is exit 5")

        # rsexec killed in the middle of a download: the final name never appears.
        write_random(server.path("k.bin"), 300 * 1024 * 1024)
        final = os.path.join(inbox, "k.bin")
        part = os.path.join(inbox, ".k.bin.rsexec-part")
        process = subprocess.Popen([RSEXEC, "copy", url(server, "k.bin"), final], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(part) and os.path.getsize(part) > 0 or process.poll() is not None,
                     "the local temporary file to grow")
            check(process.poll() is None, "the download ended before it could be killed; make the file bigger")
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        check(not os.path.exists(final), "a killed download left a file under the final name")
        print("ok: a killed download leaves no file under the final name")


def main():
    group = sys.argv[3] if len(sys.argv) > 3 else ""
    tests = {"copy": test_copy, "verify": test_verify, "resume": test_resume, "stall": test_stall, "tls": test_tls,
             "kill": test_kill, "memory": test_memory, "batch": test_batch, "local": test_local}
    if group not in tests:
        raise SystemExit("unknown group %r (one of %s)" % (group, ", ".join(tests)))
    with tempfile.TemporaryDirectory(prefix="rsexec-relay-") as tmp:
        tests[group](tmp)


if __name__ == "__main__":
    main()
