#!/usr/bin/python3
"""Passwords never leave rsexec: not in JSON events, URL displays, error messages, the -v trace,
the batch journal, rsexecd's log, nor rsexec's command line in ps; and a .netrc that others can
read is ignored.

    test_secrets.py RSEXEC RSEXECD

A batch with distinctive passwords (one right, one wrong) covers a done item, a missing source
(550), a refused login and an unreachable server, with --json and -v; every byte rsexec writes and
the journal file are searched for both passwords, plain and percent-encoded.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import RsexecdServer  # noqa: E402


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


USER = "keeper"
PASSWORD = "Xq9-vault-Lm4!never-shown"
WRONG = "Wz7-wrong-Pk2!never-shown"
FXP = ["--fxp-peers", "127.0.0.0/8"]
LOGIN, PARTIAL = 4, 11


def url(server, path, password=PASSWORD):
    return "ftp://%s:%s@%s:%d/%s" % (USER, urllib.parse.quote(password, safe=""), server.address, server.port, path)


def forms(secret):
    return [secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)]


def assert_clean(what, data):
    text = data if isinstance(data, bytes) else data.encode()
    for secret in (PASSWORD, WRONG):
        for form in forms(secret):
            check(form.encode() not in text, "%s holds a password (%r)" % (what, form))


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    rsexec, rsexecd = argv[1], argv[2]
    work = tempfile.mkdtemp(prefix="rsexec-secrets-")
    src = RsexecdServer(rsexecd, "127.0.0.6", extra_args=FXP, user=(USER, PASSWORD)).start()
    dst = RsexecdServer(rsexecd, "127.0.0.7", extra_args=FXP + ["--login-delay", "0"], user=(USER, PASSWORD)).start()
    try:
        with open(src.path("f.bin"), "wb") as f:
            f.write(os.urandom(100000))
        job = os.path.join(work, "job.jsonl")
        with open(job, "w") as f:
            for src_url, dst_url in [(url(src, "f.bin"), url(dst, "ok.bin")),
                                     (url(src, "missing.bin"), url(dst, "missing.bin")),
                                     (url(src, "f.bin"), url(dst, "wrong.bin", WRONG)),
                                     (url(src, "f.bin"), "ftp://%s:%s@127.0.0.7:1/x.bin" % (USER, PASSWORD))]:
                f.write(json.dumps({"src": src_url, "dst": dst_url}) + "\n")
        journal = os.path.join(work, "job.journal")
        done = subprocess.run([rsexec, "batch", "--json", "-v", "--retries", "0", "--timeout", "5",
                               "--verify", "checksum", "--journal", journal, job],
                              capture_output=True, timeout=120)
        events = [json.loads(line) for line in done.stdout.decode().splitlines()]
        kinds = [e["event"] for e in events]
        check(done.returncode == PARTIAL, "exit %d: %s" % (done.returncode, done.stderr.decode()[-1500:]))
        check(kinds.count("done") == 1 and kinds.count("error") == 3, kinds)
        check(any("login" in e.get("error", "") or e.get("exit_code") == LOGIN for e in events), events)
        assert_clean("rsexec batch --json stdout", done.stdout)
        assert_clean("rsexec batch -v stderr", done.stderr)
        with open(journal, "rb") as f:
            assert_clean("the batch journal", f.read())
        shown = [e[k] for e in events for k in ("src", "dst") if k in e]
        check(shown and all("@" in s for s in shown), "the URLs shown lost their user: %s" % shown[:2])

        copy = subprocess.run([rsexec, "copy", "-v", "--timeout", "5", url(src, "f.bin"), url(dst, "c.bin", WRONG)],
                              capture_output=True, timeout=60)
        check(copy.returncode == LOGIN, "copy with a wrong password: exit %d" % copy.returncode)
        assert_clean("rsexec copy -v output", copy.stdout + copy.stderr)
        for server in (src, dst):
            assert_clean("rsexecd's log", server.log())

        # A .netrc others can read is ignored, with a warning; chmod 600 makes it count.
        netrc = os.path.join(work, "netrc")
        with open(netrc, "w") as f:
            f.write("machine 127.0.0.6 login %s password %s\nmachine 127.0.0.7 login %s password %s\n"
                    % (USER, PASSWORD, USER, PASSWORD))
        bare = ["ftp://%s:%d/f.bin" % (src.address, src.port), "ftp://%s:%d/n.bin" % (dst.address, dst.port)]
        os.chmod(netrc, 0o644)
        loose = subprocess.run([rsexec, "copy", "--netrc", netrc, "--timeout", "5"] + bare, capture_output=True, timeout=60)
        check(loose.returncode == LOGIN, "a world-readable netrc was used: exit %d" % loose.returncode)
        check(b"readable by others" in loose.stderr, loose.stderr[-500:])
        assert_clean("the netrc warning", loose.stdout + loose.stderr)
        os.chmod(netrc, 0o600)
        tight = subprocess.run([rsexec, "copy", "--netrc", netrc, "--timeout", "5"] + bare, capture_output=True, timeout=60)
        check(tight.returncode == 0, "a private netrc was not used: %s" % tight.stderr[-500:])
        assert_clean("rsexec copy with netrc", tight.stdout + tight.stderr)

        # ps(1): while rsexec waits on a silent server, its command line shows no password.
        silent = socket.socket()
        silent.bind(("127.0.0.6", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        waiting = subprocess.Popen([rsexec, "copy", "--timeout", "3",
                                    "ftp://%s:%s@127.0.0.6:%d/x" % (USER, urllib.parse.quote(PASSWORD, safe=""), port),
                                    # Another name: a copy onto itself would be refused before connecting.
                                    "ftp://%s:%s@127.0.0.6:%d/y" % (USER, urllib.parse.quote(WRONG, safe=""), port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            accepted = [silent.accept()[0] for _ in range(2)]  # both connections made: argv is parsed
            with open("/proc/%d/cmdline" % waiting.pid, "rb") as f:
                cmdline = f.read()
            check(b"127.0.0.6" in cmdline, cmdline)
            assert_clean("rsexec's command line in ps", cmdline)
        finally:
            waiting.kill()
            waiting.communicate()
            silent.close()
        for connection in accepted:
            connection.close()
        print("ok: %d JSON events, %d bytes of -v trace, journal, server logs and ps hold no password"
              % (len(events), len(done.stderr)))
        return 0
    except AssertionError as failure:
        print("FAILED: %s" % failure)
        return 1
    finally:
        src.__exit__()
        dst.__exit__()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
