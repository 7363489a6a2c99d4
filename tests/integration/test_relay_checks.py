"""What a relayed copy guarantees beyond moving the bytes: --verify checksum compares the digest
rsexec computes on the stream with the servers' own, --relay auto relays where only one server
offers TLS, and --max-per-host holds for relayed batch items.

    /usr/bin/python3 test_relay_checks.py RSEXEC RSEXECD GROUP

GROUP is one of:
  verify-source       the source offers a SHA-256 (XSHA256) that lies, the destination none: exit 9
                      and nothing left at the destination; a truthful rsexecd source: compared, said
  verify-destination  the source offers none, the destination a lying one: exit 9; rsexecd: compared
  verify-reread       neither offers a digest: the destination's copy is read back and hashed; a
                      destination that stores other bytes (same size) is exit 9
  tls-one-side        a TLS rsexecd and a clear one, both allowing FXP: auto relays (said once,
                      each side with its own protection), never keeps exit 13
  max-per-host        a relayed batch with -j 4 --max-per-host 1: never two sessions on a server

Scripted servers are tests/faults/hostile_server.py (hostile_fixture.py) on 127.0.0.171-172;
rsexecd on 127.0.0.173-175. Every process is stopped by its pid; every wait is bounded.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402
from hostile_fixture import HostileServer  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
SCRIPTED_A, SCRIPTED_B = "127.0.0.171", "127.0.0.172"
TLS_ADDR, CLEAR_ADDR, OTHER_ADDR = "127.0.0.173", "127.0.0.174", "127.0.0.175"
NO_FXP = ["--data-timeout", "5"]
FXP = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "5"]
VERIFICATION_EXIT, TLS_EXIT = 9, 13
TLS_RELAY_LINE = "relaying: the data between the servers cannot be protected"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120):
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, errors="replace", timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def describe(result):
    return "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout[-1500:], result.stderr[-3000:])


def leftovers(root):
    """Every file under root whose name is the copy's or its temporary name's."""
    return sorted(f for _, _, files in os.walk(root) for f in files if f.startswith("c.bin") or ".rsexec-part" in f)


def scripted(script, host, tmp, name):
    return HostileServer(script, host, os.path.join(tmp, name), log=os.path.join(tmp, name + ".log"),
                         credentials=("any", "any"), extra_args=["--data-timeout", "10"])


def test_verify_source(tmp):
    # A source whose SHA-256 lies, a destination without any digest: the stream's digest is
    # compared with the source's, the copy refused (exit 9), its temporary file deleted.
    with scripted("digest-liar", SCRIPTED_A, tmp, "src") as src, scripted("well-behaved", SCRIPTED_B, tmp, "dst") as dst:
        write_random(os.path.join(src.root, "f.bin"), 2 * 1024 * 1024 + 3)
        result = run(["copy", "-v", "--verify", "checksum", src.url("f.bin"), dst.url("c.bin")])
        check(result.returncode == VERIFICATION_EXIT, "a lying source: " + describe(result))
        check("SHA-256 mismatch" in result.stderr, "a lying source: no mismatch said: " + describe(result))
        check(any(c.startswith("XSHA256 ") for c in src.commands()), "the source's digest was not asked")
        check(leftovers(dst.root) == [], "a lying source: left at the destination: %s" % leftovers(dst.root))
        print("ok: a source whose SHA-256 disagrees with the relayed stream fails verification (exit 9), nothing kept")

    # rsexecd's true SHA-256, a destination without any: compared and said.
    with RsexecdServer(RSEXECD, OTHER_ADDR, extra_args=NO_FXP) as src, \
            scripted("well-behaved", SCRIPTED_B, tmp, "dst2") as dst:
        write_random(src.path("f.bin"), 2 * 1024 * 1024 + 3)
        result = run(["copy", "-v", "--verify", "checksum", url(src, "f.bin"), dst.url("c.bin")])
        check(result.returncode == 0, "rsexecd source: " + describe(result))
        expected = digest(src.path("f.bin"))
        check("SHA-256 of the relayed stream matches src's: " + expected in result.stderr,
              "rsexecd source: the comparison not said: " + describe(result))
        check(digest(os.path.join(dst.root, "c.bin")) == expected, "rsexecd source: the copy differs")
        print("ok: the relayed stream's SHA-256 is compared with rsexecd's own (source)")


def test_verify_destination(tmp):
    with scripted("well-behaved", SCRIPTED_A, tmp, "src") as src, scripted("digest-liar", SCRIPTED_B, tmp, "dst") as dst:
        write_random(os.path.join(src.root, "f.bin"), 1024 * 1024 + 1)
        with open(os.path.join(dst.root, "c.bin"), "wb") as f:
            f.write(b"old content\n")
        result = run(["copy", "-v", "--verify", "checksum", src.url("f.bin"), dst.url("c.bin")])
        check(result.returncode == VERIFICATION_EXIT, "a lying destination: " + describe(result))
        check("SHA-256 mismatch" in result.stderr, "a lying destination: no mismatch said: " + describe(result))
        check(any(c.startswith("XSHA256 .c.bin.rsexec-part") for c in dst.commands()),
              "the destination's digest of the temporary file was not asked: %s" % dst.commands()[-10:])
        check(leftovers(dst.root) == ["c.bin"], "a lying destination: %s" % leftovers(dst.root))
        with open(os.path.join(dst.root, "c.bin"), "rb") as f:
            check(f.read() == b"old content\n", "the final name was replaced by an unverified copy")
        print("ok: a destination whose SHA-256 disagrees with the relayed stream fails verification (exit 9)")

    with scripted("well-behaved", SCRIPTED_A, tmp, "src2") as src, \
            RsexecdServer(RSEXECD, OTHER_ADDR, extra_args=NO_FXP) as dst:
        write_random(os.path.join(src.root, "f.bin"), 1024 * 1024 + 1)
        result = run(["copy", "-v", "--verify", "checksum", src.url("f.bin"), url(dst, "c.bin")])
        check(result.returncode == 0, "rsexecd destination: " + describe(result))
        expected = digest(os.path.join(src.root, "f.bin"))
        check("SHA-256 of the relayed stream matches dst's: " + expected in result.stderr,
              "rsexecd destination: the comparison not said: " + describe(result))
        check(digest(dst.path("c.bin")) == expected, "rsexecd destination: the copy differs")
        print("ok: the relayed stream's SHA-256 is compared with rsexecd's own (destination)")


def test_verify_reread(tmp):
    with scripted("well-behaved", SCRIPTED_A, tmp, "src") as src, scripted("well-behaved", SCRIPTED_B, tmp, "dst") as dst:
        write_random(os.path.join(src.root, "f.bin"), 1024 * 1024 + 7)
        result = run(["copy", "-v", "--verify", "checksum", src.url("f.bin"), dst.url("c.bin")])
        check(result.returncode == 0, "re-read: " + describe(result))
        expected = digest(os.path.join(src.root, "f.bin"))
        retrieved = [c for c in dst.commands() if c.startswith("RETR ")]
        check(retrieved == ["RETR .c.bin.rsexec-part"], "the copy was not read back once: %s" % retrieved)
        check("SHA-256 of the relayed stream matches the copy read back from dst: " + expected in result.stderr,
              "re-read: not said: " + describe(result))
        check(digest(os.path.join(dst.root, "c.bin")) == expected, "re-read: the copy differs")
        print("ok: with no server digest, the destination's copy is read back and its SHA-256 compared")

    with scripted("well-behaved", SCRIPTED_A, tmp, "src2") as src, scripted("corrupt-store", SCRIPTED_B, tmp, "dst2") as dst:
        write_random(os.path.join(src.root, "f.bin"), 1024 * 1024 + 7)
        result = run(["copy", "-v", "--verify", "checksum", src.url("f.bin"), dst.url("c.bin")])
        check(result.returncode == VERIFICATION_EXIT, "a destination storing other bytes: " + describe(result))
        check("SHA-256 mismatch" in result.stderr, "corrupt store: no mismatch said: " + describe(result))
        check(leftovers(dst.root) == [], "corrupt store: left at the destination: %s" % leftovers(dst.root))
        print("ok: a destination that stores other bytes of the same size fails verification (exit 9), nothing kept")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def test_tls_one_side(tmp):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=relay checks CA", cwd=tmp)
    with open(os.path.join(tmp, "s.ext"), "w") as f:
        f.write("subjectAltName=IP:%s\n" % TLS_ADDR)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=" + TLS_ADDR,
            cwd=tmp)
    openssl("x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "s.pem",
            "-days", "2", "-extfile", "s.ext", cwd=tmp)
    tls_args = FXP + ["--tls-cert", os.path.join(tmp, "s.pem"), "--tls-key", os.path.join(tmp, "s.key")]
    ca = ["--tls", "optional", "--ca-file", os.path.join(tmp, "ca.pem")]
    # Both servers allow server-to-server transfers: only the protection keeps them apart.
    with RsexecdServer(RSEXECD, TLS_ADDR, extra_args=tls_args) as secure, \
            RsexecdServer(RSEXECD, CLEAR_ADDR, extra_args=FXP) as clear:
        write_random(secure.path("t.bin"), 2 * 1024 * 1024 + 9)
        write_random(clear.path("u.bin"), 1024 * 1024 + 5)
        result = run(["copy", "--relay", "never"] + ca + [url(secure, "t.bin"), url(clear, "never.bin")])
        check(result.returncode == TLS_EXIT, "never: " + describe(result))
        check(not os.path.exists(clear.path("never.bin")), "never: something was created")
        print("ok: --relay never between a TLS and a clear server is still exit 13")

        result = run(["copy", "-v"] + ca + [url(secure, "t.bin"), url(clear, "t.bin")])
        check(result.returncode == 0, "TLS source, clear destination: " + describe(result))
        check(result.stderr.count(TLS_RELAY_LINE) == 1, "the relay not said exactly once: " + describe(result))
        check("relayed through rsexec" in result.stdout, "not relayed: " + describe(result))
        check(re.search(r"RETR /?t\.bin: data connection is TLS", secure.log()),
              "the source's data connection was not TLS:\n" + secure.log()[-2000:])
        check(digest(clear.path("t.bin")) == digest(secure.path("t.bin")), "TLS source: the copy differs")
        print("ok: a TLS source and a clear destination: relayed, the source's data under TLS, said once")

        result = run(["copy"] + ca + [url(clear, "u.bin"), url(secure, "u.bin")])
        check(result.returncode == 0, "clear source, TLS destination: " + describe(result))
        check(result.stderr.count(TLS_RELAY_LINE) == 1, "the relay not said exactly once: " + describe(result))
        check(digest(secure.path("u.bin")) == digest(clear.path("u.bin")), "TLS destination: the copy differs")
        print("ok: a clear source and a TLS destination: relayed")

        # A batch: said once for the pair, every item relayed.
        names = ["b%d.bin" % i for i in range(4)]
        for i, name in enumerate(names):
            write_random(secure.path("set", name), 3000 * (i + 1))
        os.makedirs(clear.path("out"))
        job = os.path.join(tmp, "tls.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(secure, "set/" + n), url(clear, "out/")) for n in names)
        result = run(["batch", "-j", "2", "--no-journal", "--json"] + ca + [job])
        check(result.returncode == 0, "batch: " + describe(result))
        check(result.stderr.count(TLS_RELAY_LINE) == 1, "batch: the relay not said exactly once: " + describe(result))
        done = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        done = [e for e in done if e.get("event") == "done"]
        check(len(done) == len(names) and all(e.get("relay") is True for e in done), "batch: %s" % done[:3])
        for name in names:
            check(digest(clear.path("out", name)) == digest(secure.path("set", name)), "batch: %s differs" % name)
        print("ok: a batch between a TLS and a clear server relays every item, said once")


def most_at_once(log):
    """The most sessions logged in at once, from rsexecd's log ('#N ... logged in', '#N ... disconnected')."""
    open_now, most = set(), 0
    for line in log.splitlines():
        match = re.search(r" #(\d+) \S+ (logged in as|disconnected)", line)
        if match and match.group(2) == "disconnected":
            open_now.discard(match.group(1))
        elif match:
            open_now.add(match.group(1))
            most = max(most, len(open_now))
    return most


def test_max_per_host(tmp):
    with RsexecdServer(RSEXECD, TLS_ADDR, extra_args=NO_FXP) as src, \
            RsexecdServer(RSEXECD, CLEAR_ADDR, extra_args=NO_FXP) as dst:
        names = ["m%02d.bin" % i for i in range(10)]
        for i, name in enumerate(names):
            write_random(src.path("set", name), 20000 + 7000 * i)
        os.makedirs(dst.path("out"))
        job = os.path.join(tmp, "capped.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, "out/")) for n in names)
        for relay in ("auto", "always"):
            result = run(["batch", "-v", "-j", "4", "--max-per-host", "1", "--relay", relay, "--no-journal", "--json",
                          job])
            check(result.returncode == 0, "capped batch (%s): %s" % (relay, describe(result)))
            done = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
            done = [e for e in done if e.get("event") == "done"]
            check(len(done) == len(names) and all(e.get("relay") is True for e in done),
                  "capped batch (%s): not every item relayed: %s" % (relay, done[:3]))
            for name in names:
                check(digest(dst.path("out", name)) == digest(src.path("set", name)), "%s differs" % name)
            for server, side in ((src, "src"), (dst, "dst")):
                most = most_at_once(server.log())
                check(most == 1, "%s: %d sessions at once with --max-per-host 1 (--relay %s):\n%s"
                      % (side, most, relay, server.log()[-3000:]))
            print("ok: --relay %s batch with -j 4 --max-per-host 1: one session at a time on each server" % relay)


def main():
    group = sys.argv[3] if len(sys.argv) > 3 else ""
    tests = {"verify-source": test_verify_source, "verify-destination": test_verify_destination,
             "verify-reread": test_verify_reread, "tls-one-side": test_tls_one_side,
             "max-per-host": test_max_per_host}
    if group not in tests:
        raise SystemExit("unknown group %r (one of %s)" % (group, ", ".join(tests)))
    with tempfile.TemporaryDirectory(prefix="rsexec-relay-checks-") as tmp:
        tests[group](tmp)


if __name__ == "__main__":
    main()
