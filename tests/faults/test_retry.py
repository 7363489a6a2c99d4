#!/usr/bin/python3
"""Retries and size checks against scripted sources (hostile_server.py), an rsexecd destination.

    test_retry.py RSEXEC RSEXECD CASE

Retry cases: the source fails the first RETRs of every file its script's way, then serves it.
`rsexec batch --json` must copy every item, print one `retry` event per failed attempt with the
`error`, the `exit_code` README's table gives that failure, and a `delay` inside the backoff's
bounds (lib/rsexec/batch.cpp: 1 s x 2^(attempt-1) x a jitter in [0.5, 1.5]), and wait that long.

    421 425 450 drop-control drop-data   one item, --pipeline off, two failed attempts each
    pipeline-block pipeline-commands     three items through a pipeline, one failed attempt each
    550                                  a permanent refusal: one `error` event, no retry, exit 5
    resume no-resume                     a transfer cut mid-way, with and without --resume: the
                                         retry continues the partial file or starts over; an
                                         item that always fails keeps its partial file only
                                         with --resume
    worker                               two items submitted to a PostgreSQL journal
                                         (integration/postgres_fixture.py), done by `rsexec worker`
                                         after two 450s each; the journal counts 3 attempts

Size cases (the default --verify size): the source lies, the copy must not get its name.

    size-liar      SIZE says 4 KiB more than RETR sends: copy exit 9; batch: error, journal failed
    short-226      RETR sends half and says 226: the same
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from hostile_fixture import HostileServer  # noqa: E402

SRC_HOST, DST_HOST = "127.0.0.51", "127.0.0.52"
FXP = ["--fxp-peers", "127.0.0.0/8"]
# README's exit codes.
CONNECT, SOURCE, TRANSFER, VERIFICATION, PARTIAL = 3, 5, 8, 9, 11
BACKOFF = 1.0  # seconds (BatchOptions::backoff)
JITTER = (0.5, 1.5)

RETRY_CASES = {
    # case: (script, RETRs refused per file, retry events per file, their exit_code, text in their
    # error, the pairing the done event names)
    "421": ("retr-421", 2, 2, SOURCE, "421", None),
    # A 425 is the data connection refused: the attempt itself tries the other pairings (README:
    # "the roles are swapped and tried once more"; EPSV both ways, then PASV both ways) before it
    # fails, so three refused RETRs are mended by the fourth pairing without a retry.
    "425": ("retr-425", 3, 0, None, "", ("pasv", "src")),
    "450": ("retr-450", 2, 2, SOURCE, "450", None),
    # RETR was sent when the connection closed: the transfer failed (8), the way transfer.cpp's
    # run_legs names it.
    "drop-control": ("retr-drop-control", 2, 2, TRANSFER, "closed the control connection", None),
    "drop-data": ("retr-drop-data", 2, 2, TRANSFER, "src", None),
}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def ScriptedSource(workdir, script, fail_first=0):
    """hostile_server.py with `script` on SRC_HOST serving workdir/src, the commands it hears logged."""
    return HostileServer(script, SRC_HOST, os.path.join(workdir, "src"), log=os.path.join(workdir, "src.log"),
                         extra_args=["--fail-first", str(fail_first), "--data-timeout", "10"])


def dst_url(server, path):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def rsexec_run(rsexec, args, timeout=60):
    result = subprocess.run([rsexec] + args, capture_output=True, text=True, errors="replace", timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def parse_events(result):
    try:
        parsed = [json.loads(line) for line in result.stdout.splitlines()]
    except ValueError as error:
        raise AssertionError("stdout is not one JSON object per line (%s): %s" % (error, result.stdout[-800:]))
    check(parsed and parsed[-1].get("event") == "summary", "no summary last: %s" % result.stdout[-800:])
    return parsed


def write_files(root, names, size):
    payloads = {}
    for name in names:
        payloads[name] = os.urandom(size)
        with open(os.path.join(root, name), "wb") as f:
            f.write(payloads[name])
    return payloads


def temporaries(root):
    return sorted(n for n in os.listdir(root) if n.endswith(".rsexec-part"))


def check_delays(retries, name):
    for event in retries:
        attempt = event.get("attempt")
        delay = event.get("delay")
        check(isinstance(attempt, int) and attempt >= 1, "%s: retry without its attempt: %s" % (name, event))
        check(isinstance(delay, (int, float)), "%s: retry without a numeric delay: %s" % (name, event))
        low = BACKOFF * 2 ** (attempt - 1) * JITTER[0]
        high = BACKOFF * 2 ** (attempt - 1) * JITTER[1]
        check(low - 0.001 <= delay <= high + 0.001,
              "%s: attempt %d's delay %.3f s is outside [%.2f, %.2f]" % (name, attempt, delay, low, high))


def retry_case(rsexec, rsexecd, work, case):
    pipelined = case.startswith("pipeline-")
    script, refusals, failures, exit_code, reply, pairing = (("retr-450", 1, 1, SOURCE, "450", None) if pipelined
                                                             else RETRY_CASES[case])
    names = ["a.bin", "b.bin", "c.bin"] if pipelined else ["one.bin"]
    source = ScriptedSource(work, script, fail_first=refusals)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
            payloads = write_files(source.root, names, 300 * 1024)
            job = os.path.join(work, "retry.job")
            with open(job, "w") as f:
                for name in names:
                    f.write("%s %s\n" % (source.url(name), dst_url(dst, name)))
            pipeline = case.split("-", 1)[1] if pipelined else "off"
            started = time.monotonic()
            result = rsexec_run(rsexec, ["batch", "-j", "1", "--json", "--no-journal", "--timeout", "5",
                                         "--retries", "3", "--pipeline", pipeline, job])
            elapsed = time.monotonic() - started
            check(result.returncode == 0, "%s: exit %d: %s" % (case, result.returncode, result.stderr[-1500:]))
            parsed = parse_events(result)
            summary = parsed[-1]
            check(summary.get("done") == len(names) and summary.get("failed") == 0,
                  "%s: summary %s" % (case, summary))
            retries = [e for e in parsed if e["event"] == "retry"]
            for name in names:
                mine = [e for e in retries if e.get("src", "").endswith("/" + name)]
                check(len(mine) == failures,
                      "%s: %s: %d retry events for %d failed attempts: %s" % (case, name, len(mine), failures, mine))
                check([e["attempt"] for e in mine] == list(range(1, failures + 1)),
                      "%s: %s: retry attempts %s" % (case, name, [e["attempt"] for e in mine]))
                with open(dst.path(name), "rb") as f:
                    check(f.read() == payloads[name], "%s: %s differs at the destination" % (case, name))
                retrs = [c for c in source.commands() if c == "RETR " + name]
                check(len(retrs) == refusals + 1, "%s: %s was asked for %d times, not %d"
                      % (case, name, len(retrs), refusals + 1))
            for event in retries:
                check(event.get("exit_code") == exit_code,
                      "%s: retry exit_code %s, README's code for this failure is %d: %s"
                      % (case, event.get("exit_code"), exit_code, event))
                error = event.get("error", "")
                check(error.startswith("src") and reply in error,
                      "%s: the retry's error does not name the source and %r: %r" % (case, reply, error))
            check_delays(retries, case)
            if pairing:
                done = [e for e in parsed if e["event"] == "done"]
                check([(e.get("dialect"), e.get("listener")) for e in done] == [pairing] * len(names),
                      "%s: done events name %s, not %s" % (case, done, pairing))
            slept = sum(e["delay"] for e in retries)
            check(elapsed >= slept, "%s: the run took %.2f s, less than its %.2f s of backoff" % (case, elapsed, slept))
            check(not temporaries(dst.root), "%s: temporary files left: %s" % (case, temporaries(dst.root)))
            print("ok: %s: %d item(s) done after %d retry event(s) each (exit_code %s), delays %s"
                  % (case, len(names), failures, exit_code, ["%.2f" % e["delay"] for e in retries]))
    finally:
        source.stop()


def permanent_case(rsexec, rsexecd, work):
    source = ScriptedSource(work, "retr-550", fail_first=100)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
            write_files(source.root, ["denied.bin", "fine.txt"], 1024)
            job = os.path.join(work, "permanent.job")
            with open(job, "w") as f:
                f.write("%s %s\n" % (source.url("denied.bin"), dst_url(dst, "denied.bin")))
            result = rsexec_run(rsexec, ["batch", "--json", "--no-journal", "--timeout", "5", "--retries", "3",
                                         "--pipeline", "off", job])
            parsed = parse_events(result)
            kinds = [e["event"] for e in parsed]
            check("retry" not in kinds, "a 550 was retried: %s" % kinds)
            errors = [e for e in parsed if e["event"] == "error"]
            check(len(errors) == 1 and errors[0].get("exit_code") == SOURCE and "550" in errors[0].get("error", ""),
                  "the 550 was not one error event with exit_code %d: %s" % (SOURCE, errors))
            retrs = [c for c in source.commands() if c.startswith("RETR ")]
            check(len(retrs) == 1, "RETR sent %d times for a permanent refusal" % len(retrs))
            # Every item failed: README's code is the first failed item's (5), not 11 (partial).
            check(result.returncode == SOURCE, "an all-failed batch exited %d, not %d" % (result.returncode, SOURCE))
            check(not os.path.exists(dst.path("denied.bin")) and not temporaries(dst.root),
                  "files appeared for a refused RETR: %s" % os.listdir(dst.root))
            print("ok: 550 not retried (one RETR, one error event with exit_code 5), batch exit %d" % result.returncode)
    finally:
        source.stop()


def worker_case(rsexec, rsexecd, work):
    from postgres_fixture import PostgresServer
    source = ScriptedSource(work, "retr-450", fail_first=2)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst, PostgresServer() as pg:
            names = ["w1.bin", "w2.bin"]
            payloads = write_files(source.root, names, 200 * 1024)
            # The journal keeps no password: the worker reads the destination's from its .netrc.
            home = os.path.join(work, "home")
            os.makedirs(home)
            netrc = os.path.join(home, ".netrc")
            with open(netrc, "w") as f:
                f.write("machine %s login %s password %s\n" % (DST_HOST, USER, PASSWORD))
            os.chmod(netrc, 0o600)
            job = os.path.join(work, "worker.job")
            with open(job, "w") as f:
                for name in names:
                    f.write("%s %s\n" % (source.url(name), dst_url(dst, name)))
            submitted = rsexec_run(rsexec, ["batch", "--journal", pg.url, "--job", "retry", "--submit", "--json", job])
            check(submitted.returncode == 0, "--submit: exit %d: %s" % (submitted.returncode, submitted.stderr))
            started = time.monotonic()
            result = subprocess.run([rsexec, "worker", "--journal", pg.url, "--job", "retry", "-j", "1", "--json",
                                     "--retries", "3", "--timeout", "5", "--netrc", netrc],
                                    capture_output=True, text=True, errors="replace", timeout=60)
            elapsed = time.monotonic() - started
            check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
            check(result.returncode == 0, "worker: exit %d: %s" % (result.returncode, result.stderr[-1500:]))
            parsed = parse_events(result)
            check(parsed[-1].get("done") == 2 and parsed[-1].get("failed") == 0, "worker summary %s" % parsed[-1])
            retries = [e for e in parsed if e["event"] == "retry"]
            for name in names:
                mine = [e for e in retries if e.get("src", "").endswith("/" + name)]
                check([e["attempt"] for e in mine] == [1, 2], "worker: %s: retry attempts %s" % (name, mine))
                with open(dst.path(name), "rb") as f:
                    check(f.read() == payloads[name], "worker: %s differs" % name)
            for event in retries:
                check(event.get("exit_code") == SOURCE and "450" in event.get("error", ""),
                      "worker: retry event %s" % event)
            check_delays(retries, "worker")
            check(elapsed >= sum(e["delay"] for e in retries),
                  "worker: %.2f s for %.2f s of backoff" % (elapsed, sum(e["delay"] for e in retries)))
            rows = pg.psql("SELECT state, attempts FROM rsexec_items ORDER BY seq")
            check(rows == [("done", "3"), ("done", "3")], "the journal's items after two retries each: %s" % rows)
            print("ok: worker: 2 items done after 2 retry events each, the journal says done after 3 attempts")
    finally:
        source.stop()


def resume_case(rsexec, rsexecd, work, resume):
    """A transfer cut mid-way: the source sends half the file, drops the data connection and says
    426 (retr-drop-data). With --resume the failed attempt keeps its temporary file and the retry
    continues it (REST at the source, `resumed_from` in the done event); without, the failed
    attempt deletes it and the retry starts over (no REST). An item whose every attempt fails
    leaves a temporary file only with --resume (README: `--resume` keeps it when an attempt fails)."""
    name = "resume" if resume else "no-resume"
    flags = ["--resume"] if resume else []
    size = 512 * 1024
    source = ScriptedSource(os.path.join(work, "once"), "retr-drop-data", fail_first=1)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
            payloads = write_files(source.root, ["cut.bin"], size)
            job = os.path.join(work, "resume.job")
            with open(job, "w") as f:
                f.write("%s %s\n" % (source.url("cut.bin"), dst_url(dst, "cut.bin")))
            result = rsexec_run(rsexec, ["batch", "-j", "1", "--json", "--no-journal", "--timeout", "5", "--retries",
                                         "3", "--pipeline", "off"] + flags + [job])
            check(result.returncode == 0, "%s: exit %d: %s" % (name, result.returncode, result.stderr[-1500:]))
            parsed = parse_events(result)
            check([e["event"] for e in parsed].count("retry") == 1, "%s: not one retry: %s" % (name, parsed))
            with open(dst.path("cut.bin"), "rb") as f:
                check(f.read() == payloads["cut.bin"], "%s: the copy differs from the source" % name)
            rests = [c for c in source.commands() if c.startswith("REST ")]
            done = [e for e in parsed if e["event"] == "done"]
            if resume:
                offsets = [int(c.split()[1]) for c in rests]
                check(len(offsets) == 1 and 0 < offsets[0] < size,
                      "%s: the retry did not continue the kept partial file (REST commands %s)" % (name, rests))
                check(done and done[0].get("resumed_from") == offsets[0],
                      "%s: the done event does not say it resumed from byte %d: %s" % (name, offsets[0], done))
            else:
                check(not rests, "%s: a retry without --resume resumed: %s" % (name, rests))
                check(done and "resumed_from" not in done[0], "%s: done event %s" % (name, done))
            check(not temporaries(dst.root), "%s: temporary files left: %s" % (name, temporaries(dst.root)))
    finally:
        source.stop()
    source = ScriptedSource(os.path.join(work, "always"), "retr-drop-data", fail_first=100)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
            write_files(source.root, ["lost.bin"], size)
            job = os.path.join(work, "lost.job")
            with open(job, "w") as f:
                f.write("%s %s\n" % (source.url("lost.bin"), dst_url(dst, "lost.bin")))
            result = rsexec_run(rsexec, ["batch", "-j", "1", "--json", "--no-journal", "--timeout", "5", "--retries",
                                         "1", "--pipeline", "off"] + flags + [job])
            left = temporaries(dst.root)
            if resume:
                check(left == [".lost.bin.rsexec-part"], "%s: --resume did not keep the partial file: %s" % (name, left))
            else:
                check(not left, "%s: a failed item left its temporary file without --resume: %s" % (name, left))
            check(result.returncode == TRANSFER, "%s: every attempt cut: exit %d, not %d: %s"
                  % (name, result.returncode, TRANSFER, result.stderr[-1500:]))
            print("ok: %s: a cut transfer's retry %s; a failed item %s its temporary file"
                  % (name, "continues the kept partial file" if resume else "starts over",
                     "keeps" if resume else "leaves no"))
    finally:
        source.stop()


def journal_states(journal):
    connection = sqlite3.connect(journal)
    try:
        return connection.execute("SELECT state, last_error FROM items").fetchall()
    finally:
        connection.close()


def liar_case(rsexec, rsexecd, work, script):
    source = ScriptedSource(work, script)
    try:
        with RsexecdServer(rsexecd, DST_HOST, extra_args=FXP) as dst:
            write_files(source.root, ["f.bin"], 512 * 1024)
            result = rsexec_run(rsexec, ["copy", "--timeout", "5", source.url("f.bin"), dst_url(dst, "f.bin")])
            check(result.returncode == VERIFICATION,
                  "%s: copy exit %d, README's code for a size that differs is %d: %s"
                  % (script, result.returncode, VERIFICATION, result.stderr[-1000:]))
            check(not os.path.exists(dst.path("f.bin")), "%s: the short copy got its final name" % script)
            check(not temporaries(dst.root), "%s: temporary file left: %s" % (script, temporaries(dst.root)))
            check(any(l.startswith("transfer STOR") or " transfer STOR " in l for l in dst.log().splitlines()) or
                  "STOR" in dst.log(), "%s: the destination never received a STOR: the check was not reached" % script)

            job = os.path.join(work, "liar.job")
            with open(job, "w") as f:
                f.write("%s %s\n" % (source.url("f.bin"), dst_url(dst, "f.bin")))
            result = rsexec_run(rsexec, ["batch", "--json", "--timeout", "5", "--retries", "0", job])
            parsed = parse_events(result)
            errors = [e for e in parsed if e["event"] == "error"]
            check(len(errors) == 1 and errors[0].get("exit_code") == VERIFICATION,
                  "%s: batch error events %s" % (script, errors))
            check(result.returncode == VERIFICATION, "%s: the only item failed verification, but batch exit %d, not %d"
                  % (script, result.returncode, VERIFICATION))
            check(not os.path.exists(dst.path("f.bin")) and not temporaries(dst.root),
                  "%s: batch left %s" % (script, os.listdir(dst.root)))
            states = journal_states(job + ".journal")
            check(len(states) == 1 and states[0][0] == "failed",
                  "%s: the journal says %s, not failed" % (script, states))
            print("ok: %s: copy exit 9, batch error exit_code 9 and journal failed, nothing under the final name,"
                  " no temporary file" % script)
    finally:
        source.stop()


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    rsexec, rsexecd, case = argv[1:]
    work = tempfile.mkdtemp(prefix="rsexec-retry-")
    if case in RETRY_CASES or case in ("pipeline-block", "pipeline-commands"):
        retry_case(rsexec, rsexecd, work, case)
    elif case == "550":
        permanent_case(rsexec, rsexecd, work)
    elif case == "worker":
        worker_case(rsexec, rsexecd, work)
    elif case in ("resume", "no-resume"):
        resume_case(rsexec, rsexecd, work, case == "resume")
    elif case in ("size-liar", "short-226"):
        liar_case(rsexec, rsexecd, work, case)
    else:
        print("unknown case %r" % case, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
