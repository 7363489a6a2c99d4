#!/usr/bin/python3
"""What rsexec keeps of a server's words, against scripted servers (hostile_server.py) and real
rsexecd on 127.0.191.21-24:

    /usr/bin/python3 test_server_echoes.py RSEXEC RSEXECD GROUP

GROUP is one of:
  password    a server quoting the password in its 530 ("530 Login incorrect for USER:PASSWORD
              (ftp://USER:PASSWORD@HOST/)"): the password reaches neither copy's stderr, nor batch's
              stderr and --json events, nor `status --failed [--json]`, nor the SQLite journal's
              bytes, nor --dump-failed's comments
  fractional  a source whose MLSD and MDTM give times with a fraction (20260102030405.123): mirror
              gives the copies the whole second (MFMT), and a second run copies nothing
"""
import calendar
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
HOSTILE = os.path.join(HERE, "hostile_server.py")
FXP = ["--fxp-peers", "127.0.0.0/8"]
SECRET = "Echoed-s3cret"
LOGIN = 4


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Hostile:
    """hostile_server.py with one script, stopped by its pid."""

    def __init__(self, host, script, root):
        self.address, self.root = host, root
        self.process = subprocess.Popen([sys.executable, HOSTILE, "--host", host, "--script", script, "--root", root],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # the port, printed once it listens
        if not line.strip().isdigit():
            self.stop()
            raise AssertionError("hostile server printed %r" % line)
        self.port = int(line)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def path(self, *parts):
        return os.path.join(self.root, *parts)


def url(server, path="", password=PASSWORD):
    return "ftp://%s:%s@%s:%d/%s" % (USER, password, server.address, server.port, path)


def run(args, timeout=120):
    try:
        return subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args), timeout))


def no_secret(text, where):
    check(SECRET not in text, "the echoed password reached %s: %r" % (where, text[-1500:]))


def test_password(tmp):
    root = os.path.join(tmp, "hostile")
    os.makedirs(root)
    with RsexecdServer(RSEXECD, "127.0.191.21", extra_args=FXP) as src, \
            Hostile("127.0.191.22", "echo-password", root) as dst:
        write_random(src.path("f.bin"), 1000)
        copied = run(["copy", url(src, "f.bin"), url(dst, "f.bin", SECRET)])
        check(copied.returncode == LOGIN and "530" in copied.stderr,
              "copy to a server refusing the login: exit %d: %r" % (copied.returncode, copied.stderr))
        no_secret(copied.stdout + copied.stderr, "copy's output")

        job = os.path.join(tmp, "echo.job")
        with open(job, "w") as f:
            f.write("%s %s\n" % (url(src, "f.bin"), url(dst, "f.bin", SECRET)))
            f.write(json.dumps({"src": url(src, "f.bin"), "dst": url(dst, "g.bin", SECRET)}) + "\n")
        dump = os.path.join(tmp, "again.job")
        for json_flag in (["--json"], []):
            result = run(["batch", "--retries", "0", "--dump-failed", dump] + json_flag + [job])
            check(result.returncode == LOGIN, "batch %s: exit %d: %s" % (json_flag, result.returncode, result.stderr))
            no_secret(result.stdout, "batch %s's stdout" % json_flag)
            no_secret(result.stderr, "batch %s's stderr" % json_flag)
            if json_flag:
                failed = [e for e in map(json.loads, result.stdout.splitlines()) if e.get("event") == "error"]
                check(len(failed) == 2 and all("530" in e.get("error", "") for e in failed),
                      "two failed events with the 530: %r" % failed)
            with open(dump) as f:
                no_secret("".join(l for l in f if l.startswith("#")), "--dump-failed's comments")
        for extra in (["--json"], []):
            status = run(["status", "--journal", job + ".journal", "--failed"] + extra)
            check(status.returncode == 0 and "530" in status.stdout,
                  "status --failed %s: exit %d: %r" % (extra, status.returncode, status.stdout + status.stderr))
            no_secret(status.stdout + status.stderr, "status --failed %s" % extra)
        with open(job + ".journal", "rb") as f:
            check(SECRET.encode() not in f.read(), "the echoed password is in the journal file's bytes")
        for name in os.listdir(tmp):  # SQLite's -wal and -journal files too
            if name.startswith("echo.job.journal"):
                with open(os.path.join(tmp, name), "rb") as f:
                    check(SECRET.encode() not in f.read(), "the echoed password is in %s" % name)
        print("ok: a 530 quoting the password: not in copy's or batch's output, events, status --failed, "
              "the journal or --dump-failed's comments")


def test_fractional(tmp):
    root = os.path.join(tmp, "hostile")
    tree = {"one.bin": 3000, "sub/two.bin": 70000, "sub/deeper/three.bin": 1}
    stamp = calendar.timegm(time.strptime("20260102030405", "%Y%m%d%H%M%S"))
    for name, size in tree.items():
        write_random(os.path.join(root, name), size)
        os.utime(os.path.join(root, name), (stamp, stamp))
    with Hostile("127.0.191.23", "fractional-modify", root) as src, \
            RsexecdServer(RSEXECD, "127.0.191.24", extra_args=FXP) as dst:
        first = run(["mirror", "--json", "--no-journal", url(src, ""), url(dst, "m/")])
        check(first.returncode == 0, "first mirror: exit %d: %s" % (first.returncode, first.stderr[-1500:]))
        summary = json.loads(first.stdout.splitlines()[-1])
        check(summary.get("done") == len(tree), "first mirror: %r" % summary)
        for name in tree:
            copy = dst.path("m", *name.split("/"))
            check(digest(copy) == digest(os.path.join(root, name)), "%s differs" % name)
            check(int(os.stat(copy).st_mtime) == stamp, "%s has time %d, not %d" % (name, os.stat(copy).st_mtime, stamp))
        second = run(["mirror", "--json", "--no-journal", url(src, ""), url(dst, "m/")])
        check(second.returncode == 0, "second mirror: exit %d: %s" % (second.returncode, second.stderr[-1500:]))
        summary = json.loads(second.stdout.splitlines()[-1])
        check(summary.get("done") == 0 and summary.get("failed") == 0,
              "a second mirror from a server with fractional times copied again: %r" % summary)
        print("ok: modify=20260102030405.123 on the source: the copies have the whole second, a second mirror "
              "copies nothing")


GROUPS = {"password": test_password, "fractional": test_fractional}

if __name__ == "__main__":
    for group in sys.argv[3:] or list(GROUPS):
        with tempfile.TemporaryDirectory(prefix="rsexec-echoes-") as tmp:
            GROUPS[group](tmp)
