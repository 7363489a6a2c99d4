#!/usr/bin/python3
"""Modification times kept: rsexecd's MFMT, rsexec copy --preserve-times and rsexec mirror.

    /usr/bin/python3 test_times.py RSEXEC RSEXECD GROUP

GROUP is one of:
  mfmt    rsexecd's MFMT (draft-somers-ftp-mfxx-04 3) on a raw control connection: FEAT and HELP
          list it; "213 Modify=YYYYMMDDHHMMSS; path" names the time the file now has (a fraction
          is not kept, a leap second is :59, years before 1970 are kept); 501 for a time-val it
          cannot read, 550 for no such file, a read-only login or a path leaving the root.
  copy    rsexec copy and batch with --preserve-times between two rsexecd (the copy gets the
          source's time, stream and pipelined, --inplace too, never with --append; without the
          option it keeps the time it was written at); against a scripted server without MFMT
          (tests/faults/hostile_server.py) the copy succeeds and -v says once that times are not
          kept, for one file and for a batch of several.
  mirror  rsexec mirror keeps times (pipelined, --pipeline off, and a file too large to
          pipeline), so that a second run copies nothing; a source file dated later is copied again
          and gets its new time.

The servers listen on 127.0.161.x with ports they choose (--port 0); every process is stopped by
its pid, every wait is bounded.
"""
import calendar
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rsexecd_fixture import PASSWORD, USER, Control, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
HOSTILE = os.path.join(HERE, "..", "faults", "hostile_server.py")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120):
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def summary_of(stdout):
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    check(lines and lines[-1]["event"] == "summary", "no summary: " + stdout[-500:])
    return lines[-1]


def utc(text):
    """Seconds since the epoch of a YYYYMMDDHHMMSS time in UTC."""
    return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))


def date(path, text):
    stamp = utc(text)
    os.utime(path, (stamp, stamp))


def mtime(path):
    return int(os.stat(path).st_mtime)


class HostileServer:
    """tests/faults/hostile_server.py well-behaved: a plain FTP server with neither MDTM nor MFMT."""

    def __init__(self, host, root):
        self.address, self.root = host, root
        self.process = subprocess.Popen([sys.executable, HOSTILE, "--host", host, "--script", "well-behaved",
                                         "--root", root], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # the port; the script prints it once it listens
        check(line.strip().isdigit(), "hostile server printed %r" % line)
        self.port = int(line)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def path(self, *parts):
        return os.path.join(self.root, *parts)


def test_mfmt(tmp):
    with RsexecdServer(RSEXECD, "127.0.161.1", extra_args=["--anonymous", "ro"]) as server:
        for name in ("f.txt", "a b.txt", "sub/g.txt"):
            write_random(server.path(name), 10)
        os.makedirs(server.path("dir"))
        ctl = Control(server.address, server.port)
        code, text = ctl.cmd("MFMT 20240102030405 f.txt")
        check(code == 530, "MFMT before login: " + text)
        ctl.login()
        code, text = ctl.cmd("FEAT")
        check(code == 211 and "\n MFMT\n" in text, "FEAT lists no MFMT: " + text)
        code, text = ctl.cmd("HELP")
        check(code == 214 and " MFMT " in text, "HELP lists no MFMT: " + text)

        cases = [  # argument, the time the reply and the file then hold
            ("20240102030405 f.txt", "20240102030405", "f.txt"),
            ("20240102030405.678 f.txt", "20240102030405", "f.txt"),
            ("20161231235960 f.txt", "20161231235959", "f.txt"),
            ("19690720201800 f.txt", "19690720201800", "f.txt"),
            ("10000101000000 f.txt", None, "f.txt"),
            ("20200229000000 a b.txt", "20200229000000", "a b.txt"),
            ("20200301000000 /sub/g.txt", "20200301000000", "sub/g.txt"),
            ("20200302000000 dir", "20200302000000", "dir"),
        ]
        for argument, expected, name in cases:
            code, text = ctl.cmd("MFMT " + argument)
            given = argument.split(" ", 1)[1]
            match = re.fullmatch(r"213 Modify=(\d{14}); (.*)", text)
            check(code == 213 and match and match.group(2) == given, "MFMT %s: %s" % (argument, text))
            # The reply names the time the file has now, which the file system may clamp.
            on_disk = time.strftime("%Y%m%d%H%M%S", time.gmtime(os.stat(server.path(name)).st_mtime))
            check(match.group(1) == on_disk, "MFMT %s: replied %s, the file has %s" % (argument, text, on_disk))
            if expected:
                check(on_disk == expected, "MFMT %s: the file has %s, not %s" % (argument, on_disk, expected))
            if name != "dir":
                check(ctl.cmd("MDTM " + given) == (213, "213 " + on_disk), "MDTM %s after MFMT" % given)
        print("ok: MFMT sets and names the time (fraction dropped, leap second :59, 1969, spaces, directory)")

        before = os.stat(server.path("f.txt")).st_mtime_ns
        for argument in ("20241302030405 f.txt", "20240230000000 f.txt", "20240102240000 f.txt",
                         "20240102235960 f.txt", "09991231235959 f.txt", "100000101000000 f.txt",
                         "2024-01-02T03:04:05 f.txt", "f.txt", "20240102030405", "20240102030405. f.txt"):
            code, text = ctl.cmd("MFMT " + argument)
            check(code == 501, "MFMT %s: %s" % (argument, text))
        check(os.stat(server.path("f.txt")).st_mtime_ns == before, "a refused MFMT changed the time")
        for argument in ("20240102030405 missing.txt", "20240102030405 ../f.txt", "20240102030405 sub/../../x"):
            code, text = ctl.cmd("MFMT " + argument)
            check(code == 550, "MFMT %s: %s" % (argument, text))
        ctl.close()
        print("ok: MFMT answers 501 for a bad time-val, 550 for no such file or a path leaving the root")

        anonymous = Control(server.address, server.port)
        anonymous.login("anonymous", "guest@")
        code, text = anonymous.cmd("MFMT 20000101000000 f.txt")
        check(code == 550, "MFMT by a read-only login: " + text)
        anonymous.close()
        check(os.stat(server.path("f.txt")).st_mtime_ns == before, "a read-only login changed a time")
        print("ok: a read-only login cannot set times")


def test_copy(tmp):
    with RsexecdServer(RSEXECD, "127.0.161.11", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.161.12", extra_args=FXP) as dst:
        names = ["a.bin", "b.bin", "c.bin"]
        for index, name in enumerate(names):
            write_random(src.path(name), 1000 + index)
            date(src.path(name), "2021030405060%d" % index)
        os.makedirs(dst.path("in"))

        result = run(["copy", url(src, "a.bin"), url(dst, "in/plain.bin")])
        check(result.returncode == 0, "copy: " + result.stderr)
        check(mtime(dst.path("in", "plain.bin")) > utc("20250101000000"), "a copy without --preserve-times "
              "got an old time: %d" % mtime(dst.path("in", "plain.bin")))
        for extra, target in (([], "kept.bin"), (["--inplace"], "inplace.bin")):
            result = run(["copy", "--preserve-times"] + extra + [url(src, "a.bin"), url(dst, "in/" + target)])
            check(result.returncode == 0, "copy --preserve-times %s: %s" % (extra, result.stderr))
            check(mtime(dst.path("in", target)) == mtime(src.path("a.bin")), "copy --preserve-times %s: %d, not %d"
                  % (extra, mtime(dst.path("in", target)), mtime(src.path("a.bin"))))
            check(digest(dst.path("in", target)) == digest(src.path("a.bin")), "the copy differs")
        print("ok: copy keeps the source's time with --preserve-times (and --inplace), not without")

        write_random(dst.path("in", "appended.bin"), 5)
        date(dst.path("in", "appended.bin"), "20000101000000")
        result = run(["copy", "--preserve-times", "--append", "-v", url(src, "a.bin"), url(dst, "in/appended.bin")])
        check(result.returncode == 0, "copy --append: " + result.stderr)
        check("src> MDTM" not in result.stderr and "dst> MFMT" not in result.stderr, "an append asked for times")
        check(mtime(dst.path("in", "appended.bin")) > utc("20250101000000"), "an append got a time set")
        print("ok: --append never sets the time")

        for pipeline in ("block", "off"):
            out = "batch-" + pipeline
            os.makedirs(dst.path(out))
            job = os.path.join(tmp, out + ".job")
            with open(job, "w") as f:
                f.writelines("%s %s\n" % (url(src, n), url(dst, out + "/")) for n in names)
            result = run(["batch", "--json", "--no-journal", "--preserve-times", "--pipeline", pipeline, job])
            check(result.returncode == 0 and summary_of(result.stdout)["done"] == 3, "batch: " + result.stderr)
            for name in names:
                check(mtime(dst.path(out, name)) == mtime(src.path(name)), "batch --pipeline %s: %s has %d, not %d"
                      % (pipeline, name, mtime(dst.path(out, name)), mtime(src.path(name))))
        print("ok: batch --preserve-times keeps times, pipelined and one at a time")

    # A destination and a source without MFMT/MDTM: the copies succeed and -v says so once.
    plain_root = os.path.join(tmp, "plain")
    os.makedirs(os.path.join(plain_root, "in"))
    with RsexecdServer(RSEXECD, "127.0.161.13", extra_args=FXP) as src:
        for name in names:
            write_random(src.path(name), 2000)
            date(src.path(name), "20210304050607")
        plain = HostileServer("127.0.161.14", plain_root)
        try:
            plain_url = "ftp://%s:%s@%s:%d/" % (USER, PASSWORD, plain.address, plain.port)
            result = run(["copy", "--preserve-times", "-v", url(src, "a.bin"), plain_url + "in/one.bin"])
            check(result.returncode == 0, "copy to a server without MFMT failed: " + result.stderr)
            said = re.findall(r"^rsexec: dst \S+ offers no MFMT \(FEAT\): modification times are not kept$",
                              result.stderr, re.M)
            check(len(said) == 1, "not said once: %r" % result.stderr[-1500:])
            check(digest(plain.path("in", "one.bin")) == digest(src.path("a.bin")), "the copy differs")
            quiet = run(["copy", "--preserve-times", url(src, "b.bin"), plain_url + "in/two.bin"])
            check(quiet.returncode == 0 and "MFMT" not in quiet.stderr, "said without -v: " + quiet.stderr)

            job = os.path.join(tmp, "plain.job")
            with open(job, "w") as f:
                f.writelines("%s %s\n" % (url(src, n), plain_url + "in/batch-" + n) for n in names)
            result = run(["batch", "--json", "--no-journal", "--preserve-times", "-v", job])
            check(result.returncode == 0 and summary_of(result.stdout)["done"] == 3, "batch: " + result.stderr[-800:])
            check(result.stderr.count("offers no MFMT") == 1, "a batch of 3 said it %d times"
                  % result.stderr.count("offers no MFMT"))

            # The other way round: a source without MDTM.
            write_random(plain.path("in", "from-plain.bin"), 300)
            result = run(["copy", "--preserve-times", "-v", plain_url + "in/from-plain.bin", url(src, "back.bin")])
            check(result.returncode == 0, "copy from a server without MDTM failed: " + result.stderr)
            check(len(re.findall(r"answers no MDTM \(502\): modification times are not kept", result.stderr)) == 1,
                  "not said once: %r" % result.stderr[-1500:])
            check(digest(src.path("back.bin")) == digest(plain.path("in", "from-plain.bin")), "the copy differs")
        finally:
            plain.stop()
    print("ok: without MFMT (or MDTM) the copies succeed and -v says once that times are not kept")


def test_mirror(tmp):
    with RsexecdServer(RSEXECD, "127.0.161.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.161.22", extra_args=FXP) as dst:
        tree = {"top.txt": ("20200101000000", 100), "a/one.bin": ("20191231235959", 5000),
                "a/b/two.bin": ("20010909014640", 1), "with space/é.txt": ("19990101120000", 70),
                "empty.bin": ("20220202020202", 0), "large.bin": ("20230303030303", 17 * 1024 * 1024)}
        for name, (stamp, size) in tree.items():
            write_random(src.path(name), size)
            date(src.path(name), stamp)

        for pipeline in ("block", "off"):
            target = "copy-%s/" % pipeline
            result = run(["mirror", "--json", "--pipeline", pipeline, url(src, ""), url(dst, target)], timeout=180)
            check(result.returncode == 0, "mirror --pipeline %s: %s" % (pipeline, result.stderr[-800:]))
            check(summary_of(result.stdout)["done"] == len(tree), "mirror: " + result.stdout[-400:])
            for name, (stamp, _) in tree.items():
                copy = dst.path(target, name)
                check(digest(copy) == digest(src.path(name)), "mirror differs: " + name)
                check(mtime(copy) == utc(stamp), "mirror --pipeline %s: %s has %d, not %s" % (pipeline, name,
                                                                                             mtime(copy), stamp))
            stores = len(dst.transfers("STOR"))
            result = run(["mirror", "--json", "--pipeline", pipeline, url(src, ""), url(dst, target)])
            check(result.returncode == 0, "second mirror: " + result.stderr)
            check(summary_of(result.stdout)["done"] == 0, "second mirror copied: " + result.stdout[-400:])
            check(len(dst.transfers("STOR")) == stores, "second mirror transferred something")
            print("ok: mirror --pipeline %s keeps every time; a second run copies nothing" % pipeline)

        # A source file dated later (same size, new content) is newer: copied again, with its time.
        write_random(src.path("a/one.bin"), 5000)
        date(src.path("a/one.bin"), "20240606060606")
        result = run(["mirror", "--json", url(src, ""), url(dst, "copy-block/")])
        check(result.returncode == 0 and summary_of(result.stdout)["done"] == 1, "third mirror: " + result.stdout[-400:])
        check(digest(dst.path("copy-block", "a/one.bin")) == digest(src.path("a/one.bin")), "not copied again")
        check(mtime(dst.path("copy-block", "a/one.bin")) == utc("20240606060606"), "the new time not kept")
        result = run(["mirror", "--json", url(src, ""), url(dst, "copy-block/")])
        check(result.returncode == 0 and summary_of(result.stdout)["done"] == 0, "fourth mirror copied something")
        print("ok: a source dated later is copied again with its time, then left alone")


GROUPS = {"mfmt": test_mfmt, "copy": test_copy, "mirror": test_mirror}

if __name__ == "__main__":
    group = sys.argv[3]
    with tempfile.TemporaryDirectory(prefix="rsexec-times-") as tmp:
        GROUPS[group](tmp)
    print("all %s checks passed" % group)
