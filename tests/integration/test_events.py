#!/usr/bin/python3
"""README's "Output for scripts" table and `rsexec status --json` sentence, checked against real runs.

    test_events.py RSEXEC RSEXECD [GROUP]

The documented fields are read from README.md itself, so that README and the program cannot
drift apart: every JSON event a set of real runs prints must be an event of the table, carry
every field its row lists (fields marked "(when ...)" or "(with ...)" may be absent), and no
field the row does not list; every documented field must be seen at least once across the runs.
"the above" and "..." in a row stand for the `start` row's fields.

GROUP `events` (the default) runs batch (journal, --verify checksum, a missing file, a second
run, an item found complete, a half copy resumed), copy --json (done, error), a slow source (progress, a second SIGINT), a
source that drops the data connection once (retry), a locked journal (journal_error), mirror
(twice), --submit, and `status --json`. GROUP `exit-codes`: README's exit code table against
the one `rsexec copy --help` prints. GROUP `dry-run`: batch and mirror --dry-run (--delete) with stdout not a
terminal, which README's table covers like any other run.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from test_retry import ScriptedSource  # noqa: E402

README = os.path.join(HERE, "..", "..", "README.md")
FXP = ["--fxp-peers", "127.0.0.0/8"]
SRC_HOST, DST_HOST = "127.0.0.61", "127.0.0.62"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# A row of README's event table: `name`, or `name` (dry run) for the form a --dry-run prints.
EVENT_ROW = r"^\| `([a-z_]+)`( \(dry run\))? \| (.*) \|$"


def split_top_level(cell):
    """Splits a table cell at commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in cell:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def parse_fields(text, above=None):
    """(required, optional) field names of one README field list."""
    required, optional = [], []
    for part in split_top_level(text):
        if part in ("the above", "...") or part.startswith("the above") or part.startswith("..."):
            check(above is not None, "README: %r before any row to refer to" % part)
            required += [f for f in above if f not in required]
            continue
        # The first field of the part, after any prose ("one per action: `action`").
        match = re.search(r"`([a-z_]+)`\s*(\(([^)]*)\))?", part)
        if not match:
            continue  # prose after a field ("read with SIZE at ...")
        name, note = match.group(1), (match.group(3) or "")
        (optional if re.match(r"(when|with)\b", note) else required).append(name)
    return required, optional


def documented_events(readme_text):
    """{event: (required, optional)} from README's "Output for scripts" table."""
    section = readme_text.split("## Output for scripts", 1)
    check(len(section) == 2, "README has no 'Output for scripts' section")
    rows = re.findall(EVENT_ROW, section[1].split("\n## ", 1)[0], re.M)
    check(rows, "README's event table has no rows")
    table, start = {}, None
    for name, dry_run, cell in rows:
        event = name + dry_run  # `summary` (dry run) is a row of its own: "summary (dry run)"
        check(event not in table, "README: two rows for event %r" % event)
        if cell == "fields":
            continue  # the header
        required, optional = parse_fields(cell, start)
        check(required or optional, "README: no fields for event %r" % event)
        table[event] = (["event"] + required, optional)
        if event == "start":
            start = required
    check("start" in table and "summary" in table, "README's table lacks start or summary: %s" % sorted(table))
    return table


def dry_run_events(readme_text):
    """The events whose README row says they belong to --dry-run: the dry-run group's to print."""
    section = readme_text.split("## Output for scripts", 1)[1].split("\n## ", 1)[0]
    return {name + dry_run for name, dry_run, cell in re.findall(EVENT_ROW, section, re.M)
            if dry_run or "--dry-run" in cell}


def documented_status(readme_text):
    """(top-level fields, worker fields) of `rsexec status --json` from README's sentence."""
    match = re.search(r"one JSON object with `--json`: (.*?)\. It reads", readme_text, re.S)
    check(match, "README has no sentence listing status --json's fields")
    text = " ".join(match.group(1).split())
    workers = re.search(r"`workers` \(([^)]*)\)", text)
    check(workers, "README: status --json's `workers` fields are not listed")
    worker_fields = re.findall(r"`([a-z_]+)`", workers.group(1))
    top = re.findall(r"`([a-z_]+)`", text.replace(workers.group(0), "`workers`"))
    return top, worker_fields


class Seen:
    """Every event printed, checked against the table as it comes; what each field was seen in."""

    def __init__(self, table):
        self.table = table
        self.fields = {event: set() for event in table}
        self.count = {event: 0 for event in table}

    def add_output(self, stdout, where):
        for line in stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                raise AssertionError("%s: a stdout line that is not JSON: %r" % (where, line))
            self.add(event, where, dry_run="--dry-run" in where.split())

    def add(self, event, where, dry_run=False):
        kind = event.get("event")
        if dry_run and "%s (dry run)" % kind in self.table:
            kind = "%s (dry run)" % kind
        check(kind in self.table, "%s: event %r is not in README's table: %s" % (where, kind, event))
        required, optional = self.table[kind]
        missing = [f for f in required if f not in event]
        check(not missing, "%s: %s event lacks README's %s: %s" % (where, kind, missing, event))
        extra = [f for f in event if f not in required and f not in optional]
        check(not extra, "%s: %s event has fields README does not document: %s: %s" % (where, kind, extra, event))
        self.fields[kind].update(event)
        self.count[kind] += 1

    def check_coverage(self, kinds=None):
        for kind, (required, optional) in self.table.items():
            if kinds is not None and kind not in kinds:
                continue
            check(self.count[kind], "README's %r event was never printed by the runs" % kind)
            unseen = [f for f in required + optional if f not in self.fields[kind]]
            check(not unseen, "README's %s fields %s were never printed by the runs" % (kind, unseen))


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


class Runner:
    def __init__(self, rsexec, seen):
        self.rsexec = rsexec
        self.seen = seen

    def run(self, args, expect, timeout=60):
        result = subprocess.run([self.rsexec] + args, capture_output=True, text=True, timeout=timeout)
        where = "rsexec " + " ".join(a for a in args if "://" not in a)
        check(result.returncode == expect, "%s: exit %d, not %d: %s" % (where, result.returncode, expect,
                                                                      result.stderr[-1200:]))
        check(PASSWORD not in result.stdout + result.stderr, "%s: password in the output" % where)
        self.seen.add_output(result.stdout, where)
        return [json.loads(l) for l in result.stdout.splitlines()]


def write(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def slow_job(work, source, dst, names):
    job = os.path.join(work, "slow-%d.job" % len(os.listdir(work)))
    with open(job, "w") as f:
        for name in names:
            f.write("%s %s\n" % (source.url(name), url(dst, name)))
    return job


def wait_delivered(pid, signum, limit=10):
    """Waits until `signum` is no longer pending for `pid` (/proc/PID/status SigPnd, ShdPnd)."""
    bit, deadline = 1 << (signum - 1), time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/status" % pid) as status:
                pending = [int(line.split()[1], 16) for line in status if line.startswith(("SigPnd:", "ShdPnd:"))]
        except FileNotFoundError:
            return  # it has ended: the caller's exit status check says whether that was right
        if not any(mask & bit for mask in pending):
            return
        time.sleep(0.01)
    raise AssertionError("signal %d still pending for pid %d after %d s" % (signum, pid, limit))


def run_until(process, kind, limit=30):
    """Reads events until one of `kind`; returns the lines read."""
    lines, deadline = [], time.monotonic() + limit
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if json.loads(line).get("event") == kind:
            return lines
    raise AssertionError("no %s event within %d s: %s" % (kind, limit, lines))


def group_events(rsexec, rsexecd, work):
    readme = open(README, encoding="utf-8").read()
    seen = Seen(documented_events(readme))
    runner = Runner(rsexec, seen)
    with RsexecdServer(rsexecd, SRC_HOST, extra_args=FXP) as src, RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
        # batch: start, done (checksum, dialect, listener), error, summary; then skipped; then a
        # final file an earlier run renamed but did not record (found_complete).
        os.makedirs(src.path("tree", "sub"))
        names = ["a.bin", "b.bin", "c.bin"]
        for name in names:
            write(src.path(name), 100 * 1024)
        job = os.path.join(work, "plain.job")
        with open(job, "w") as f:
            for name in names + ["missing.bin"]:
                f.write("%s %s\n" % (url(src, name), url(dst, name)))
        events = runner.run(["batch", "--json", "--verify", "checksum", job], expect=11)
        check(all(e.get("checksum") for e in events if e["event"] == "done"), "--verify checksum: done without checksum")
        runner.run(["batch", "--json", job], expect=11)
        # As a run killed mid-item leaves them: a.bin renamed but not recorded done, b.bin half
        # copied under its temporary name (resumed_from).
        os.remove(dst.path("b.bin"))
        with open(src.path("b.bin"), "rb") as whole, open(dst.path(".b.bin.rsexec-part"), "wb") as part:
            part.write(whole.read(40 * 1024))
        connection = sqlite3.connect(job + ".journal")
        changed = connection.execute("UPDATE items SET state = 'running' WHERE src LIKE '%/a.bin' OR src LIKE '%/b.bin'"
                                     ).rowcount
        connection.commit()
        connection.close()
        check(changed == 2, "journal: no items for a.bin and b.bin to mark running")
        events = runner.run(["batch", "--json", job], expect=11)
        check(any(e.get("found_complete") for e in events), "an item whose copy was complete is not found_complete")
        check(any(e.get("resumed_from") == 40 * 1024 for e in events), "a half copy was not resumed: %s" % events)
        # The overwrite policy's skips: `skipped` events with their reason and attempt.
        events = runner.run(["batch", "--json", "--no-journal", "--overwrite", "never", job], expect=11)
        check(sorted(e.get("skipped") for e in events if e["event"] == "skipped") == ["exists"] * 3,
              "--overwrite never: the existing files are not skipped as existing: %s" % events)

        # A relayed item: `relay` in its done event.
        events = runner.run(["batch", "--json", "--no-journal", "--relay", "always", job], expect=11)
        check(any(e.get("relay") is True for e in events if e["event"] == "done"),
              "--relay always: no done event says relay: %s" % events)

        # copy --json: the batch's events for its one file, a copy that fails too.
        events = runner.run(["copy", "--json", url(src, "a.bin"), url(dst, "copied-a.bin")], expect=0)
        check([e["event"] for e in events] == ["start", "done", "summary"], "copy --json: %s" % events)
        events = runner.run(["copy", "--json", url(src, "missing.bin"), url(dst, "copied-m.bin")], expect=5)
        check([e["event"] for e in events] == ["start", "error", "summary"], "copy --json, no source: %s" % events)

        # submitted, and status --json on that journal.
        submitted = os.path.join(work, "submitted.journal")
        runner.run(["batch", "--json", "--submit", "--max-per-host", "3", "--journal", submitted, job], expect=0)
        result = subprocess.run([rsexec, "status", "--json", "--journal", submitted], capture_output=True, text=True,
                                timeout=30)
        check(result.returncode == 0, "status --json: exit %d: %s" % (result.returncode, result.stderr))
        status = json.loads(result.stdout)
        top, worker_fields = documented_status(readme)
        check(sorted(status) == sorted(top), "status --json fields %s, README lists %s" % (sorted(status), sorted(top)))
        check(status["max_per_host"] == 3, "status --json: max_per_host %s after --max-per-host 3" % status["max_per_host"])
        check(status["total"] == 4 and status["pending"] + status["done"] == 4, "status --json counts: %s" % status)
        result = subprocess.run([rsexec, "status", "--json", "--journal", job + ".journal"], capture_output=True,
                                text=True, timeout=30)
        check(result.returncode == 0, "status --json: exit %d: %s" % (result.returncode, result.stderr))
        workers = json.loads(result.stdout)["workers"]
        check(workers, "status --json of a journal a batch worked on lists no workers")
        for worker in workers:
            check(sorted(worker) == sorted(worker_fields),
                  "status --json worker fields %s, README lists %s" % (sorted(worker), sorted(worker_fields)))

        # mirror: a copy, then a second run with nothing to copy.
        for name in ("x.bin", "sub/y.bin"):
            write(src.path("tree", name), 4096)
        os.makedirs(dst.path("tree"))
        runner.run(["mirror", "--json", url(src, "tree/"), url(dst, "tree/")], expect=0)
        runner.run(["mirror", "--json", url(src, "tree/"), url(dst, "tree/")], expect=0)

    with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
        # progress (a transfer longer than a poll interval), then interrupted (a second SIGINT).
        source = ScriptedSource(os.path.join(work, "slow"), "slow-retr")
        try:
            for name in ("s1.bin", "s2.bin"):
                write(os.path.join(source.root, name), 640 * 1024)
            # The stall watch polls once a second whatever --timeout says (stall_watch.cpp).
            runner.run(["batch", "--json", "--no-journal", "--pipeline", "off", "--timeout", "3",
                        slow_job(work, source, dst, ["s1.bin"])], expect=0)
            check(seen.count["progress"], "a 2.5 s transfer with --timeout 3 printed no progress event")
            process = subprocess.Popen([rsexec, "batch", "--json", "-j", "1", "--pipeline", "off", "--timeout", "3",
                                        slow_job(work, source, dst, ["s2.bin", "s1.bin"])],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # Once data moves, so that the progress event comes first (test_progress.py's
            # abort-opening group sends the two while an item's sessions are still opening).
            lines = run_until(process, "progress")
            process.send_signal(signal.SIGINT)
            # Two signals, not one pending twice: the second is sent once the first was delivered.
            wait_delivered(process.pid, signal.SIGINT)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
            check(process.returncode == 12, "second SIGINT: exit %d: %s" % (process.returncode, err[-800:]))
            seen.add_output("".join(lines) + out, "batch after two SIGINTs")
            check(seen.count["interrupted"], "two SIGINTs printed no interrupted event: %s" % out)

            # journal_error: the journal locked by another process while the batch runs.
            job = slow_job(work, source, dst, ["s2.bin"])
            process = subprocess.Popen([rsexec, "batch", "--json", "--pipeline", "off", job],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            lines = run_until(process, "start")
            lock = sqlite3.connect(job + ".journal", timeout=10, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            try:
                out, err = process.communicate(timeout=60)
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            seen.add_output("".join(lines) + out, "batch with a locked journal")
            summary = json.loads(out.splitlines()[-1])
            check("journal_error" in summary, "a journal that could not be written: summary %s" % summary)
            check(process.returncode != 0, "a batch whose journal failed exited 0")
        finally:
            source.stop()

        # retry: the data connection dropped once mid-file.
        source = ScriptedSource(os.path.join(work, "drop"), "retr-drop-data", fail_first=1)
        try:
            write(os.path.join(source.root, "r.bin"), 512 * 1024)
            events = runner.run(["batch", "--json", "--no-journal", "--pipeline", "off",
                                 slow_job(work, source, dst, ["r.bin"])], expect=0)
            check([e["event"] for e in events].count("retry") == 1, "one dropped data connection: %s" % events)
        finally:
            source.stop()
    # Events README gives to --dry-run are the dry-run group's to print.
    seen.check_coverage(set(seen.table) - dry_run_events(readme))
    print("ok: every event printed matches README's table; every documented field seen: %s"
          % {k: v for k, v in seen.count.items()})


def group_dry_run(rsexec, rsexecd, work):
    readme = open(README, encoding="utf-8").read()
    seen = Seen(documented_events(readme))
    runner = Runner(rsexec, seen)
    with RsexecdServer(rsexecd, SRC_HOST, extra_args=FXP) as src, RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
        os.makedirs(src.path("tree", "sub"))
        write(src.path("tree", "x.bin"), 4096)
        write(src.path("tree", "sub", "y.bin"), 4096)
        os.makedirs(dst.path("gone"))
        write(dst.path("stale.bin"), 16)
        # A port nothing listens on: the plan for that line carries the connect error.
        probe = socket.socket()
        probe.bind((SRC_HOST, 0))
        closed = probe.getsockname()[1]
        probe.close()
        job = os.path.join(work, "dry.job")
        with open(job, "w") as f:
            f.write("%s %s\n" % (url(src, "tree/x.bin"), url(dst, "x.bin")))
            f.write("%s %s\n" % (url(src, "tree/sub/y.bin"), url(dst, "y.bin")))
        # A real run of the first line only, so that the journal has it done for the dry run.
        first = os.path.join(work, "first.job")
        with open(first, "w") as f:
            f.write("%s %s\n" % (url(src, "tree/x.bin"), url(dst, "x.bin")))
        runner.run(["batch", "--json", "--journal", job + ".journal", first], expect=0)
        os.remove(dst.path("x.bin"))
        events = runner.run(["batch", "--dry-run", "--journal", job + ".journal", job], expect=0)
        plans = [e for e in events if e["event"] == "plan"]
        check([p.get("skip") for p in plans] == ["done", None],
              "the journal's done item is not planned as skipped: %s" % plans)
        # Its only item's servers cannot be reached: the plan says why, the exit code is the item's.
        unreachable = os.path.join(work, "unreachable.job")
        with open(unreachable, "w") as f:
            f.write("ftp://%s:%d/none.bin %s\n" % (SRC_HOST, closed, url(dst, "none.bin")))
        events = runner.run(["batch", "--dry-run", "--no-journal", unreachable], expect=3)
        plans = [e for e in events if e["event"] == "plan"]
        check(len(plans) == 1 and plans[0].get("exit_code") == 3 and plans[0].get("error"),
              "the unreachable source's plan has no connect error (exit_code 3): %s" % plans)
        # A download to disk: planned as one, with nothing to pair.
        local = os.path.join(work, "local.job")
        with open(local, "w") as f:
            f.write("%s %s\n" % (url(src, "tree/x.bin"), os.path.join(work, "x.bin")))
        events = runner.run(["batch", "--dry-run", "--no-journal", local], expect=0)
        plans = [e for e in events if e["event"] == "plan"]
        check(len(plans) == 1 and plans[0].get("local") == "download" and plans[0].get("dialect") is None,
              "a download's plan: %s" % plans)
        check(not os.path.exists(os.path.join(work, "x.bin")), "--dry-run downloaded")
        events = runner.run(["mirror", "--dry-run", "--delete", url(src, "tree/"), url(dst, "")], expect=0)
        actions = sorted((e["action"], e["dst"].rsplit("/", 1)[-1] or e["dst"].rstrip("/").rsplit("/", 1)[-1],
                          e.get("directory", False)) for e in events if e["event"] == "plan")
        for expected in (("make", "sub", True), ("delete", "gone", True), ("delete", "stale.bin", False)):
            check(expected in actions, "mirror --dry-run --delete does not plan %s: %s" % (expected, actions))
        check(not os.path.exists(dst.path("x.bin")) and os.path.isdir(dst.path("gone")), "--dry-run changed the destination")
    seen.check_coverage(dry_run_events(readme))
    print("ok: batch and mirror --dry-run print README's events: %s" % {k: v for k, v in seen.count.items() if v})


def group_exit_codes(rsexec, rsexecd, work):
    """README's exit code table and the one `rsexec copy --help` prints name the same codes."""
    readme = open(README, encoding="utf-8").read()
    section = readme.split("## Exit codes", 1)
    check(len(section) == 2, "README has no 'Exit codes' section")
    documented = {int(code): text for code, text in
                  re.findall(r"^\| (\d+) \| (.*) \|$", section[1].split("\n## ", 1)[0], re.M)}
    check(documented, "README's exit code table has no rows")
    result = subprocess.run([rsexec, "copy", "--help"], capture_output=True, text=True, timeout=30)
    check(result.returncode == 0, "copy --help: exit %d" % result.returncode)
    printed = {int(code): text for code, text in
               re.findall(r"^\s+(\d+)\s+(\S.*)$", result.stdout.split("Exit codes:", 1)[-1], re.M)}
    check(printed, "rsexec copy --help prints no exit codes")

    def name(text):
        # What a code is called: the words before the colon (the examples may be worded apart).
        return re.sub(r"[`\s]+", " ", text.split(":", 1)[0]).strip()

    check(sorted(documented) == sorted(printed),
          "README's exit codes %s, copy --help's %s" % (sorted(documented), sorted(printed)))
    for code in documented:
        check(name(documented[code]) == name(printed[code]),
              "exit %d: README says %r, copy --help %r" % (code, documented[code], printed[code]))
    print("ok: README and copy --help name the same exit codes: %s" % sorted(documented))


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__)
        return 2
    group = argv[3] if len(argv) == 4 else "events"
    groups = {"events": group_events, "dry-run": group_dry_run, "exit-codes": group_exit_codes}
    if group not in groups:
        print("unknown group %r" % group, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="rsexec-events-")
    groups[group](argv[1], argv[2], work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
