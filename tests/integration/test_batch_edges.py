"""rsexec batch and mirror at the edges: job-file checking, --dry-run, the options the three job
commands share, and mirror --delete of directories; real rsexecd servers on 127.0.0.25/26.

    /usr/bin/python3 test_batch_edges.py RSEXEC RSEXECD [GROUP]

GROUP is one of: check, dry-run, options, mirror-delete (all when omitted).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
USAGE = 2
SRC_HOST, DST_HOST = "127.0.0.25", "127.0.0.26"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120, stdin=None):
    try:
        result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args), timeout))
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    check(result.returncode >= 0, "rsexec died of signal %d: %s" % (-result.returncode, result.stderr[-2000:]))
    return result


def json_lines(stdout):
    """Every stdout line must be one JSON object; the last one the summary."""
    try:
        parsed = [json.loads(line) for line in stdout.splitlines()]
    except ValueError:
        raise AssertionError("stdout is not JSON Lines: %r" % stdout[:500])
    check(parsed and parsed[-1].get("event") == "summary", "no summary at the end: %r" % stdout[-500:])
    return parsed


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_check(tmp):
    """--check reports every bad line with its number and reason, up to 100, then how many more."""
    good = "ftp://127.0.0.25:1/x ftp://127.0.0.26:1/in/"
    lines = [good,                                   # 1
             "ftp://a.example/only-one",             # 2: one URL
             "# a comment",                          # 3
             "ftp://h/a b.txt ftp://h2/",            # 4: a raw space in the source URL
             good,                                   # 5
             "ftp://127.0.0.25:1/x http://b/",       # 6: not ftp
             "{\"src\": \"ftp://a/x\"}"]              # 7: JSON without dst
    job = os.path.join(tmp, "bad.job")
    write(job, lines)
    result = run(["batch", "--check", job])
    check(result.returncode == USAGE, "--check of a bad job: exit %d" % result.returncode)
    for number in (2, 4, 6, 7):
        check(re.search(r"\bline %d\b" % number, result.stderr), "line %d not reported: %r" % (number, result.stderr))
    for number in (1, 3, 5):
        check(not re.search(r"\bline %d\b" % number, result.stderr), "good line %d reported: %r" % (number, result.stderr))
    line4 = next((l for l in result.stderr.splitlines() if re.search(r"\bline 4\b", l)), "")
    check("%20" in line4 and "unknown option" not in line4, "raw space not explained: %r" % line4)
    print("ok: --check names lines 2, 4, 6 and 7, and says a space is written %%20:\n    %s"
          % result.stderr.strip().replace("\n", "\n    "))

    # A run (not only --check) reports every bad line too, and moves nothing.
    result = run(["batch", "--no-journal", job])
    check(result.returncode == USAGE, "a run of a bad job: exit %d" % result.returncode)
    check(all(re.search(r"\bline %d\b" % n, result.stderr) for n in (2, 4, 6, 7)), result.stderr)

    # 153 bad lines: 100 are reported, then how many more.
    write(job, [good] + ["ftp://127.0.0.25:1/bad%d" % i for i in range(153)])
    result = run(["batch", "--check", job])
    check(result.returncode == USAGE, "153 bad lines: exit %d" % result.returncode)
    reported = re.findall(r"\bline \d+:", result.stderr)
    check(len(reported) == 100, "%d bad lines reported, want 100" % len(reported))
    check(re.search(r"\b53 more\b", result.stderr), "the lines left unreported are not counted: %r"
          % result.stderr[-300:])
    print("ok: 153 bad lines: 100 reported, then '53 more'")

    write(job, [good, "# fine", good.replace("/x ", "/y ") + " append"])
    result = run(["batch", "--check", job])
    check(result.returncode == 0 and "2 transfers" in result.stdout, "a good job: %d %r %r"
          % (result.returncode, result.stdout, result.stderr))
    print("ok: a good job passes --check")


def test_dry_run(tmp):
    """--dry-run says what a run would skip (done in the journal) and prints JSON when piped."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        names = ["d%d.bin" % i for i in range(3)]
        for name in names:
            write_random(src.path(name), 2000)
        os.makedirs(dst.path("in"))
        job = os.path.join(tmp, "dry.job")
        journal = job + ".journal"
        lines = ["%s %s" % (url(src, n), url(dst, "in/")) for n in names]

        # No journal yet: every item planned, none skipped, and no journal made by a dry run.
        write(job, lines)
        result = run(["batch", "--dry-run", job])
        check(result.returncode == 0, "dry run: exit %d: %s" % (result.returncode, result.stderr))
        parsed = json_lines(result.stdout)
        plans = [e for e in parsed if e["event"] == "plan"]
        check(len(plans) == 3, "want 3 plan events: %s" % parsed)
        for event in plans:
            check(event.get("dialect") in ("rfc438", "epsv", "pasv") and "skip" not in event, event)
            check(event["dst"].startswith("ftp://") and event["src"].endswith(".bin"), event)
        check(not os.path.exists(journal), "a dry run made a journal")
        check(not dst.transfers("STOR"), "a dry run transferred something")
        print("ok: piped --dry-run prints a plan event per item: %s" % json.dumps(plans[0]))

        # The first two done in a real run; the dry run of the whole job skips them.
        write(job, lines[:2])
        result = run(["batch", "--json", job])
        check(result.returncode == 0, "run: exit %d: %s" % (result.returncode, result.stderr))
        write(job, lines)
        stores = len(dst.transfers("STOR"))
        result = run(["batch", "--dry-run", "--json", job])
        check(result.returncode == 0, "dry run: exit %d: %s" % (result.returncode, result.stderr))
        parsed = json_lines(result.stdout)
        plans = {e["src"].rsplit("/", 1)[1]: e for e in parsed if e["event"] == "plan"}
        check(sorted(plans) == names, "plan events: %s" % parsed)
        check(plans["d0.bin"].get("skip") == "done" and plans["d1.bin"].get("skip") == "done",
              "items done in the journal are not shown as skipped: %s" % plans)
        check("skip" not in plans["d2.bin"], "an item to do is shown as skipped: %s" % plans["d2.bin"])
        check(parsed[-1].get("skipped") == 2, "summary: %s" % parsed[-1])
        check(len(dst.transfers("STOR")) == stores, "a dry run transferred something")
        check(not os.path.exists(dst.path("in", "d2.bin")), "a dry run copied d2.bin")
        # The journal was only read: a real run now does the third item and skips the two.
        result = run(["batch", "--json", job])
        summary = json_lines(result.stdout)[-1]
        check(result.returncode == 0 and summary["done"] == 1 and summary["skipped"] == 2,
              "the run after the dry run: %s" % summary)
        print("ok: --dry-run shows the items done in the journal as skipped and leaves the journal alone")

        # With --no-journal nothing is skipped.
        result = run(["batch", "--dry-run", "--no-journal", "--json", job])
        plans = [e for e in json_lines(result.stdout) if e["event"] == "plan"]
        check(len(plans) == 3 and not any("skip" in e for e in plans), "--no-journal dry run: %s" % plans)

        # mirror --dry-run piped: JSON too, with what it would make, copy and delete.
        os.makedirs(src.path("tree", "sub"))
        write_random(src.path("tree", "sub", "m.bin"), 100)
        write_random(dst.path("mirror", "extra.bin"), 100)
        result = run(["mirror", "--dry-run", "--delete", url(src, "tree/"), url(dst, "mirror/")])
        check(result.returncode == 0, "mirror dry run: exit %d: %s" % (result.returncode, result.stderr))
        parsed = json_lines(result.stdout)
        plans = [e for e in parsed if e["event"] == "plan"]
        actions = sorted((e["action"], e["dst"].rsplit("mirror/", 1)[1]) for e in plans)
        check(actions == [("copy", "sub/m.bin"), ("delete", "extra.bin"), ("make", "sub")], "mirror plan: %s" % plans)
        copy = next(e for e in plans if e["action"] == "copy")
        check(copy.get("dialect") in ("rfc438", "epsv", "pasv"), "mirror plan without dialect: %s" % copy)
        check(not os.path.exists(dst.path("mirror", "sub")) and os.path.exists(dst.path("mirror", "extra.bin")),
              "mirror --dry-run changed the destination")
        print("ok: piped mirror --dry-run prints plan events (make, copy, delete)")


def test_options(tmp):
    """Options batch, mirror and worker share are parsed and checked alike, errors name the option."""
    job = os.path.join(tmp, "o.job")
    # Nothing listens on port 1: a command that got past its options would fail to connect.
    write(job, ["ftp://127.0.0.25:1/x ftp://127.0.0.26:1/in/"])
    journal = os.path.join(tmp, "o.journal")
    commands = {"batch": ["batch", "--no-journal", job],
                "mirror": ["mirror", "ftp://127.0.0.25:1/d/", "ftp://127.0.0.26:1/d/"],
                "worker": ["worker", "--journal", journal]}
    bad = [(["-j", "0"], r"(-j|--jobs)\b"), (["-j", "abc"], r"(-j|--jobs)\b"), (["--jobs", "-3"], r"(-j|--jobs)\b"),
           (["--retries", "abc"], r"--retries\b"), (["--retries", "-1"], r"--retries\b"),
           (["--timeout", "0"], r"--timeout\b"), (["--timeout", "soon"], r"--timeout\b"),
           (["--max-per-host", "x"], r"--max-per-host\b"), (["--lease", "0"], r"--lease\b"),
           (["--lease", "1e9"], r"--lease\b")]
    for name, args in commands.items():
        for option, pattern in bad:
            result = run(args[:1] + option + args[1:], timeout=30)
            label = "rsexec %s %s" % (name, " ".join(option))
            check(result.returncode == USAGE, "%s: exit %d: %s" % (label, result.returncode, result.stderr))
            check(re.search(pattern, result.stderr), "%s: the message does not name the option: %r"
                  % (label, result.stderr.strip()))
            check("failed to parse" not in result.stderr, "%s: cxxopts' message: %r" % (label, result.stderr))
    check(not os.path.exists(journal), "a refused worker made a journal")
    print("ok: -j 0, -j abc, --retries/--timeout/--max-per-host/--lease out of range: exit 2 naming the option, "
          "in batch, mirror and worker")

    # --no-journal, --job, --name and --lease are taken by mirror as by batch.
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        write_random(src.path("t", "a.bin"), 1000)
        result = run(["mirror", "--no-journal", "--json", url(src, "t/"), url(dst, "t/")])
        check(result.returncode == 0, "mirror --no-journal: exit %d: %s" % (result.returncode, result.stderr))
        check(digest(dst.path("t", "a.bin")) == digest(src.path("t", "a.bin")), "mirror --no-journal copied nothing")
        mirror_journal = os.path.join(tmp, "m.journal")
        write_random(src.path("t", "b.bin"), 1000)
        result = run(["mirror", "--journal", mirror_journal, "--job", "nightly-mirror", "--lease", "20",
                      "--name", "m1", "--json", url(src, "t/"), url(dst, "t/")])
        check(result.returncode == 0, "mirror --journal --job: exit %d: %s" % (result.returncode, result.stderr))
        status = run(["status", "--journal", mirror_journal, "--json"])
        check(status.returncode == 0 and json.loads(status.stdout)["job"] == "nightly-mirror",
              "mirror --job not kept in the journal: %s %s" % (status.stdout, status.stderr))
        print("ok: mirror takes --no-journal, --job, --lease and --name as batch does")


def test_mirror_delete(tmp):
    """mirror --delete removes the directories the source no longer has, deepest first, once empty
    of what the source lacks; a directory holding an excluded file stays."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        for name in ("keep/k.bin", "old/o.bin", "old/deep/er/d.bin", "held/h.bin", "held/notes.tmp"):
            write_random(src.path("tree", name), 500)
        os.makedirs(src.path("tree", "old", "empty"))
        result = run(["mirror", "--json", url(src, "tree/"), url(dst, "copy/")])
        check(result.returncode == 0, "first mirror: exit %d: %s" % (result.returncode, result.stderr))
        # held/notes.tmp is at the destination although excluded later: it keeps held/ alive.
        check(os.path.exists(dst.path("copy", "held", "notes.tmp")), "setup: notes.tmp not copied")
        for gone in ("old", "held"):
            subprocess.run(["rm", "-rf", src.path("tree", gone)], check=True)
        result = run(["mirror", "--json", "--delete", "--exclude", "*.tmp", url(src, "tree/"), url(dst, "copy/")])
        check(result.returncode == 0, "mirror --delete: exit %d: %s" % (result.returncode, result.stderr))
        check(not os.path.exists(dst.path("copy", "old", "o.bin")), "a file the source lost was kept")
        check(not os.path.exists(dst.path("copy", "old")), "a directory the source lost was kept: %s"
              % [os.path.join(d, f) for d, ds, fs in os.walk(dst.path("copy", "old")) for f in ds + fs])
        check(not os.path.exists(dst.path("copy", "held", "h.bin")), "held/h.bin kept")
        check(os.path.exists(dst.path("copy", "held", "notes.tmp")), "an excluded file was deleted")
        check(digest(dst.path("copy", "keep", "k.bin")) == digest(src.path("tree", "keep", "k.bin")), "keep/ harmed")
        print("ok: mirror --delete removed old/ (with old/deep/er/ and old/empty/), kept held/ for its excluded file")


GROUPS = {"check": test_check, "dry-run": test_dry_run, "options": test_options, "mirror-delete": test_mirror_delete}

if __name__ == "__main__":
    chosen = sys.argv[3:] or list(GROUPS)
    for group in chosen:
        with tempfile.TemporaryDirectory(prefix="rsexec-edges-test-") as tmp:
            GROUPS[group](tmp)
