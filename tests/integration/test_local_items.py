"""Local files in batch, worker and mirror: job files mixing items between servers (paired and
relayed) with uploads from and downloads to this machine's disk; mirror up from and down to a
local directory; the journal's relay column, its migration, and `rsexec status`.

    /usr/bin/python3 test_local_items.py RSEXEC RSEXECD GROUP

GROUP is one of batch, worker, mirror, migrate. rsexecd on 127.0.181.1 and 127.0.181.2 (FXP
between them), 127.0.181.3 without --fxp-peers (it refuses every pairing). Every process is
stopped by its pid; every wait is bounded.
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
A_ADDR, B_ADDR, C_ADDR = "127.0.181.1", "127.0.181.2", "127.0.181.3"
FXP = ["--fxp-peers", "127.0.0.0/8"]
NO_FXP = ["--data-timeout", "5"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def shown(server, path=""):
    return "ftp://%s@%s:%d/%s" % (USER, server.address, server.port, path)


def run(args, timeout=120):
    started = time.monotonic()
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout)
    result.elapsed = time.monotonic() - started
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def describe(result):
    return "exit %d\nstdout: %s\nstderr: %s" % (result.returncode, result.stdout[-2500:], result.stderr[-2500:])


def events_of(result):
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def parts_in(*roots):
    found = []
    for root in roots:
        for folder, _, files in os.walk(root):
            found += [os.path.join(folder, f) for f in files if f.endswith(".rsexec-part")]
    return found


def servers():
    return (RsexecdServer(RSEXECD, A_ADDR, extra_args=FXP), RsexecdServer(RSEXECD, B_ADDR, extra_args=FXP),
            RsexecdServer(RSEXECD, C_ADDR, extra_args=NO_FXP))


def mixed_job(tmp, a, b, c):
    """Six items: direct, relayed (line's "relay": "always"), relayed (C refuses pairing), an upload
    from disk, downloads to a file:// URL and into a plain directory."""
    write_random(a.path("set", "direct.bin"), 700 * 1024 + 1)
    write_random(a.path("set", "always.bin"), 300 * 1024 + 7)
    write_random(a.path("set", "refused.bin"), 200 * 1024 + 3)
    write_random(a.path("set", "down.bin"), 1024 * 1024 + 9)
    upload = os.path.join(tmp, "disk", "up load.bin")
    write_random(upload, 900 * 1024 + 5)
    inbox = os.path.join(tmp, "in")
    os.makedirs(inbox, exist_ok=True)
    for server in (b, c):
        os.makedirs(server.path("out"), exist_ok=True)
    job = os.path.join(tmp, "mixed.job")
    with open(job, "w") as f:
        f.write("# direct, relayed, uploaded, downloaded\n")
        f.write("%s %s\n" % (url(a, "set/direct.bin"), url(b, "out/direct.bin")))
        f.write(json.dumps({"src": url(a, "set/always.bin"), "dst": url(b, "out/always.bin"), "relay": "always"}) + "\n")
        f.write("%s %s\n" % (url(a, "set/refused.bin"), url(c, "out/refused.bin")))
        f.write("file://%s %s\n" % (upload.replace(" ", "%20"), url(b, "out/up.bin")))
        f.write("%s file://%s/named%%20down.bin\n" % (url(a, "set/down.bin"), inbox))
        f.write("%s %s/\n" % (url(a, "set/down.bin"), inbox))
    expected = {
        b.path("out", "direct.bin"): a.path("set", "direct.bin"),
        b.path("out", "always.bin"): a.path("set", "always.bin"),
        c.path("out", "refused.bin"): a.path("set", "refused.bin"),
        b.path("out", "up.bin"): upload,
        os.path.join(inbox, "named down.bin"): a.path("set", "down.bin"),
        os.path.join(inbox, "down.bin"): a.path("set", "down.bin"),
    }
    return job, expected, upload, inbox


def check_copies(expected, what):
    for copy, original in expected.items():
        check(os.path.exists(copy), "%s: %s missing" % (what, copy))
        check(digest(copy) == digest(original), "%s: %s differs from %s (sha256)" % (what, copy, original))


def check_relay_flags(events, what, want=(3, 4)):
    done = {e["line"]: e for e in events if e.get("event") == "done"}
    check(sorted(done) == [2, 3, 4, 5, 6, 7], "%s: done lines %r" % (what, sorted(done)))
    relayed = sorted(line for line, e in done.items() if e.get("relay") is True)
    check(relayed == list(want), "%s: \"relay\": true on lines %r, want %r" % (what, relayed, want))


def test_batch(tmp):
    a, b, c = servers()
    with a, b, c:
        job, expected, upload, inbox = mixed_job(tmp, a, b, c)
        journal = os.path.join(tmp, "mixed.journal")
        # One connection per server, three workers: a local item holds one server, an item between
        # servers two; none may wait on another for ever.
        result = run(["batch", "--json", "-j", "3", "--max-per-host", "1", "--journal", journal, job])
        check(result.returncode == 0, "mixed batch: " + describe(result))
        events = events_of(result)
        check_copies(expected, "mixed batch")
        check_relay_flags(events, "mixed batch")
        check(parts_in(a.root, b.root, c.root, inbox) == [], "temporary files left: %r" % parts_in(a.root, b.root, c.root, inbox))
        summary = [e for e in events if e.get("event") == "summary"]
        check(summary and summary[-1].get("peak_per_host", 1) <= 1, "more than one connection to a server: %r" % summary)
        print("ok: one job file: direct, relayed twice, an upload and two downloads, sha256 equal, relay flags right")

        # status: the relayed count, as text and JSON.
        status = run(["status", "--journal", journal])
        check(status.returncode == 0 and "relayed 2 " in status.stdout, "status text: " + describe(status))
        status = run(["status", "--journal", journal, "--json"])
        report = json.loads(status.stdout)
        check(report.get("relayed") == 2 and report.get("done") == 6, "status --json: %r" % report)
        print("ok: status says relayed 2 (text and JSON)")

        # The journal: a second run does nothing.
        result = run(["batch", "--json", "--journal", journal, job])
        check(result.returncode == 0, "second run: " + describe(result))
        check(not [e for e in events_of(result) if e.get("event") == "done"], "second run copied: " + describe(result))
        print("ok: a second run skips every item, local ones too")

        # Overwrite policy and dry-run on local items.
        again = os.path.join(tmp, "again.job")
        with open(again, "w") as f:
            f.write(json.dumps({"src": url(a, "set/down.bin"), "dst": inbox + "/down.bin", "overwrite": "if-different"}) + "\n")
            f.write(json.dumps({"src": upload, "dst": url(b, "out/up.bin"), "overwrite": "never"}) + "\n")
            f.write(json.dumps({"src": upload, "dst": url(b, "out/up2.bin"), "overwrite": "never"}) + "\n")
        plan = run(["batch", "--dry-run", "--json", "--no-journal", again])
        check(plan.returncode == 0, "dry run: " + describe(plan))
        planned = [e for e in events_of(plan) if e.get("event") == "plan"]
        check([e.get("local") for e in planned] == ["download", "upload", "upload"], "dry run: %r" % planned)
        check(not os.path.exists(b.path("out", "up2.bin")), "the dry run copied")
        before = os.stat(os.path.join(inbox, "down.bin")).st_mtime_ns
        result = run(["batch", "--json", "--no-journal", again])
        check(result.returncode == 0, "overwrite policies: " + describe(result))
        skipped = sorted(e["line"] for e in events_of(result) if e.get("event") == "skipped")
        check(skipped == [1, 2], "skipped lines %r: %s" % (skipped, describe(result)))
        check(os.stat(os.path.join(inbox, "down.bin")).st_mtime_ns == before, "a kept local file was written")
        check(digest(b.path("out", "up2.bin")) == digest(upload), "the new upload differs")
        print("ok: --overwrite if-different and never keep local and uploaded files; dry run says upload/download")

        # A failed relayed item: status --failed --json says it was relayed.
        failing = os.path.join(tmp, "failing.job")
        with open(failing, "w") as f:
            f.write(json.dumps({"src": url(a, "set/missing.bin"), "dst": url(b, "out/x.bin"), "relay": "always"}) + "\n")
            f.write("%s %s\n" % (url(a, "set/missing.bin"), os.path.join(tmp, "in", "y.bin")))
        failed_journal = os.path.join(tmp, "failing.journal")
        result = run(["batch", "--json", "--retries", "0", "--journal", failed_journal, failing])
        check(result.returncode != 0, "missing sources: " + describe(result))
        status = run(["status", "--journal", failed_journal, "--failed", "--json"])
        items = {i["line"]: i for i in json.loads(status.stdout)["items"]}
        check(items.get(1, {}).get("relay") is True and items.get(2, {}).get("relay") is False,
              "status --failed --json relay fields: %r" % items)
        check(not os.path.exists(os.path.join(tmp, "in", "y.bin")), "a failed download left a file")
        print("ok: status --failed --json: a failed relayed item has \"relay\": true, a download false")

        # Both sides local on a line: refused with the line's number before anything moves.
        bad = os.path.join(tmp, "bad.job")
        with open(bad, "w") as f:
            f.write("%s %s\n" % (upload, os.path.join(tmp, "copy.bin")))
        result = run(["batch", "--no-journal", bad])
        check(result.returncode == 2 and "line 1" in result.stderr and "local" in result.stderr, "both local: " + describe(result))
        print("ok: a line with two local files is refused (exit 2)")


def test_worker(tmp):
    from postgres_fixture import PostgresServer
    a, b, c = servers()
    with a, b, c, PostgresServer() as pg:
        job, expected, _, inbox = mixed_job(tmp, a, b, c)
        result = run(["batch", "--submit", "--journal", pg.url, job])
        check(result.returncode == 0, "submit: " + describe(result))
        check(not os.path.exists(b.path("out", "up.bin")), "--submit copied")
        # The journal keeps no password: the worker logs in with a .netrc.
        netrc = os.path.join(tmp, "netrc")
        with open(netrc, "w") as f:
            for address in (A_ADDR, B_ADDR, C_ADDR):
                f.write("machine %s login %s password %s\n" % (address, USER, PASSWORD))
        os.chmod(netrc, 0o600)
        result = run(["worker", "--json", "-j", "2", "--netrc", netrc, "--journal", pg.url, "--job", "mixed.job"])
        check(result.returncode == 0, "worker: " + describe(result))
        check_copies(expected, "worker")
        # A line's "relay" field is stored with the item: the worker relays line 3 ("relay": "always")
        # and line 4, whose servers refuse to pair.
        check_relay_flags(events_of(result), "worker")
        check(parts_in(b.root, c.root, inbox) == [], "temporary files left")
        status = run(["status", "--journal", pg.url, "--job", "mixed.job", "--json"])
        report = json.loads(status.stdout)
        check(report.get("relayed") == 2 and report.get("done") == 6, "status --json (PostgreSQL): %r" % report)
        rows = pg.psql("SELECT value FROM rsexec_meta WHERE name = 'schema'")
        check(rows == [("5",)], "PostgreSQL schema: %r" % rows)
        print("ok: --submit then a worker: the mixed job through a PostgreSQL journal, relayed 2")


def tree_of(root):
    found = {}
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            found[os.path.relpath(os.path.join(folder, d), root) + "/"] = None
        for f in files:
            found[os.path.relpath(os.path.join(folder, f), root)] = digest(os.path.join(folder, f))
    return found


def test_mirror(tmp):
    with RsexecdServer(RSEXECD, A_ADDR, extra_args=FXP) as server:
        # Up: a local tree to the server.
        local = os.path.join(tmp, "site")
        write_random(os.path.join(local, "a.bin"), 100 * 1024 + 1)
        write_random(os.path.join(local, "sub", "b.bin"), 200 * 1024 + 2)
        write_random(os.path.join(local, "sub", "deep", "c.bin"), 3)
        os.makedirs(os.path.join(local, "empty"))
        result = run(["mirror", "--json", local + "/", url(server, "up/")])
        check(result.returncode == 0, "mirror up: " + describe(result))
        check(tree_of(server.path("up")) == tree_of(local), "mirror up: trees differ: %r vs %r"
              % (tree_of(server.path("up")), tree_of(local)))
        check(int(os.stat(server.path("up", "sub", "b.bin")).st_mtime) == int(os.stat(os.path.join(local, "sub", "b.bin")).st_mtime),
              "mirror up: the time was not kept")
        result = run(["mirror", "--json", local + "/", url(server, "up/")])
        check(result.returncode == 0 and not [e for e in events_of(result) if e.get("event") == "done"],
              "mirror up again copied: " + describe(result))
        print("ok: mirror up from a local tree: files, empty directory, times; a second run copies nothing")

        os.remove(os.path.join(local, "sub", "b.bin"))
        write_random(os.path.join(local, "new.bin"), 10)
        result = run(["mirror", "--json", "--delete", local + "/", url(server, "up/")])
        check(result.returncode == 0, "mirror up --delete: " + describe(result))
        check(tree_of(server.path("up")) == tree_of(local), "mirror up --delete: trees differ")
        print("ok: mirror up --delete removes what the local tree no longer has")

        # Down: a server tree to a local directory (made with its parents).
        write_random(server.path("site", "x.bin"), 500 * 1024 + 5)
        write_random(server.path("site", "d1", "y.bin"), 17)
        os.makedirs(server.path("site", "d2"))
        down = os.path.join(tmp, "mirrors", "down")
        result = run(["mirror", "--json", url(server, "site/"), "file://" + down + "/"])
        check(result.returncode == 0, "mirror down: " + describe(result))
        check(tree_of(down) == tree_of(server.path("site")), "mirror down: trees differ")
        check(int(os.stat(os.path.join(down, "x.bin")).st_mtime) == int(os.stat(server.path("site", "x.bin")).st_mtime),
              "mirror down: the source's time was not kept")
        check(parts_in(down) == [], "mirror down: temporary files left")
        result = run(["mirror", "--json", url(server, "site/"), down + "/"])
        check(result.returncode == 0 and not [e for e in events_of(result) if e.get("event") == "done"],
              "mirror down again copied: " + describe(result))
        print("ok: mirror down to a local directory: files, directories, times; a second run copies nothing")

        write_random(os.path.join(down, "extra.bin"), 5)
        write_random(os.path.join(down, "gone", "z.bin"), 5)
        os.remove(server.path("site", "d1", "y.bin"))
        write_random(server.path("site", "x.bin"), 600 * 1024)  # another size: copied again
        result = run(["mirror", "--json", "--delete", url(server, "site/"), down + "/"])
        check(result.returncode == 0, "mirror down --delete: " + describe(result))
        check(tree_of(down) == tree_of(server.path("site")), "mirror down --delete: trees differ: %r vs %r"
              % (tree_of(down), tree_of(server.path("site"))))
        print("ok: mirror down --delete removes local extras (a file, a directory) and updates a changed file")

        result = run(["mirror", local + "/", down + "/"])
        check(result.returncode == 2, "both local: " + describe(result))
        print("ok: mirror with two local directories is refused (exit 2)")


def test_migrate(tmp):
    """A journal of schema 4 (this version's without the relayed column and its index, as the
    previous rsexec made it) is read, brought to schema 6, and then records relayed items."""
    a, b, c = servers()
    with a, b, c:
        job, expected, _, _ = mixed_job(tmp, a, b, c)
        journal = os.path.join(tmp, "old.journal")
        check(run(["batch", "--submit", "--journal", journal, job]).returncode == 0, "submit to SQLite")
        db = sqlite3.connect(journal)
        db.executescript("DROP INDEX items_relayed; ALTER TABLE items DROP COLUMN relayed;"
                         "UPDATE meta SET value = '4' WHERE name = 'schema';"
                         "UPDATE items SET state = 'done', bytes = 5 WHERE line = 2;")
        db.close()
        status = run(["status", "--journal", journal, "--json"])
        check(status.returncode == 0, "status of a schema-4 journal: " + describe(status))
        report = json.loads(status.stdout)
        check(report.get("done") == 1 and report.get("pending") == 5 and report.get("relayed") == 0,
              "schema-4 counts: %r" % report)
        db = sqlite3.connect(journal)
        version = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchall()
        columns = [row[1] for row in db.execute("PRAGMA table_info(items)")]
        db.close()
        check(version == [("6",)] and "relayed" in columns, "not brought forward: %r %r" % (version, columns))
        result = run(["batch", "--json", "--journal", journal, job])
        check(result.returncode == 0, "batch on the migrated journal: " + describe(result))
        status = json.loads(run(["status", "--journal", journal, "--json"]).stdout)
        check(status.get("relayed") == 2 and status.get("done") == 6, "after the run: %r" % status)
        print("ok: a schema-4 journal is read, becomes schema 6, and counts the relayed items of the next run")


def main():
    group = sys.argv[3] if len(sys.argv) > 3 else ""
    tests = {"batch": test_batch, "worker": test_worker, "mirror": test_mirror, "migrate": test_migrate}
    if group not in tests:
        raise SystemExit("unknown group %r (one of %s)" % (group, ", ".join(tests)))
    with tempfile.TemporaryDirectory(prefix="rsexec-local-items-") as tmp:
        tests[group](tmp)


if __name__ == "__main__":
    main()
