"""What did not finish, and passwords asked for: `rsexec status --failed [--json]` on SQLite and
PostgreSQL journals (and on a journal file of the schema before), `--dump-failed FILE` of batch,
mirror and worker, and the terminal password prompt (a real pty) against real rsexecd servers on
127.0.19.21/22.

    /usr/bin/python3 test_failed_items.py RSEXEC RSEXECD [GROUP]

GROUP is one of: status, status-postgresql, old-journal, dump, dump-interrupted, dump-options,
prompt, prompt-interrupted, no-tty (all when omitted).
"""
import json
import os
import pty
import re
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
SRC_HOST, DST_HOST = "127.0.19.21", "127.0.19.22"
USAGE, LOGIN, SOURCE, DESTINATION, INTERRUPTED, PARTIAL = 2, 4, 5, 6, 12, 11


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path="", password=True):
    credentials = "%s:%s" % (USER, PASSWORD) if password else USER
    return "ftp://%s@%s:%d/%s" % (credentials, server.address, server.port, path)


def shown(server, path=""):
    """The URL as rsexec shows it (and the journal keeps it): user, no password, the port."""
    return "ftp://%s@%s:%d/%s" % (USER, server.address, server.port, path)


def empty_home(tmp):
    """A HOME without .netrc: passwords come from the URLs or nowhere."""
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    return home


def run(args, tmp, timeout=120, stdin=subprocess.DEVNULL):
    env = dict(os.environ, HOME=empty_home(tmp))
    try:
        result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout, stdin=stdin, env=env)
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args), timeout))
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output of rsexec %s" % args[0])
    check(result.returncode >= 0, "rsexec %s died of signal %d: %s" % (args[0], -result.returncode, result.stderr[-2000:]))
    return result


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def failing_job(tmp, src, dst):
    """Line 2 is copied; line 4 (text) has no source (550, exit 5); line 6 (JSON) has a
    destination name rsexecd refuses (553, exit 6)."""
    write_random(src.path("ok.bin"), 3000)
    job = os.path.join(tmp, "mixed.job")
    write(job, ["# three transfers",
                "%s %s" % (url(src, "ok.bin"), url(dst, "ok.bin")),
                "",
                "%s %s" % (url(src, "missing.bin"), url(dst, "missing.bin")),
                "# a name with ESC in it",
                json.dumps({"src": url(src, "ok.bin"), "dst": url(dst, "bad%1Bname.bin")})])
    return job


def check_failed_items(report, src, dst):
    items = report.get("items")
    check(isinstance(items, list) and len(items) == 2, "two failed items expected: %r" % report)
    check(report.get("failed") == 2, "failed count: %r" % report)
    by_line = {item.get("line"): item for item in items}
    check(set(by_line) == {4, 6}, "failed lines 4 and 6 expected: %r" % items)
    missing, bad = by_line[4], by_line[6]
    check(missing["src"] == shown(src, "missing.bin") and missing["dst"] == shown(dst, "missing.bin"),
          "line 4's URLs: %r" % missing)
    check(missing["exit_code"] == SOURCE and "550" in missing["error"], "line 4: exit 5 and the 550: %r" % missing)
    check(bad["exit_code"] == DESTINATION and "553" in bad["error"], "line 6: exit 6 and the 553: %r" % bad)
    check(bad["dst"] == shown(dst, "bad%1Bname.bin"), "line 6's destination: %r" % bad)
    for item in items:
        check(set(item) == {"item", "line", "src", "dst", "append", "attempts", "exit_code", "error", "relay"},
              "fields of a failed item: %r" % sorted(item))
        check(item["attempts"] >= 1 and item["append"] is False, "attempts and append: %r" % item)


def test_status(tmp):
    """status --failed lists each failed item of a SQLite journal: line, URLs, exit code, error."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        job = failing_job(tmp, src, dst)
        result = run(["batch", "--json", "--retries", "0", job], tmp)
        check(result.returncode == PARTIAL, "batch: exit %d: %s" % (result.returncode, result.stderr))
        journal = job + ".journal"
        result = run(["status", "--journal", journal, "--failed", "--json"], tmp)
        check(result.returncode == 0, "status --failed --json: exit %d: %s" % (result.returncode, result.stderr))
        lines = result.stdout.splitlines()
        check(len(lines) == 1, "one JSON object expected: %r" % result.stdout)
        report = json.loads(lines[0])
        check(report.get("job") == "mixed.job", "job name: %r" % report)
        check_failed_items(report, src, dst)
        text = run(["status", "--journal", journal, "--failed"], tmp)
        check(text.returncode == 0, "status --failed: exit %d: %s" % (text.returncode, text.stderr))
        for needle in ("line 4:", "line 6:", shown(src, "missing.bin"), "exit 5", "exit 6", "550", "553"):
            check(needle in text.stdout, "%r missing from status --failed: %r" % (needle, text.stdout))
        check("ok.bin -> " + shown(dst, "ok.bin") not in text.stdout, "a done item listed: %r" % text.stdout)
        print("ok: status --failed lists lines 4 (exit 5) and 6 (exit 6), without passwords:\n    %s"
              % text.stdout.strip().replace("\n", "\n    "))


def test_status_postgresql(tmp):
    """The same from a PostgreSQL journal (the job submitted and run by batch)."""
    from postgres_fixture import PostgresServer
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst, PostgresServer() as pg:
        job = failing_job(tmp, src, dst)
        result = run(["batch", "--json", "--retries", "0", "--journal", pg.url, job], tmp)
        check(result.returncode == PARTIAL, "batch: exit %d: %s" % (result.returncode, result.stderr))
        result = run(["status", "--journal", pg.url, "--job", "mixed.job", "--failed", "--json"], tmp)
        check(result.returncode == 0, "status --failed --json: exit %d: %s" % (result.returncode, result.stderr))
        report = json.loads(result.stdout)
        check(report.get("job") == "mixed.job", "job name: %r" % report)
        check_failed_items(report, src, dst)
        rows = pg.psql("SELECT value FROM rsexec_meta WHERE name = 'schema'")
        check(rows == [("5",)], "schema version: %r" % rows)
        # status reads the counters (schema 3 on): they agree with the items.
        result = run(["status", "--journal", pg.url, "--job", "mixed.job", "--json"], tmp)
        check(result.returncode == 0, "status --json: exit %d: %s" % (result.returncode, result.stderr))
        counted = json.loads(result.stdout)
        for state, n in pg.psql("SELECT state, count(*) FROM rsexec_items WHERE job = 'mixed.job' GROUP BY state"):
            check(counted.get(state) == int(n), "status says %s %r, the items %s" % (state, counted.get(state), n))
        check(counted.get("total") == sum(int(n) for _, n in pg.psql("SELECT 'all', count(*) FROM rsexec_items"
                                                                      " WHERE job = 'mixed.job'")),
              "status total %r" % counted)
        # A database of schema 1 (before exit codes): read, its failed item listed, brought forward.
        old = pg.createdb("old")
        pg.psql(PG_SCHEMA_1 + "INSERT INTO rsexec_jobs (name) VALUES ('old.job');"
                "INSERT INTO rsexec_items (job, seq, line, key, src, dst, append, state, attempts, last_error)"
                " VALUES ('old.job', 0, 3, 'k', '%s', '%s', false, 'failed', 1, 'src: RETR x: 550 No such file')"
                % (shown(src, "x"), shown(dst, "x")), database="old")
        result = run(["status", "--journal", old, "--failed", "--json"], tmp)
        check(result.returncode == 0, "status of a schema-1 database: exit %d: %s" % (result.returncode, result.stderr))
        items = json.loads(result.stdout).get("items")
        check(len(items) == 1 and items[0]["line"] == 3 and items[0]["exit_code"] is None and "550" in items[0]["error"],
              "the schema-1 database's failed item: %r" % items)
        rows = pg.psql("SELECT value FROM rsexec_meta WHERE name = 'schema'", database="old")
        check(rows == [("5",)], "the schema-1 database was not brought forward: %r" % rows)
        result = run(["status", "--journal", old, "--json"], tmp)
        counted = json.loads(result.stdout) if result.returncode == 0 else {}
        check(counted.get("failed") == 1 and counted.get("total") == 1,
              "the schema-1 database's counters: exit %d: %s" % (result.returncode, result.stdout + result.stderr))
        print("ok: status --failed --json from PostgreSQL: lines 4 and 6 with exit codes 5 and 6; a schema-1 "
              "database read and brought forward")


# PostgreSQL's schema 1, as rsexec made it before failed items kept their exit code.
PG_SCHEMA_1 = """
CREATE TABLE rsexec_meta (name text PRIMARY KEY, value text NOT NULL);
INSERT INTO rsexec_meta VALUES ('schema', '1');
CREATE TABLE rsexec_jobs (name text PRIMARY KEY, created timestamptz NOT NULL DEFAULT now(),
  max_per_host integer NOT NULL DEFAULT 0);
CREATE TABLE rsexec_items (
  id bigserial PRIMARY KEY, job text NOT NULL REFERENCES rsexec_jobs (name) ON DELETE CASCADE,
  seq bigint NOT NULL, line bigint NOT NULL, key text NOT NULL, src text NOT NULL, dst text NOT NULL,
  append boolean NOT NULL, state text NOT NULL, worker text, claims integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0, bytes bigint NOT NULL DEFAULT 0, last_error text NOT NULL DEFAULT '',
  started timestamptz, finished timestamptz, UNIQUE (job, key));
"""


# The SQLite journal's schema 2, as rsexec made it before failed items kept their exit code.
SCHEMA_2 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
  updated TEXT NOT NULL DEFAULT (datetime('now')), seq INTEGER NOT NULL DEFAULT 0,
  line INTEGER NOT NULL DEFAULT 0, src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '',
  append INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '', claims INTEGER NOT NULL DEFAULT 0,
  started REAL, finished REAL);
CREATE INDEX items_queue ON items (state, seq);
INSERT INTO meta VALUES ('schema', '2'), ('job', 'old.job'), ('max_per_host', '0');
"""


def test_old_journal(tmp):
    """A journal file of schema 2 is read (its failed item listed, exit code unknown) and brought
    forward; a batch run on it then records exit codes."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        job = os.path.join(tmp, "old.job")
        write(job, ["%s %s" % (url(src, "late.bin"), url(dst, "late.bin"))])
        journal = job + ".journal"
        db = sqlite3.connect(journal)
        db.executescript(SCHEMA_2)
        key = "%s -> %s" % (shown(src, "late.bin"), shown(dst, "late.bin"))
        db.execute("INSERT INTO items (key, state, attempts, last_error, seq, line, src, dst, worker, claims)"
                   " VALUES (?, 'failed', 1, 'src: RETR late.bin: 550 No such file', 0, 1, ?, ?, 'w', 1)",
                   (key, shown(src, "late.bin"), shown(dst, "late.bin")))
        db.commit()
        db.close()
        result = run(["status", "--journal", journal, "--failed", "--json"], tmp)
        check(result.returncode == 0, "status of a schema-2 journal: exit %d: %s" % (result.returncode, result.stderr))
        items = json.loads(result.stdout).get("items")
        check(len(items) == 1 and items[0]["line"] == 1 and items[0]["exit_code"] is None
              and "550" in items[0]["error"], "the old journal's failed item: %r" % items)
        db = sqlite3.connect(journal)
        version = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchall()
        db.close()
        check(version == [("6",)], "the journal was not brought forward: %r" % version)
        result = run(["batch", "--json", "--retries", "0", job], tmp)
        check(result.returncode == SOURCE, "batch on the old journal: exit %d: %s" % (result.returncode, result.stderr))
        items = json.loads(run(["status", "--journal", journal, "--failed", "--json"], tmp).stdout)["items"]
        check(len(items) == 1 and items[0]["exit_code"] == SOURCE, "exit code after a run: %r" % items)
        write_random(src.path("late.bin"), 500)
        result = run(["batch", "--json", job], tmp)
        check(result.returncode == 0, "the fixed batch: exit %d: %s" % (result.returncode, result.stderr))
        items = json.loads(run(["status", "--journal", journal, "--failed", "--json"], tmp).stdout)["items"]
        check(items == [], "nothing failed after the fix: %r" % items)
        print("ok: a schema-2 journal lists its failed item (exit code null), becomes schema 6, then records exit 5")


def dumped_transfers(path):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line.strip() and not line.startswith("#")]


def test_dump(tmp):
    """batch --dump-failed writes the failed lines as the job file had them (JSON options kept),
    0600, via a temporary name; --check accepts it; run again once the source is fixed, it
    completes; with nothing left the file lists nothing."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        write_random(src.path("ok.bin"), 3000)
        write_random(dst.path("log.txt"), 100)
        json_line = json.dumps({"src": url(src, "tail.txt"), "dst": url(dst, "log.txt"), "append": True})
        text_line = "%s %s" % (url(src, "missing.bin"), url(dst, "in/missing.bin"))
        job = os.path.join(tmp, "first.job")
        write(job, ["%s %s" % (url(src, "ok.bin"), url(dst, "ok.bin")), text_line, "  " + json_line])
        dump = os.path.join(tmp, "again.job")
        os.makedirs(dst.path("in"))
        for journal in (["--no-journal"], []):
            result = run(["batch", "--json", "--retries", "0", "--dump-failed", dump] + journal + [job], tmp)
            check(result.returncode == PARTIAL, "batch %s: exit %d: %s" % (journal, result.returncode, result.stderr))
            check(dumped_transfers(dump) == [text_line, json_line],
                  "the dump %s should hold lines 2 and 3 as written: %r" % (journal, open(dump).read()))
        mode = stat.S_IMODE(os.stat(dump).st_mode)
        check(mode == 0o600, "the dump's mode: %o" % mode)
        check(all(not name.startswith("again.job.") for name in os.listdir(tmp)), "temporary files left: %r" % os.listdir(tmp))
        with open(dump) as f:
            comments = f.read()
        check("# line 2: failed, exit 5" in comments and "# line 3: failed, exit 5" in comments,
              "the dump's comments: %r" % comments)
        checked = run(["batch", "--check", dump], tmp)
        check(checked.returncode == 0 and "2 transfers" in checked.stdout, "--check of the dump: %r" % checked.stdout)
        # The servers fixed: the sources exist now.
        write_random(src.path("missing.bin"), 2000)
        with open(src.path("tail.txt"), "wb") as f:
            f.write(b"appended\n")
        before = open(dst.path("log.txt"), "rb").read()
        rerun = run(["batch", "--json", "--dump-failed", dump, dump], tmp)
        check(rerun.returncode == 0, "the rerun: exit %d: %s" % (rerun.returncode, rerun.stderr))
        check(digest(dst.path("in", "missing.bin")) == digest(src.path("missing.bin")), "missing.bin not copied")
        check(open(dst.path("log.txt"), "rb").read() == before + b"appended\n", "the JSON line's append was lost")
        check(dumped_transfers(dump) == [], "after a complete rerun the dump lists nothing: %r" % open(dump).read())
        print("ok: --dump-failed kept lines 2 and 3 as written (JSON append kept), 0600; --check and a rerun completed")


def test_dump_interrupted(tmp):
    """Items never done (a batch stopped by SIGTERM) are dumped too, with the failed ones."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        with open(src.path("big.bin"), "wb") as f:
            f.truncate(512 << 20)
        lines = ["%s %s" % (url(src, "big.bin"), url(dst, "big.bin"))]
        for n in range(3):
            write_random(src.path("small%d.bin" % n), 100)
            lines.append("%s %s" % (url(src, "small%d.bin" % n), url(dst, "small%d.bin" % n)))
        job = os.path.join(tmp, "stopped.job")
        write(job, lines)
        dump = os.path.join(tmp, "rest.job")
        env = dict(os.environ, HOME=empty_home(tmp))
        process = subprocess.Popen([RSEXEC, "batch", "--json", "-j", "1", "--pipeline", "off", "--dump-failed", dump, job],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 60
            ready, _, _ = select.select([process.stdout], [], [], 60)
            check(ready, "no event from the batch in 60 s")
            first = process.stdout.readline()
            check(first and json.loads(first).get("event") == "start", "the first event: %r" % first)
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=max(1, deadline - time.monotonic()))
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        check(process.returncode == INTERRUPTED, "SIGTERM: exit %d: %s" % (process.returncode, err[-1000:]))
        events = [json.loads(line) for line in (first + out).decode().splitlines()]
        done = {event["line"] for event in events if event.get("event") == "done"}
        expected = [line for number, line in enumerate(lines, 1) if number not in done]
        check(len(expected) >= 3, "the run finished too much before SIGTERM: %r" % events)
        check(dumped_transfers(dump) == expected, "the dump after SIGTERM: %r" % open(dump).read())
        check("pending" in open(dump).read(), "no item marked pending: %r" % open(dump).read())
        checked = run(["batch", "--check", dump], tmp)
        check(checked.returncode == 0, "--check of the dump: %s" % checked.stderr)
        print("ok: after SIGTERM the dump holds the %d items not done" % len(expected))


def test_dump_options(tmp):
    """--dump-failed behaves alike in batch, mirror and worker: an unwritable FILE is exit 2 before
    anything moves; mirror writes what it did not copy (here: nothing)."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        write_random(src.path("tree", "a.bin"), 100)
        job = os.path.join(tmp, "one.job")
        write(job, ["%s %s" % (url(src, "tree/a.bin"), url(dst, "a.bin"))])
        nowhere = os.path.join(tmp, "no-such-dir", "out.job")
        result = run(["batch", "--json", "--dump-failed", nowhere, job], tmp)
        check(result.returncode == USAGE and "--dump-failed" in result.stderr,
              "batch with an unwritable dump: exit %d: %s" % (result.returncode, result.stderr))
        check(not os.path.exists(dst.path("a.bin")), "batch copied before refusing the dump file")
        result = run(["mirror", "--json", "--dump-failed", nowhere, url(src, "tree/"), url(dst, "copy/")], tmp)
        check(result.returncode == USAGE and "--dump-failed" in result.stderr,
              "mirror with an unwritable dump: exit %d: %s" % (result.returncode, result.stderr))
        check(not os.path.exists(dst.path("copy", "a.bin")), "mirror copied before refusing the dump file")
        result = run(["worker", "--journal", "postgresql://nobody@127.0.0.1:1/none", "--dump-failed", ""], tmp)
        check(result.returncode == USAGE and "--dump-failed" in result.stderr,
              "worker with an empty dump name: exit %d: %s" % (result.returncode, result.stderr))
        dump = os.path.join(tmp, "mirror-rest.job")
        result = run(["mirror", "--json", "--dump-failed", dump, url(src, "tree/"), url(dst, "copy/")], tmp)
        check(result.returncode == 0, "mirror: exit %d: %s" % (result.returncode, result.stderr))
        check(os.path.exists(dump) and dumped_transfers(dump) == [], "mirror's dump: %r" %
              (open(dump).read() if os.path.exists(dump) else None))
        print("ok: --dump-failed refused alike by batch, mirror and worker; mirror's dump written")


PROMPT = re.compile(rb"Password for (\S+): ")


class Terminal:
    """rsexec on a pseudo-terminal (its stdin, stdout, stderr and controlling tty)."""

    def __init__(self, args, home):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["HOME"] = home
            os.execv(RSEXEC, [RSEXEC] + args)
        self.output = b""

    def read_until(self, pattern, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            match = pattern.search(self.output)
            if match:
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r on the terminal in %d s: %r" % (pattern.pattern, timeout, self.output[-500:]))
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("the terminal closed before %r: %r" % (pattern.pattern, self.output[-500:]))
                self.output += chunk

    def type(self, text):
        os.write(self.fd, text)

    def finish(self, timeout=60):
        """Reads everything until rsexec exits; its wait status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if chunk:
                    self.output += chunk
                    continue
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                return status
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = None
        raise AssertionError("rsexec on the terminal did not exit in %d s: %r" % (timeout, self.output[-500:]))

    def echo_on(self):
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def close(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_prompt(tmp):
    """A URL with a user and no password (no .netrc): asked on the terminal, not echoed, once per
    user@host, and the copy succeeds; a batch of three items between the same servers asks twice."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        write_random(src.path("f.bin"), 5000)
        terminal = Terminal(["copy", url(src, "f.bin", password=False), url(dst, "f.bin", password=False)],
                            empty_home(tmp))
        try:
            asked = []
            for _ in range(2):
                asked.append(terminal.read_until(PROMPT).group(1))
                check(not terminal.echo_on(), "echo is on while the password is asked for")
                terminal.output = terminal.output[terminal.output.rindex(b"Password for"):].split(b": ", 1)[1]
                terminal.type(PASSWORD.encode() + b"\n")
            status = terminal.finish()
            check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "copy on a terminal: status %d: %r"
                  % (status, terminal.output[-500:]))
            check(PASSWORD.encode() not in terminal.output, "the typed password was echoed: %r" % terminal.output)
            check(terminal.echo_on(), "the terminal was left without echo")
        finally:
            terminal.close()
        check(sorted(asked) == sorted([("%s@%s" % (USER, SRC_HOST)).encode(), ("%s@%s" % (USER, DST_HOST)).encode()]),
              "prompts: %r" % asked)
        check(digest(dst.path("f.bin")) == digest(src.path("f.bin")), "f.bin not copied")

        job = os.path.join(tmp, "three.job")
        lines = []
        for n in range(3):
            write_random(src.path("b%d.bin" % n), 700)
            lines.append("%s %s" % (url(src, "b%d.bin" % n, password=False), url(dst, "b%d.bin" % n, password=False)))
        write(job, lines)
        terminal = Terminal(["batch", "--json", job], empty_home(tmp))
        try:
            for _ in range(2):
                terminal.read_until(PROMPT)
                terminal.output = terminal.output[terminal.output.rindex(b"Password for"):].split(b": ", 1)[1]
                terminal.type(PASSWORD.encode() + b"\n")
            status = terminal.finish()
            check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "batch on a terminal: status %d: %r"
                  % (status, terminal.output[-800:]))
            check(PROMPT.search(terminal.output) is None, "asked more than once per user@host: %r" % terminal.output[-500:])
            check(PASSWORD.encode() not in terminal.output, "the typed password was echoed")
        finally:
            terminal.close()
        for n in range(3):
            check(digest(dst.path("b%d.bin" % n)) == digest(src.path("b%d.bin" % n)), "b%d.bin not copied" % n)
        print("ok: copy asked for %s and %s without echo; a batch of 3 asked twice" % tuple(a.decode() for a in asked))


def test_prompt_interrupted(tmp):
    """Ctrl-C at the prompt ends rsexec by SIGINT with the terminal's echo back on."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        terminal = Terminal(["copy", url(src, "f.bin", password=False), url(dst, "f.bin", password=False)],
                            empty_home(tmp))
        try:
            terminal.read_until(PROMPT)
            check(not terminal.echo_on(), "echo is on while the password is asked for")
            terminal.type(b"half")
            terminal.type(termios.tcgetattr(terminal.fd)[6][termios.VINTR])
            status = terminal.finish()
            check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT,
                  "Ctrl-C at the prompt: status %d: %r" % (status, terminal.output[-300:]))
            check(terminal.echo_on(), "Ctrl-C at the prompt left the terminal without echo")
        finally:
            terminal.close()
        print("ok: Ctrl-C at the prompt: killed by SIGINT, echo restored")


def test_no_tty(tmp):
    """Without a terminal on stdin nothing is asked: exit 4 and how to give the password; nothing moves."""
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst:
        write_random(src.path("f.bin"), 100)
        expected = "no password for %s@%s: give it in the URL, in ~/.netrc, or run on a terminal" % (USER, DST_HOST)
        result = run(["copy", url(src, "f.bin"), url(dst, "f.bin", password=False)], tmp)
        check(result.returncode == LOGIN and expected in result.stderr,
              "copy without a terminal: exit %d: %r" % (result.returncode, result.stderr))
        check("Password for" not in result.stdout + result.stderr, "asked without a terminal")
        job = os.path.join(tmp, "nopw.job")
        write(job, ["%s %s" % (url(src, "f.bin"), url(dst, "f.bin")),
                    "%s %s" % (url(src, "f.bin"), url(dst, "g.bin", password=False))])
        result = run(["batch", "--json", job], tmp)
        check(result.returncode == LOGIN and expected in result.stderr,
              "batch without a terminal: exit %d: %r" % (result.returncode, result.stderr))
        check(not os.path.exists(dst.path("f.bin")), "batch copied before refusing")
        result = run(["mirror", "--json", url(src, "", password=False), url(dst, "m/")], tmp)
        check(result.returncode == LOGIN and ("no password for %s@%s" % (USER, SRC_HOST)) in result.stderr,
              "mirror without a terminal: exit %d: %r" % (result.returncode, result.stderr))
        # anonymous needs no password, and a netrc entry gives one: neither is refused.
        home = empty_home(tmp)
        with open(os.path.join(home, ".netrc"), "w") as f:
            f.write("machine %s login %s password %s\n" % (DST_HOST, USER, PASSWORD))
        os.chmod(os.path.join(home, ".netrc"), 0o600)
        result = run(["copy", url(src, "f.bin"), url(dst, "f.bin", password=False)], tmp)
        check(result.returncode == 0, "copy with the password in .netrc: exit %d: %s" % (result.returncode, result.stderr))
        print("ok: without a terminal: exit 4, %r" % expected)


GROUPS = {"status": test_status, "status-postgresql": test_status_postgresql, "old-journal": test_old_journal,
          "dump": test_dump, "dump-interrupted": test_dump_interrupted, "dump-options": test_dump_options,
          "prompt": test_prompt, "prompt-interrupted": test_prompt_interrupted, "no-tty": test_no_tty}

if __name__ == "__main__":
    chosen = sys.argv[3:] or list(GROUPS)
    for group in chosen:
        with tempfile.TemporaryDirectory(prefix="rsexec-failed-test-") as tmp:
            GROUPS[group](tmp)
