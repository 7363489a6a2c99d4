#!/usr/bin/python3
"""Progress a person can read, and progress events a script can: rsexec copy, batch and mirror
between a slow scripted source (tests/faults/hostile_server.py slow-retr: 256 KiB/s) and rsexecd.

    test_progress.py RSEXEC RSEXECD GROUP

GROUP `copy-terminal`: copy with stderr on a pseudo-terminal shows one live line (bytes / total
in IEC units, percent, rate, ETA), redrawn at least once a second and at most 10 times a second,
cleared before the final line. `copy-json`: copy --json prints start, progress (bytes, total,
percent, rate, eta) at least once a second, done and summary; piped without --json, progress
events go to stderr and stdout keeps its one line. `batch-terminal`: batch at a terminal counts
the bytes of the transfer under way in its status line. `batch-piped`: a piped batch prints a
progress event at least once a second whatever --timeout says (30 s here). `resume`: copy
--resume says from which byte it resumed (stderr, the final line, the done event).
`abort-opening`: a second SIGINT while an item waits for its connection slot (--max-per-host 1)
aborts that item too: nothing is copied after it.
"""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from test_retry import ScriptedSource  # noqa: E402

FXP = ["--fxp-peers", "127.0.0.0/8"]
DST_HOST = "127.0.0.71"
SIZE = 1024 * 1024  # four seconds at slow-retr's 256 KiB/s
COLUMNS = 100
# "At least once a second", measured by a reader on a loaded machine: some slack.
LONGEST_GAP = 1.6


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def write(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def run_on_terminal(argv, limit=60):
    """Runs argv with stdin, stdout and stderr on a pseudo-terminal COLUMNS wide; returns
    (exit code, [(arrival time, bytes read)]). Reads until the terminal closes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not data:
                break
            chunks.append((time.monotonic(), data))
        else:
            raise AssertionError("%s did not end within %d s" % (argv[1], limit))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
    return process.returncode, chunks


def redraws(chunks):
    """([(arrival time, line)] of every redraw of the status line, the whole text). A redraw is
    "\r\033[K" and text that the next "\r" replaces, not a line ended by "\n" (printed for good)."""
    text, starts = "", []
    for arrival, data in chunks:
        starts.append((len(text), arrival))
        text += data.decode("utf-8", "replace")

    def arrival_of(offset):
        return max((a for start, a in starts if start <= offset), default=starts[0][1])

    found, marker = [], "\r\x1b[K"
    at = text.find(marker)
    while at >= 0:
        begin = at + len(marker)
        ends = [e for e in (text.find("\r", begin), text.find("\n", begin)) if e >= 0]
        end = min(ends) if ends else len(text)
        line = text[begin:end]
        # The terminal writes "\n" as "\r\n" (ONLCR): that "\r" ends a printed line.
        if line and (end == len(text) or (text[end] == "\r" and text[end + 1:end + 2] != "\n")):
            found.append((arrival_of(end - 1), line))
        at = text.find(marker, begin)
    return found, text


def check_pace(lines, what):
    """At least once a second (with slack for the reader) and never more than 10 in a second."""
    times = [t for t, _ in lines]
    gaps = [b - a for a, b in zip(times, times[1:])]
    check(gaps and max(gaps) <= LONGEST_GAP, "%s: a gap of %.2f s between redraws: %s" % (
        what, max(gaps or [0]), [round(g, 2) for g in gaps]))
    for i, start in enumerate(times):
        within = sum(1 for t in times[i:] if t - start < 1.0)
        check(within <= 10, "%s: %d redraws within one second" % (what, within))


def event_gaps(events_with_times):
    times = [t for t, _ in events_with_times]
    return [b - a for a, b in zip(times, times[1:])]


def read_events(process, stream, limit=60):
    """[(arrival time, event)] of every JSON line of `stream` until it ends."""
    events, deadline = [], time.monotonic() + limit
    for line in stream:
        events.append((time.monotonic(), json.loads(line)))
        check(time.monotonic() < deadline, "events still coming after %d s" % limit)
    return events


def group_copy_terminal(rsexec, dst, source, work):
    write(os.path.join(source.root, "t.bin"), SIZE)
    code, chunks = run_on_terminal([rsexec, "copy", "--timeout", "30", source.url("t.bin"), url(dst, "t.bin")])
    lines, text = redraws(chunks)
    check(code == 0, "copy at a terminal: exit %d: %r" % (code, text[-600:]))
    check(os.path.getsize(dst.path("t.bin")) == SIZE, "the copy is not whole")
    check(re.search(r"copied \S+ -> \S+: %d bytes" % SIZE, text), "no final line: %r" % text[-400:])
    check(len(lines) >= 3, "a four-second copy at a terminal redrew its line %d times: %r" % (len(lines), text))
    shape = re.compile(r"^\d+(\.\d)? (B|KiB|MiB) / 1\.0 MiB  \d+%  \d+(\.\d)? (B|KiB|MiB)/s  ETA (\d+s|--)$")
    for _, line in lines:
        check(shape.match(line), "not a progress line: %r" % line)
        check(len(line) < COLUMNS, "a line wider than the terminal: %r" % line)
    check(any(not l.startswith("0 B") for _, l in lines), "the line never showed bytes moving: %s" % lines)
    check_pace(lines, "copy's live line")
    # Cleared before the final line: the last redraw is followed by an erase, then "copied".
    check(text.rfind("\r\x1b[K") < text.find("copied "), "the live line was not cleared before the final line")
    print("ok: copy at a terminal: %d redraws, e.g. %r" % (len(lines), lines[len(lines) // 2][1]))


def check_progress_events(progress, what, size=SIZE):
    check(len(progress) >= 2, "%s: %d progress events in a four-second transfer" % (what, len(progress)))
    for _, event in progress:
        for field in ("bytes", "total", "percent", "rate", "eta"):
            check(field in event, "%s: progress event without %s: %s" % (what, field, event))
        check(event["total"] == size, "%s: total %s, not %d" % (what, event["total"], size))
        check(0 <= event["percent"] <= 100, "%s: percent %s" % (what, event["percent"]))
    check(any(e["rate"] > 0 and e["eta"] is not None and e["bytes"] > 0 for _, e in progress),
          "%s: no progress event with a rate and an ETA: %s" % (what, [e for _, e in progress]))
    gaps = event_gaps(progress)
    check(max(gaps) <= LONGEST_GAP, "%s: progress events %s s apart" % (what, [round(g, 2) for g in gaps]))


def group_copy_json(rsexec, dst, source, work):
    write(os.path.join(source.root, "j.bin"), SIZE)
    process = subprocess.Popen([rsexec, "copy", "--json", "--timeout", "30", source.url("j.bin"), url(dst, "j.bin")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = read_events(process, process.stdout)
    err = process.stderr.read()
    process.wait(timeout=30)
    check(process.returncode == 0, "copy --json: exit %d: %s" % (process.returncode, err))
    kinds = [e["event"] for _, e in events]
    check(kinds[0] == "start" and kinds[-2:] == ["done", "summary"],
          "copy --json: events %s, not start ... done summary" % kinds)
    check(set(kinds) == {"start", "progress", "done", "summary"}, "copy --json: events %s" % kinds)
    check_progress_events([(t, e) for t, e in events if e["event"] == "progress"], "copy --json")
    done, summary = events[-2][1], events[-1][1]
    check(done["bytes"] == SIZE and done["src"].endswith("/j.bin"), "copy --json: done %s" % done)
    check(summary["done"] == 1 and summary["failed"] == 0, "copy --json: summary %s" % summary)
    check(PASSWORD not in json.dumps([e for _, e in events]), "copy --json: a password in the events")

    # Piped, no --json: the one line on stdout as before; progress events on stderr.
    os.remove(dst.path("j.bin"))
    process = subprocess.Popen([rsexec, "copy", "--timeout", "30", source.url("j.bin"), url(dst, "j.bin")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = read_events(process, process.stderr)
    out = process.stdout.read()
    process.wait(timeout=30)
    check(process.returncode == 0, "copy piped: exit %d" % process.returncode)
    check(re.fullmatch(r"copied \S+ -> \S+: %d bytes in .*\n" % SIZE, out), "copy piped: stdout %r" % out)
    check_progress_events(events, "copy piped (stderr)")
    check(all(e["event"] == "progress" for _, e in events), "copy piped: stderr %s" % events)
    print("ok: copy --json: %s; piped: %d progress events on stderr" % (kinds, len(events)))


def group_batch_terminal(rsexec, dst, source, work):
    write(os.path.join(source.root, "big.bin"), SIZE)
    job = os.path.join(work, "terminal.job")
    with open(job, "w") as f:
        f.write("%s %s\n" % (source.url("big.bin"), url(dst, "big.bin")))
    code, chunks = run_on_terminal([rsexec, "batch", "--no-journal", "--pipeline", "off", "--timeout", "30", job])
    lines, text = redraws(chunks)
    check(code == 0, "batch at a terminal: exit %d: %r" % (code, text[-600:]))
    check(re.search(r"done +\S+ -> \S+ \(%d bytes" % SIZE, text), "batch at a terminal: no done line: %r" % text[-400:])
    shape = re.compile(r"^\[(\d+)/1 files  (\d+(?:\.\d)? (?:B|KiB|MiB))(?: / ~?1\.0 MiB)?  \S+ \S+  ETA (?:\d+s|--)\]"
                       r"(  big\.bin \S+ \S+ \d+%)?$")
    moving = []
    for _, line in lines:
        match = shape.match(line)
        check(match, "not a batch status line: %r" % line)
        check(len(line) < COLUMNS, "a status line wider than the terminal: %r" % line)
        if match.group(1) == "0" and match.group(2) != "0 B":
            moving.append(line)
    check(moving, "no status line counted the bytes of the transfer under way: %s" % [l for _, l in lines])
    check(any("/ 1.0 MiB" in l and "ETA --" not in l and "big.bin" in l for l in moving),
          "no status line with the total, an ETA and the file's own percent while it moved: %s" % moving)
    check_pace(lines, "batch's status line")
    print("ok: batch at a terminal: %d redraws, e.g. %r" % (len(lines), moving[len(moving) // 2]))


def group_batch_piped(rsexec, dst, source, work):
    write(os.path.join(source.root, "p.bin"), SIZE)
    job = os.path.join(work, "piped.job")
    with open(job, "w") as f:
        f.write("%s %s\n" % (source.url("p.bin"), url(dst, "p.bin")))
    # --timeout 30: the stall watch's polls (the progress events) must not wait timeout / 3.
    process = subprocess.Popen([rsexec, "batch", "--no-journal", "--pipeline", "off", "--timeout", "30", job],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = read_events(process, process.stdout)
    err = process.stderr.read()
    process.wait(timeout=30)
    check(process.returncode == 0, "batch piped: exit %d: %s" % (process.returncode, err))
    progress = [(t, e) for t, e in events if e["event"] == "progress"]
    check_progress_events(progress, "batch piped, --timeout 30")
    print("ok: batch piped with --timeout 30: %d progress events" % len(progress))


def group_resume(rsexec, dst, source, work):
    write(os.path.join(source.root, "r.bin"), SIZE)
    with open(os.path.join(source.root, "r.bin"), "rb") as whole:
        head = whole.read(40960)
    for json_output in (False, True):
        with open(dst.path(".r.bin.rsexec-part"), "wb") as part:
            part.write(head)
        if os.path.exists(dst.path("r.bin")):
            os.remove(dst.path("r.bin"))
        args = [rsexec, "copy", "--resume", "--timeout", "30"] + (["--json"] if json_output else []) + \
            [source.url("r.bin"), url(dst, "r.bin")]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        check(result.returncode == 0, "copy --resume: exit %d: %s" % (result.returncode, result.stderr))
        with open(os.path.join(source.root, "r.bin"), "rb") as a, \
                open(dst.path("r.bin"), "rb") as b:
            check(a.read() == b.read(), "copy --resume: the copy differs from the source")
        if json_output:
            done = [json.loads(l) for l in result.stdout.splitlines() if json.loads(l)["event"] == "done"]
            check(len(done) == 1 and done[0].get("resumed_from") == 40960,
                  "copy --resume --json: done %s has no resumed_from 40960" % done)
        else:
            check("resuming from byte 40960 of %d" % SIZE in result.stderr,
                  "copy --resume: stderr does not say where it resumed: %r" % result.stderr[-600:])
            check(result.stdout.rstrip().endswith("; resumed from byte 40960"),
                  "copy --resume: the final line does not say where it resumed: %r" % result.stdout)
    print("ok: copy --resume says it resumed from byte 40960 (text and JSON)")


def wait_delivered(pid, signum, limit=10):
    """Waits until `signum` is no longer pending for `pid` (/proc/PID/status SigPnd, ShdPnd)."""
    bit, deadline = 1 << (signum - 1), time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/status" % pid) as status:
                pending = [int(line.split()[1], 16) for line in status if line.startswith(("SigPnd:", "ShdPnd:"))]
        except FileNotFoundError:
            return
        if not any(mask & bit for mask in pending):
            return
        time.sleep(0.01)
    raise AssertionError("signal %d still pending for pid %d after %d s" % (signum, pid, limit))


def group_abort_opening(rsexec, dst, source, work):
    names = ["o1.bin", "o2.bin"]
    for name in names:
        write(os.path.join(source.root, name), SIZE)
    job = os.path.join(work, "opening.job")
    with open(job, "w") as f:
        for name in names:
            f.write("%s %s\n" % (source.url(name), url(dst, name)))
    # Two workers, one connection per server: the second item's worker waits for a slot while
    # the first item moves.
    process = subprocess.Popen([rsexec, "batch", "--json", "--no-journal", "--pipeline", "off", "-j", "2",
                                "--max-per-host", "1", "--timeout", "30", job],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, deadline = [], time.monotonic() + 30
    while sum(1 for l in lines if json.loads(l)["event"] == "start") < 2:
        check(time.monotonic() < deadline, "no two start events within 30 s: %s" % lines)
        line = process.stdout.readline()
        if not line:
            raise AssertionError("batch ended before both items started: %s %s" % (lines, process.stderr.read()))
        lines.append(line)
    process.send_signal(signal.SIGINT)
    wait_delivered(process.pid, signal.SIGINT)
    process.send_signal(signal.SIGINT)
    # Not communicate(): it reads the pipe's descriptor, past what readline() has buffered.
    out = process.stdout.read()
    err = process.stderr.read()
    process.wait(timeout=60)
    events = [json.loads(l) for l in lines + out.splitlines()]
    kinds = [e["event"] for e in events]
    check(process.returncode == 12, "two SIGINTs: exit %d: %s %s" % (process.returncode, kinds, err[-800:]))
    check("done" not in kinds, "an item was copied after the second SIGINT: %s" % events)
    summary = events[-1]
    check(summary["event"] == "summary" and summary["done"] == 0 and summary["interrupted"] == 2,
          "two SIGINTs: summary %s (events %s)" % (summary, kinds))
    for name in names:
        check(not os.path.exists(dst.path(name)), "%s was copied after the second SIGINT" % name)
    print("ok: a second SIGINT aborts the item still waiting for its sessions: %s" % kinds)


GROUPS = {
    "copy-terminal": group_copy_terminal,
    "copy-json": group_copy_json,
    "batch-terminal": group_batch_terminal,
    "batch-piped": group_batch_piped,
    "resume": group_resume,
    "abort-opening": group_abort_opening,
}


def main(argv):
    if len(argv) != 4 or argv[3] not in GROUPS:
        print(__doc__)
        return 2
    rsexec, rsexecd, group = argv[1], argv[2], argv[3]
    work = tempfile.mkdtemp(prefix="rsexec-progress-")
    with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
        source = ScriptedSource(os.path.join(work, "slow"), "slow-retr")
        try:
            GROUPS[group](rsexec, dst, source, work)
        finally:
            source.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
