#!/usr/bin/python3
"""Batch items whose destination directory is missing: made by default (MKD, parents first) and the
item copied; --no-mkdirs and a job-file line's "mkdirs": false leave them failed with the
destination's exit code, against two real rsexecd on 127.0.191.1/2.

    /usr/bin/python3 test_batch_mkdirs.py RSEXEC RSEXECD GROUP

GROUP is one of:
  made       a batch of 24 items into 6 missing nested directories (several items per directory,
             so that workers make the same directory at once) with -j 4, pipelined and with
             --pipeline off: all copied, SHA-256 equal to the sources
  refused    the same with --no-mkdirs: every item failed, exit 6, an error naming the refused STOR
             and saying no directory was made; nothing made on the destination. A job-file line
             with "mkdirs": false fails the same way while the other lines are made.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
SRC_HOST, DST_HOST = "127.0.191.1", "127.0.191.2"
DESTINATION = 6
DIRECTORIES = ["a/b/c", "a/b/d", "a/e", "f/g/h/i", "f/g/j", "k"]
PER_DIRECTORY = 4


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120):
    try:
        result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args), timeout))
    check(result.returncode >= 0, "rsexec died of signal %d: %s" % (-result.returncode, result.stderr[-2000:]))
    return result


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def job_of(tmp, src, dst, prefix, extra=None):
    """Items into the missing DIRECTORIES under `prefix` on dst; `extra` (a dict) goes into every
    line as JSON fields."""
    lines = []
    for directory in DIRECTORIES:
        for n in range(PER_DIRECTORY):
            name = "%s/f%d.bin" % (directory.replace("/", "_"), n)
            if not os.path.exists(src.path(name)):
                write_random(src.path(name), 1000 + 997 * n)
            target = "%s/%s/f%d.bin" % (prefix, directory, n)
            if extra is None:
                lines.append("%s %s" % (url(src, name), url(dst, target)))
            else:
                lines.append(json.dumps(dict({"src": url(src, name), "dst": url(dst, target)}, **extra)))
    job = os.path.join(tmp, prefix + ".job")
    with open(job, "w") as f:
        f.write("\n".join(lines) + "\n")
    return job


def check_copied(src, dst, prefix):
    for directory in DIRECTORIES:
        for n in range(PER_DIRECTORY):
            copy = dst.path(prefix, *directory.split("/"), "f%d.bin" % n)
            check(os.path.isfile(copy), "%s not copied" % copy)
            check(digest(copy) == digest(src.path("%s/f%d.bin" % (directory.replace("/", "_"), n))),
                  "%s differs from its source" % copy)


def test_made(tmp):
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        for prefix, extra_args in (("piped", []), ("single", ["--pipeline", "off"])):
            job = job_of(tmp, src, dst, prefix)
            result = run(["batch", "--json", "--no-journal", "-j", "4", "--retries", "0"] + extra_args + [job])
            check(result.returncode == 0, "batch %s into missing directories: exit %d: %s %s"
                  % (extra_args, result.returncode, result.stderr[-2000:], result.stdout[-3000:]))
            check_copied(src, dst, prefix)
            done = [e for e in events(result.stdout) if e.get("event") == "done"]
            check(len(done) == len(DIRECTORIES) * PER_DIRECTORY, "done events: %d" % len(done))
            check(not any(e.get("event") == "error" for e in events(result.stdout)), "an item failed: %s" % result.stdout)
            print("ok: batch %s -j 4: %d items into %d missing nested directories copied, SHA-256 equal"
                  % (" ".join(extra_args) or "(pipelined)", len(done), len(DIRECTORIES)))


def test_refused(tmp):
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        job = job_of(tmp, src, dst, "off")
        result = run(["batch", "--json", "--no-journal", "-j", "4", "--no-mkdirs", job])
        check(result.returncode == DESTINATION, "batch --no-mkdirs: exit %d (6 expected): %s"
              % (result.returncode, result.stderr[-2000:]))
        failed = [e for e in events(result.stdout) if e.get("event") == "error"]
        check(len(failed) == len(DIRECTORIES) * PER_DIRECTORY, "failed events: %d of %d: %s"
              % (len(failed), len(DIRECTORIES) * PER_DIRECTORY, result.stdout[-2000:]))
        for event in failed:
            error = event.get("error", "")
            check(error.startswith("dst: STOR ") and "--no-mkdirs" in error and event.get("exit_code") == DESTINATION,
                  "a clear error naming the refused STOR and --no-mkdirs expected: %r" % event)
        check(not os.path.exists(dst.path("off")), "--no-mkdirs made a directory")
        print("ok: --no-mkdirs: exit 6, each item failed: %s" % failed[0]["error"])

        # Per line: "mkdirs": false fails its items; the others' directories are made.
        made = job_of(tmp, src, dst, "lines")
        refused = job_of(tmp, src, dst, "nolines", {"mkdirs": False})
        with open(made) as a, open(refused) as b, open(os.path.join(tmp, "mixed.job"), "w") as out:
            out.write(a.read() + b.read())
        result = run(["batch", "--json", "--no-journal", "-j", "4", os.path.join(tmp, "mixed.job")])
        check(result.returncode == 11, "a job with \"mkdirs\": false lines: exit %d (11 expected): %s"
              % (result.returncode, result.stderr[-2000:]))
        check_copied(src, dst, "lines")
        check(not os.path.exists(dst.path("nolines")), "\"mkdirs\": false made a directory")
        failed = [e for e in events(result.stdout) if e.get("event") == "error"]
        check(len(failed) == len(DIRECTORIES) * PER_DIRECTORY and
              all(e.get("exit_code") == DESTINATION for e in failed), "failed items: %r" % failed[:3])
        print("ok: \"mkdirs\": false lines failed (exit 6 each), the other lines' directories made")


GROUPS = {"made": test_made, "refused": test_refused}

if __name__ == "__main__":
    for group in sys.argv[3:] or list(GROUPS):
        with tempfile.TemporaryDirectory(prefix="rsexec-mkdirs-test-") as tmp:
            GROUPS[group](tmp)
