"""Many small files relayed through one pair of sessions, commands pipelined (relay_pipeline.hpp).

    /usr/bin/python3 test_relay_pipeline.py RSEXEC RSEXECD GROUP

GROUP is one of always, auto, edges. The servers are rsexecd without --fxp-peers (they refuse
every pairing) on 127.0.0.154 and 127.0.0.155. Every process is stopped by its pid; every run
is bounded.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
SRC_ADDR, DST_ADDR = "127.0.0.154", "127.0.0.155"
NO_FXP = ["--data-timeout", "5"]
LOGIN = re.compile(r"(?m)^(src|dst)#\d+> USER ")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=150):
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def describe(result):
    return "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout[-1500:], result.stderr[-3000:])


def events_of(result):
    return [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]


def parts_in(root):
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.join(folder, f) for f in files if f.endswith(".rsexec-part")]
    return found


def small_set(src, count):
    # Sizes from 0 up, some of them across the splice pipe's and the socket buffers' sizes.
    names = ["f%03d.bin" % i for i in range(count)]
    for i, name in enumerate(names):
        write_random(src.path("set", name), (i * 997) % 9000 if i % 25 else 70000 * (i % 3))
    return names


def write_job(tmp, src, dst, names, folder="out/"):
    job = os.path.join(tmp, "small.job")
    with open(job, "w") as f:
        f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, folder)) for n in names)
    return job


def check_copies(src, dst, names, folder="out"):
    for name in names:
        copy = dst.path(folder, name)
        check(os.path.exists(copy), "%s was not copied" % name)
        check(digest(copy) == digest(src.path("set", name)), "%s differs" % name)
    check(parts_in(dst.path(folder)) == [], "temporary files left: %s" % parts_in(dst.path(folder))[:3])


def pipelined_retrievals(stderr):
    # The next file's SIZE goes out right behind a RETR, before that RETR's 150 arrives.
    lines = [l for l in stderr.splitlines() if l.startswith("src#")]
    count = 0
    for here, after in zip(lines, lines[1:]):
        if re.match(r"src#\d+> RETR ", here) and re.match(r"src#\d+> SIZE ", after):
            count += 1
    return count


def test_always(tmp):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=NO_FXP) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        names = small_set(src, 150)
        os.makedirs(dst.path("out"))
        job = write_job(tmp, src, dst, names)
        started = time.monotonic()
        result = run(["batch", "-v", "-j", "1", "--relay", "always", "--no-journal", "--json", job])
        elapsed = time.monotonic() - started
        check(result.returncode == 0, "batch: " + describe(result))
        check_copies(src, dst, names)
        logins = LOGIN.findall(result.stderr)
        check(len(logins) == 2, "one login a side for %d files, not %d: %s" % (len(names), len(logins), logins))
        done = [e for e in events_of(result) if e.get("event") == "done"]
        check(len(done) == len(names) and all(e.get("relay") is True for e in done),
              "done events without \"relay\": true: %d of %d; %s" % (len(done), len(names), done[:2]))
        started_events = [e for e in events_of(result) if e.get("event") == "start"]
        check(len(started_events) == len(names), "%d start events for %d files" % (len(started_events), len(names)))
        ahead = pipelined_retrievals(result.stderr)
        check(ahead >= len(names) - 1, "the next file's SIZE went out behind only %d of %d RETRs" % (ahead, len(names)))
        for name in names[:3]:
            check(re.search(r"(?m)^dst#1> STOR out/\.%s\.rsexec-part$" % re.escape(name), result.stderr),
                  "%s not stored under its temporary name: %s" % (name, result.stderr[-2000:]))
            check(re.search(r"(?m)^dst#1> RNTO out/%s$" % re.escape(name), result.stderr),
                  "%s not renamed" % name)
        print("ok: %d small files relayed over one login a side, each file's SIZE pipelined behind the "
              "previous RETR, temporary names renamed, every byte the same (%.1f s)" % (len(names), elapsed))


def test_auto(tmp):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=NO_FXP) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        names = small_set(src, 200)
        os.makedirs(dst.path("out"))
        job = write_job(tmp, src, dst, names)
        result = run(["batch", "-v", "-j", "4", "--no-journal", "--json", job])
        check(result.returncode == 0, "batch: " + describe(result))
        check_copies(src, dst, names)
        check(result.stderr.count("relaying: the servers refuse to connect to each other") == 1,
              "the relay not said exactly once: " + describe(result))
        logins = LOGIN.findall(result.stderr)
        # Four workers, one login a side each; the first item's refused pairing costs its worker
        # one more: the other workers wait for its outcome and relay at once.
        check(len(logins) <= 10, "%d logins for %d files with -j 4" % (len(logins), len(names)))
        done = [e for e in events_of(result) if e.get("event") == "done"]
        check(len(done) == len(names) and all(e.get("relay") is True for e in done),
              "done events without \"relay\": true: %d of %d" % (len(done), len(names)))
        check(pipelined_retrievals(result.stderr) >= len(names) // 2,
              "the relayed files were not pipelined: " + result.stderr[-2000:])
        print("ok: --relay auto, -j 4: %d files relayed with %d logins in all, said once" % (len(names), len(logins)))


def test_edges(tmp):
    with RsexecdServer(RSEXECD, SRC_ADDR, extra_args=NO_FXP) as src, \
            RsexecdServer(RSEXECD, DST_ADDR, extra_args=NO_FXP) as dst:
        names = small_set(src, 30)
        # A file larger than a pipeline takes goes to the usual copy (progress, stall watch).
        write_random(src.path("set", "large.bin"), 17 * 1024 * 1024 + 3)
        listed = names[:10] + ["missing.bin"] + names[10:20] + ["large.bin"] + names[20:]
        os.makedirs(dst.path("out"))
        job = write_job(tmp, src, dst, listed)
        result = run(["batch", "-v", "-j", "1", "--relay", "always", "--retries", "0", "--no-journal", "--json", job])
        check(result.returncode != 0, "a missing source did not fail the batch: " + describe(result))
        check_copies(src, dst, names + ["large.bin"])
        events = events_of(result)
        failed = [e for e in events if e.get("event") == "error"]
        check(len(failed) == 1 and "missing.bin" in json.dumps(failed[0]),
              "not exactly the missing file failed: %s" % failed)
        check(not os.path.exists(dst.path("out", "missing.bin")), "a missing source made a file")
        check(not re.search(r"(?m)^dst#\d+> STOR out/\.missing\.bin", result.stderr),
              "a missing source's STOR went out")
        check(len(LOGIN.findall(result.stderr)) == 2, "a missing source or a large file cost a login: %s"
              % LOGIN.findall(result.stderr))
        print("ok: a missing source fails alone before any STOR; a 17 MiB file between small ones is relayed "
              "the usual way; the sessions stay")

        # A destination that names no folder: each item's name is its own (the MLST answers 550).
        job = os.path.join(tmp, "named.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, "named/" + n + ".copy")) for n in names[:5])
        os.makedirs(dst.path("named"))
        result = run(["batch", "-v", "-j", "1", "--relay", "always", "--no-journal", job])
        check(result.returncode == 0, "named: " + describe(result))
        for n in names[:5]:
            check(digest(dst.path("named", n + ".copy")) == digest(src.path("set", n)), "named: %s differs" % n)
        print("ok: destinations naming files are relayed under their own names")


GROUPS = {"always": test_always, "auto": test_auto, "edges": test_edges}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in GROUPS:
        sys.exit("usage: test_relay_pipeline.py RSEXEC RSEXECD {%s}" % "|".join(GROUPS))
    with tempfile.TemporaryDirectory(prefix="rsexec-relay-pipeline-") as scratch:
        GROUPS[sys.argv[3]](scratch)
