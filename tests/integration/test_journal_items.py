"""What the journal keeps of an item: a line's own "overwrite", "relay" and "mkdirs" reach a worker
elsewhere (PostgreSQL), and a SQLite journal of schema 5, as the previous rsexec left it, is read,
brought forward to schema 6 (items found by a hash of their key) and worked on.

    /usr/bin/python3 test_journal_items.py RSEXEC RSEXECD GROUP

GROUP is one of policies, old-journal. rsexecd on 127.0.193.1 and 127.0.193.2 (FXP between them).
Every process is stopped by its pid; every wait is bounded.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
A_ADDR, B_ADDR = "127.0.193.1", "127.0.193.2"
FXP = ["--fxp-peers", "127.0.0.0/8"]
PARTIAL = 11  # some items done, some failed
OLD_JOURNAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "journal_schema5.sql")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def run(args, timeout=120):
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def describe(result):
    return "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout[-2500:], result.stderr[-2500:])


def events_of(result):
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def by_line(events, kind):
    return {e["line"]: e for e in events if e.get("event") == kind}


def servers():
    return RsexecdServer(RSEXECD, A_ADDR, extra_args=FXP), RsexecdServer(RSEXECD, B_ADDR, extra_args=FXP)


def test_policies(tmp):
    """A job submitted to PostgreSQL whose lines say "overwrite": "never", "relay": "never" and
    "mkdirs": false, run by a worker started with --overwrite always --relay always (and mkdirs
    on): each line does what it says; a line without its own fields follows the worker's flags."""
    from postgres_fixture import PostgresServer
    a, b = servers()
    with a, b, PostgresServer() as pg:
        for name, size in (("keep.bin", 4000), ("direct.bin", 5000), ("nodir.bin", 600), ("plain.bin", 7000)):
            write_random(a.path("set", name), size)
        write_random(b.path("out", "keep.bin"), 1234)
        kept = digest(b.path("out", "keep.bin"))
        job = os.path.join(tmp, "lines.job")
        with open(job, "w") as f:
            f.write(json.dumps({"src": url(a, "set/keep.bin"), "dst": url(b, "out/keep.bin"), "overwrite": "never"}) + "\n")
            f.write(json.dumps({"src": url(a, "set/direct.bin"), "dst": url(b, "out/direct.bin"), "relay": "never"}) + "\n")
            f.write(json.dumps({"src": url(a, "set/nodir.bin"), "dst": url(b, "missing/nodir.bin"), "mkdirs": False}) + "\n")
            f.write("%s %s\n" % (url(a, "set/plain.bin"), url(b, "out/plain.bin")))
        result = run(["batch", "--submit", "--journal", pg.url, job])
        check(result.returncode == 0, "submit: " + describe(result))
        # The journal keeps no password: the worker logs in with a .netrc.
        netrc = os.path.join(tmp, "netrc")
        with open(netrc, "w") as f:
            for address in (A_ADDR, B_ADDR):
                f.write("machine %s login %s password %s\n" % (address, USER, PASSWORD))
        os.chmod(netrc, 0o600)
        result = run(["worker", "--json", "-j", "2", "--retries", "0", "--netrc", netrc, "--overwrite", "always",
                      "--relay", "always", "--journal", pg.url, "--job", "lines.job"])
        events = events_of(result)
        check(result.returncode == PARTIAL, "worker: want exit 11 (line 3's directory is missing): " + describe(result))
        skipped, done, failed = by_line(events, "skipped"), by_line(events, "done"), by_line(events, "error")
        check(sorted(skipped) == [1] and digest(b.path("out", "keep.bin")) == kept,
              "line 1 says \"overwrite\": \"never\": skipped %r, done %r\n%s" % (sorted(skipped), sorted(done), describe(result)))
        check(2 in done and not done[2].get("relay") and digest(b.path("out", "direct.bin")) == digest(a.path("set", "direct.bin")),
              "line 2 says \"relay\": \"never\": %r" % done.get(2))
        check(sorted(failed) == [3] and "mkdirs" in failed[3].get("error", "") and not os.path.exists(b.path("missing")),
              "line 3 says \"mkdirs\": false: failed %r, done %r" % (failed, sorted(done)))
        check(4 in done and done[4].get("relay") is True and digest(b.path("out", "plain.bin")) == digest(a.path("set", "plain.bin")),
              "line 4 follows the worker's --relay always: %r" % done.get(4))
        rows = pg.psql("SELECT value FROM rsexec_meta WHERE name = 'schema'")
        check(rows == [("5",)], "PostgreSQL schema: %r" % rows)
        print("ok: a worker with --overwrite always --relay always does what each line says: kept, paired, no MKD")


def test_old_journal(tmp):
    """A SQLite journal of schema 5 (tests/integration/journal_schema5.sql, as rsexec 82f5005 left it:
    lines 1 and 3 done, line 2 failed) is read by status, brought forward to schema 6, and a batch
    run on it copies only line 2, finding lines 1 and 3 done by their hashed key."""
    a, b = servers()
    with a, b:
        write_random(a.path("one.bin"), 1000)
        write_random(a.path("three.bin"), 3000)
        job = os.path.join(tmp, "old.job")
        with open(job, "w") as f:
            f.write("%s %s\n" % (url(a, "one.bin"), url(b, "one.bin")))
            f.write("%s %s\n" % (url(a, "two.bin"), url(b, "two.bin")))
            f.write(json.dumps({"src": url(a, "three.bin"), "dst": url(b, "three.bin"), "overwrite": "never"}) + "\n")
        with open(OLD_JOURNAL) as f:
            dump = f.read().replace("@SRC@", "%s:%d" % (a.address, a.port)).replace("@DST@", "%s:%d" % (b.address, b.port))
        journal = job + ".journal"
        db = sqlite3.connect(journal)
        db.executescript(dump)
        db.close()
        status = run(["status", "--journal", journal, "--json"])
        check(status.returncode == 0, "status of a schema-5 journal: " + describe(status))
        report = json.loads(status.stdout)
        check(report.get("done") == 2 and report.get("failed") == 1 and report.get("bytes") == 4000,
              "schema-5 counts: %r" % report)
        failed = json.loads(run(["status", "--journal", journal, "--failed", "--json"]).stdout)["items"]
        check(len(failed) == 1 and failed[0]["line"] == 2 and failed[0]["exit_code"] == 5, "failed items: %r" % failed)
        db = sqlite3.connect(journal)
        version = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchall()
        columns = [row[1] for row in db.execute("PRAGMA table_info(items)")]
        indexes = sorted(row[1] for row in db.execute("PRAGMA index_list(items)"))
        db.close()
        check(version == [("6",)] and {"id", "ident", "overwrite", "relay", "mkdirs"} <= set(columns),
              "not brought forward: %r %r" % (version, columns))
        check("items_ident" in indexes and not any(name.startswith("sqlite_autoindex") for name in indexes),
              "indexes of schema 6: %r" % indexes)
        write_random(a.path("two.bin"), 2000)
        result = run(["batch", "--json", job])
        check(result.returncode == 0, "batch on the brought-forward journal: " + describe(result))
        events = events_of(result)
        check(sorted(by_line(events, "skipped")) == [1, 3] and sorted(by_line(events, "done")) == [2],
              "lines done in the old journal are skipped, line 2 copied: %s" % describe(result))
        check(not os.path.exists(b.path("one.bin")) and digest(b.path("two.bin")) == digest(a.path("two.bin")),
              "copied what was done before, or not line 2")
        report = json.loads(run(["status", "--journal", journal, "--json"]).stdout)
        check(report.get("done") == 3 and report.get("failed") == 0 and report.get("total", 3) == 3,
              "after the run: %r" % report)
        print("ok: a schema-5 journal from the previous rsexec becomes schema 6; done lines found by their hashed key")


def main():
    group = sys.argv[3] if len(sys.argv) > 3 else ""
    tests = {"policies": test_policies, "old-journal": test_old_journal}
    if group not in tests:
        raise SystemExit("unknown group %r (one of %s)" % (group, ", ".join(tests)))
    with tempfile.TemporaryDirectory(prefix="rsexec-journal-items-") as tmp:
        tests[group](tmp)


if __name__ == "__main__":
    main()
