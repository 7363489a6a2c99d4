"""--overwrite always|never|if-different|newer on copy, batch and mirror, the job file's "overwrite"
field, --dry-run's skips, and batch items whose destination is an existing directory; real rsexecd
servers on 127.0.0.161/162.

    /usr/bin/python3 test_overwrite.py RSEXEC RSEXECD GROUP

GROUP is one of: copy, batch, mirror, dry-run, directory.
A skipped file must stay as it was (same bytes, no STOR in the destination's log), the run must
exit 0, and a skipped batch item must be neither retried nor failed: a `skipped` event with README's
reason, done in the journal.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
SRC_HOST, DST_HOST = "127.0.0.161", "127.0.0.162"
USAGE = 2
OLD, NEW = time.time() - 3 * 86400, time.time() - 86400  # whole days apart: MDTM has seconds


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, expect=0, timeout=120):
    try:
        result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args[:3]), timeout))
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    check(result.returncode == expect, "rsexec %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
          % (" ".join(a for a in args if "://" not in a), result.returncode, expect, result.stdout[-2000:],
             result.stderr[-2000:]))
    return result


def events(result):
    try:
        parsed = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    except ValueError as error:
        raise AssertionError("stdout is not one JSON object per line (%s): %s" % (error, result.stdout[-800:]))
    check(parsed and parsed[-1].get("event") == "summary", "no summary last: %s" % result.stdout[-800:])
    return parsed


def put(path, size, when, data=None):
    """A file of `size` random bytes (or `data`) whose modification time is `when`."""
    if data is None:
        write_random(path, size)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.utime(path, (when, when))


def stors(server):
    return len(server.transfers("STOR"))


class Scene:
    """Both servers, and the files each case starts from."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst

    def pair(self, name, src_size, dst_size, src_time, dst_time, same_bytes=False):
        put(self.src.path(name), src_size, src_time)
        if dst_size is None:
            if os.path.exists(self.dst.path(name)):
                os.remove(self.dst.path(name))
            return
        data = open(self.src.path(name), "rb").read() if same_bytes else None
        put(self.dst.path(name), dst_size, dst_time, data)

    def kept(self, name, before, stor_count, what):
        check(digest(self.dst.path(name)) == before, "%s: the destination's %s was replaced" % (what, name))
        check(stors(self.dst) == stor_count, "%s: the destination received a STOR for a skipped file" % what)
        check(not [n for n in os.listdir(os.path.dirname(self.dst.path(name))) if n.endswith(".rsexec-part")],
              "%s: a temporary file was left" % what)

    def copied(self, name, what):
        check(digest(self.dst.path(name)) == digest(self.src.path(name)),
              "%s: %s at the destination is not the source's copy" % (what, name))


def group_copy(scene):
    src, dst = scene.src, scene.dst
    cases = [
        # (policy, extra options, src size, dst size, src time, dst time, same bytes, skipped?, reason text)
        ("never", [], 4096, 4096, NEW, OLD, False, True, "exists"),
        ("never", [], 4096, None, NEW, None, False, False, None),
        ("if-different", [], 4096, 4096, NEW, OLD, False, True, "same size"),
        ("if-different", [], 4096, 100, OLD, NEW, False, False, None),
        ("if-different", ["--verify", "checksum"], 4096, 4096, OLD, NEW, False, False, None),
        ("if-different", ["--verify", "checksum"], 4096, 4096, NEW, OLD, True, True, "same size and checksum"),
        ("newer", [], 4096, 100, OLD, NEW, False, True, "not older"),
        ("newer", [], 4096, 4096, NEW, OLD, False, False, None),
        ("always", [], 4096, 4096, OLD, NEW, False, False, None),
    ]
    for number, (policy, extra, src_size, dst_size, src_time, dst_time, same, skipped, reason) in enumerate(cases):
        name = "c%d.bin" % number
        what = "copy --overwrite %s %s (case %d)" % (policy, " ".join(extra), number)
        scene.pair(name, src_size, dst_size, src_time, dst_time, same)
        before = digest(dst.path(name)) if dst_size is not None else None
        count = stors(dst)
        result = run(["copy", "--overwrite", policy] + extra + [url(src, name), url(dst, name)])
        if skipped:
            scene.kept(name, before, count, what)
            check("skipped" in result.stderr and reason in result.stderr and policy in result.stderr,
                  "%s: stderr does not say it skipped (%s): %r" % (what, reason, result.stderr))
        else:
            scene.copied(name, what)
            check("copied" in result.stdout, "%s: no 'copied' line: %r" % (what, result.stdout))
    # Without the option, copy replaces (always is the default).
    scene.pair("d.bin", 4096, 4096, OLD, NEW)
    run(["copy", url(src, "d.bin"), url(dst, "d.bin")])
    scene.copied("d.bin", "copy without --overwrite")
    bad = run(["copy", "--overwrite", "sometimes", url(src, "d.bin"), url(dst, "d.bin")], expect=USAGE)
    check("--overwrite" in bad.stderr, "a bad --overwrite value is not named: %r" % bad.stderr)
    print("ok: copy: %d policy cases; a skipped copy exits 0, says why and leaves the file alone" % len(cases))


def group_batch(scene, work):
    src, dst = scene.src, scene.dst
    scene.pair("exists.bin", 4096, 4096, NEW, OLD)
    scene.pair("fresh.bin", 4096, None, NEW, None)
    scene.pair("replace.bin", 4096, 4096, NEW, OLD)
    scene.pair("same.bin", 4096, 4096, OLD, NEW)
    scene.pair("older.bin", 4096, 50, OLD, NEW)
    kept = {name: digest(dst.path(name)) for name in ("exists.bin", "same.bin", "older.bin")}
    job = os.path.join(work, "overwrite.job")
    with open(job, "w") as f:
        f.write("%s %s\n" % (url(src, "exists.bin"), url(dst, "exists.bin")))
        f.write("%s %s\n" % (url(src, "fresh.bin"), url(dst, "fresh.bin")))
        # The job file's own policy wins over the command's.
        f.write(json.dumps({"src": url(src, "replace.bin"), "dst": url(dst, "replace.bin"), "overwrite": "always"})
                + "\n")
        f.write(json.dumps({"src": url(src, "same.bin"), "dst": url(dst, "same.bin"), "overwrite": "if-different"})
                + "\n")
        f.write(json.dumps({"src": url(src, "older.bin"), "dst": url(dst, "older.bin"), "overwrite": "newer"}) + "\n")
    count = stors(dst)
    result = run(["batch", "--json", "--overwrite", "never", "--retries", "3", job])
    parsed = events(result)
    skipped = {e["dst"].rsplit("/", 1)[-1]: e.get("skipped") for e in parsed if e["event"] == "skipped"}
    check(skipped == {"exists.bin": "exists", "same.bin": "same-size", "older.bin": "not-newer"},
          "batch: skipped events and their reasons: %s" % skipped)
    check(not [e for e in parsed if e["event"] in ("retry", "error")],
          "batch: a skipped item was retried or failed: %s" % [e for e in parsed if e["event"] in ("retry", "error")])
    summary = parsed[-1]
    check(summary.get("done") == 2 and summary.get("skipped") == 3 and summary.get("failed") == 0,
          "batch: summary %s" % summary)
    for name, before in kept.items():
        check(digest(dst.path(name)) == before, "batch: %s was replaced" % name)
    check(stors(dst) == count + 2, "batch: %d STORs for 2 copies" % (stors(dst) - count))
    scene.copied("fresh.bin", "batch")
    scene.copied("replace.bin", "batch (the line's always)")
    # The journal has the skipped items done: status counts them, and a second run skips them all.
    connection = sqlite3.connect(job + ".journal")
    try:
        states = sorted(row[0] for row in connection.execute("SELECT state FROM items"))
    finally:
        connection.close()
    check(states == ["done"] * 5, "batch: the journal's states after the run: %s" % states)
    status = run(["status", "--journal", job + ".journal", "--json"])
    counts = json.loads(status.stdout)
    check(counts.get("done") == 5 and counts.get("failed") == 0 and counts.get("pending") == 0,
          "batch: status counts %s" % counts)
    again = events(run(["batch", "--json", "--overwrite", "never", job]))
    check([e.get("skipped") for e in again if e["event"] == "skipped"] == ["journal"] * 5,
          "batch: a second run does not skip every item as done in the journal: %s" % again)
    # A JSON line with a policy rsexec does not know is a bad line.
    bad = os.path.join(work, "bad.job")
    with open(bad, "w") as f:
        f.write(json.dumps({"src": url(src, "x"), "dst": url(dst, "x"), "overwrite": "maybe"}) + "\n")
    result = run(["batch", "--check", bad], expect=USAGE)
    check("overwrite" in result.stderr + result.stdout, "a bad \"overwrite\" field is not named: %r" % result.stderr)
    print("ok: batch: skipped items (exists, same-size, not-newer) are successes, not retried, done in the journal")


def group_mirror(scene):
    src, dst = scene.src, scene.dst
    for name, src_time, dst_time in (("a.bin", NEW, OLD), ("b.bin", OLD, NEW)):
        scene.pair("tree/" + name, 4096, 4096, src_time, dst_time)
    scene.pair("tree/new.bin", 4096, None, NEW, None)
    os.makedirs(dst.path("tree"), exist_ok=True)

    def mirror(policy, extra=()):
        return events(run(["mirror", "--json", "--overwrite", policy] + list(extra)
                          + [url(src, "tree/"), url(dst, "tree/")]))

    def copied_names(parsed):
        return sorted(e["dst"].rsplit("/", 1)[-1] for e in parsed if e["event"] == "done")

    before = {n: digest(dst.path("tree", n)) for n in ("a.bin", "b.bin")}
    parsed = mirror("never")
    check(copied_names(parsed) == ["new.bin"], "mirror --overwrite never copied %s" % copied_names(parsed))
    check({n: digest(dst.path("tree", n)) for n in before} == before, "mirror --overwrite never replaced a file")
    check(not [e for e in parsed if e["event"] in ("retry", "error")], "mirror never: retries or errors: %s" % parsed)
    parsed = mirror("newer")
    check(copied_names(parsed) == ["a.bin"], "mirror --overwrite newer copied %s" % copied_names(parsed))
    scene.copied("tree/a.bin", "mirror newer")
    check(digest(dst.path("tree", "b.bin")) == before["b.bin"], "mirror --overwrite newer replaced a newer file")
    # Same size, other bytes: if-different keeps it, unless the digests are compared.
    parsed = mirror("if-different")
    check(copied_names(parsed) == [], "mirror --overwrite if-different copied %s" % copied_names(parsed))
    parsed = mirror("if-different", ["--verify", "checksum"])
    check(copied_names(parsed) == ["b.bin"], "mirror if-different --verify checksum copied %s" % copied_names(parsed))
    scene.copied("tree/b.bin", "mirror if-different --verify checksum")
    parsed = mirror("if-different", ["--verify", "checksum"])
    check(copied_names(parsed) == [] and parsed[-1].get("skipped") == 3,
          "a second mirror if-different --verify checksum: copied %s, summary %s" % (copied_names(parsed), parsed[-1]))
    count = stors(dst)
    parsed = mirror("always")
    check(copied_names(parsed) == ["a.bin", "b.bin", "new.bin"], "mirror --overwrite always copied %s"
          % copied_names(parsed))
    check(stors(dst) == count + 3, "mirror --overwrite always: %d STORs" % (stors(dst) - count))
    result = run(["mirror", "--overwrite", "never", "--size-only", url(src, "tree/"), url(dst, "tree/")],
                 expect=USAGE)
    check("exclude each other" in result.stderr, "--overwrite with --size-only: %r" % result.stderr)
    print("ok: mirror: never, newer, if-different (with and without digests) and always copy what they should")


def group_dry_run(scene, work):
    src, dst = scene.src, scene.dst
    scene.pair("here.bin", 4096, 4096, NEW, OLD)
    scene.pair("missing.bin", 4096, None, NEW, None)
    job = os.path.join(work, "dry.job")
    with open(job, "w") as f:
        for name in ("here.bin", "missing.bin"):
            f.write("%s %s\n" % (url(src, name), url(dst, name)))
    count = stors(dst)
    parsed = events(run(["batch", "--dry-run", "--no-journal", "--overwrite", "never", job]))
    plans = {e["dst"].rsplit("/", 1)[-1]: e.get("skip") for e in parsed if e["event"] == "plan"}
    check(plans == {"here.bin": "exists", "missing.bin": None}, "batch --dry-run --overwrite never plans %s" % plans)
    check(parsed[-1].get("planned") == 1 and parsed[-1].get("skipped") == 1, "dry-run summary %s" % parsed[-1])
    parsed = events(run(["batch", "--dry-run", "--no-journal", job]))
    check([e.get("skip") for e in parsed if e["event"] == "plan"] == [None, None],
          "batch --dry-run without --overwrite skips something: %s" % parsed)
    scene.pair("tree/kept.bin", 4096, 4096, NEW, OLD)
    scene.pair("tree/more.bin", 4096, None, NEW, None)
    parsed = events(run(["mirror", "--dry-run", "--overwrite", "never", url(src, "tree/"), url(dst, "tree/")]))
    plans = {e["dst"].rsplit("/", 1)[-1]: e.get("skip") for e in parsed if e["event"] == "plan"}
    check(plans.get("kept.bin") == "exists" and "more.bin" in plans and plans["more.bin"] is None,
          "mirror --dry-run --overwrite never plans %s" % plans)
    check(stors(dst) == count and not os.path.exists(dst.path("missing.bin")), "--dry-run copied something")
    print("ok: --dry-run plans the files --overwrite would keep as skipped, with the reason")


def group_directory(scene, work):
    src, dst = scene.src, scene.dst
    names = ["d1.bin", "d2.bin", "d3.bin"]
    for pipeline in ("block", "off"):
        into = "into-" + pipeline
        os.makedirs(dst.path(into))
        for name in names:
            put(src.path(name), 2048, NEW)
        job = os.path.join(work, "directory-%s.job" % pipeline)
        with open(job, "w") as f:
            for name in names:
                f.write("%s %s\n" % (url(src, name), url(dst, into)))
        parsed = events(run(["batch", "--json", "--no-journal", "--pipeline", pipeline, job]))
        check(parsed[-1].get("done") == 3 and parsed[-1].get("failed") == 0,
              "--pipeline %s: items into a directory: %s" % (pipeline, parsed))
        for name in names:
            check(os.path.exists(dst.path(into, name)) and digest(dst.path(into, name)) == digest(src.path(name)),
                  "batch --pipeline %s: %s is not in the directory %s as the source's copy" % (pipeline, name, into))
        left = [n for n in os.listdir(dst.root) if n.endswith(".rsexec-part")]
        check(not left, "--pipeline %s: temporary files left: %s" % (pipeline, left))
    print("ok: batch items whose destination is a directory go into it under the source's name")


def main():
    group = sys.argv[3] if len(sys.argv) > 3 else ""
    groups = {"copy": group_copy, "batch": group_batch, "mirror": group_mirror, "dry-run": group_dry_run,
              "directory": group_directory}
    if group not in groups:
        print(__doc__)
        return USAGE
    work = tempfile.mkdtemp(prefix="rsexec-overwrite-")
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        scene = Scene(src, dst)
        if group in ("copy", "mirror"):
            groups[group](scene)
        else:
            groups[group](scene, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
