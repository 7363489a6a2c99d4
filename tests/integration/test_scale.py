"""A job of many items in bounded memory: rsexec batch --check, --dry-run, --submit and a run
read the job file a chunk at a time and never hold the whole job.

    /usr/bin/python3 test_scale.py RSEXEC RSEXECD [ITEMS]

A job file of ITEMS lines (default 100,000; zero-byte files, a thousand source names reused)
between two rsexecd on 127.0.201.1 and .2. Each command's own peak RSS (VmHWM from
/proc/PID/status, read until it exits) must stay under BOUND_MIB: a build that holds every item
(about 500 bytes each for check and submit, more for a run) needs about 95 MiB for 100,000.
The run step runs a job whose items the journal has done already (set in the journal file
directly): every item is read, submitted and skipped, none is copied, which keeps the test to
seconds. Every process is stopped by its pid; every wait is bounded.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
ITEMS = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
SRC_ADDR, DST_ADDR = "127.0.201.1", "127.0.201.2"
BOUND_MIB = 40


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def peak_rss(args, stdout_path, limit=240.0):
    """Runs rsexec; returns (exit status, stderr, its own peak RSS in KiB)."""
    with open(stdout_path, "w") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([RSEXEC] + args, stdout=out, stderr=err)
        peak = 0
        deadline = time.monotonic() + limit
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with open("/proc/%d/status" % process.pid) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        err.seek(0)
        text = err.read()
    check(peak > 0, "no VmHWM read for rsexec %s" % args[:2])
    check(PASSWORD not in text, "password leaked into stderr")
    return process.returncode, text, peak


def measured(label, args, stdout_path):
    started = time.monotonic()
    code, err, peak = peak_rss(args, stdout_path)
    check(code == 0, "%s: exit %d: %s" % (label, code, err[-2000:]))
    check(peak < BOUND_MIB * 1024, "%s of %d items: peak RSS %.1f MiB, bound %d MiB"
          % (label, ITEMS, peak / 1024.0, BOUND_MIB))
    print("ok: %-8s %d items in %.1f s, peak RSS %.1f MiB" % (label, ITEMS, time.monotonic() - started, peak / 1024.0))


def last_json(path, event):
    found = None
    with open(path) as lines:
        for line in lines:
            if line.startswith("{") and ('"event":"%s"' % event) in line.replace(" ", ""):
                found = json.loads(line)
    check(found is not None, "no %s event in %s" % (event, path))
    return found


def main():
    tmp = tempfile.mkdtemp(prefix="rsexec-scale-test-")
    try:
        with RsexecdServer(RSEXECD, SRC_ADDR) as src, RsexecdServer(RSEXECD, DST_ADDR) as dst:
            os.makedirs(os.path.join(src.root, "set"))
            for i in range(1000):
                open(os.path.join(src.root, "set", "f%03d" % i), "w").close()
            job = os.path.join(tmp, "job")
            with open(job, "w") as out:
                for i in range(ITEMS):
                    out.write("ftp://%s:%s@%s:%d/set/f%03d ftp://%s:%s@%s:%d/out/d%d/i%d\n"
                              % (USER, PASSWORD, SRC_ADDR, src.port, i % 1000,
                                 USER, PASSWORD, DST_ADDR, dst.port, i // 1000, i))
            out_path = os.path.join(tmp, "out")
            measured("check", ["batch", "--check", job], out_path)

            measured("dry-run", ["batch", "--dry-run", "--json", "--no-journal", job], out_path)
            summary = last_json(out_path, "summary")
            check(summary.get("planned") == ITEMS, "dry-run planned %s of %d" % (summary.get("planned"), ITEMS))

            journal = os.path.join(tmp, "job.journal")
            measured("submit", ["batch", "--submit", "--json", "--journal", journal, job], out_path)
            submitted = last_json(out_path, "submitted")
            check(submitted.get("items") == ITEMS, "submitted %s of %d" % (submitted.get("items"), ITEMS))
            db = sqlite3.connect(journal)
            count = db.execute("SELECT count(*) FROM items WHERE state = 'pending' AND src <> ''").fetchone()[0]
            check(count == ITEMS, "the journal holds %d pending items of %d" % (count, ITEMS))
            check(PASSWORD not in db.execute("SELECT src || dst FROM items LIMIT 1").fetchone()[0],
                  "the journal holds a password")
            # Every item done: the run reads, submits and skips each, and copies nothing.
            with db:
                db.execute("UPDATE items SET state = 'done'")
            db.close()

            measured("dry-run journal", ["batch", "--dry-run", "--json", "--journal", journal, job], out_path)
            summary = last_json(out_path, "summary")
            check(summary.get("skipped") == ITEMS, "dry-run with the journal skipped %s of %d"
                  % (summary.get("skipped"), ITEMS))

            measured("run", ["batch", "--json", "--journal", journal, job], out_path)
            summary = last_json(out_path, "summary")
            check(summary.get("skipped") == ITEMS and summary.get("done") == 0,
                  "run: %s skipped, %s done, of %d" % (summary.get("skipped"), summary.get("done"), ITEMS))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
