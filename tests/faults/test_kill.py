#!/usr/bin/python3
"""Fault tests: a real rsexecd pair on 127.0.0.2/127.0.0.3 loses a server in the middle of a
transfer (SIGKILL), or one stops without dying (SIGSTOP), and a partial copy is resumed.

    test_kill.py RSEXEC RSEXECD CASE

  kill-src, kill-dst  SIGKILL one server mid-way through 512 MiB: rsexec exits 8 (transfer
                      failed) naming that side, and the final name keeps its old content.
  stop-src, stop-dst  SIGSTOP one server mid-way: rsexec gives up after --timeout 3 with exit 10,
                      naming the stopped side, and the other side is sent ABOR.
  stop-capped         SIGSTOP the source mid-way through a batch with --max-per-host 1: the stall
                      watch, which needs a second connection to the destination, goes without
                      (a notice says why) and the destination never sees two logins; SIGCONT,
                      and the copy completes.
  second-sigint       a batch's first SIGINT waits for the running copy (its source SIGSTOPped),
                      the second aborts it: exit 12 at once, nothing under the final name; the
                      next run resumes the temporary file from the journal.
  sigint-copy, sigterm-copy
                      the signal reaches `rsexec copy` of 1 GiB past 64 MiB: ABOR on both servers,
                      the temporary file deleted, exit 12 with a message naming the signal.
  sigint-copy-resume  the same with --resume: the temporary file is kept, stderr prints the command
                      that continues the copy, and that command, run as printed, completes it.
  sigterm-batch       SIGTERM on a batch aborts the running copy at once (as a second SIGINT does).
  resume              SIGKILL the source at about half of 256 MiB with --resume; a second run
                      moves only the rest (REST n, and rsexecd's transfer log) and the copy is
                      byte-identical.

"Mid-way" is a signal, not a sleep: the test polls the size of the destination's temporary file
until it passes a threshold (a bounded busy loop, since loopback moves about 1 GB/s). Should the
transfer still win the race, the case is tried again, at most three times.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import RsexecdServer  # noqa: E402


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


MiB = 1 << 20
TRANSFER, TIMEOUT, INTERRUPTED = 8, 10, 12  # app/rsexec/exit_codes_help.hpp
OLD_CONTENT = b"the old content of big.bin\n"
SERVER_ARGS = ["--fxp-peers", "127.0.0.0/8"]


class RaceLost(Exception):
    """The transfer ended before the threshold was seen: nothing to interrupt."""


def url(server, path):
    user, password = server.credentials
    return "ftp://%s:%s@%s:%d/%s" % (user, password, server.address, server.port, path)


def make_sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


def make_random(path, size):
    with open(path, "wb") as f:
        for _ in range(size // (8 * MiB)):
            f.write(os.urandom(8 * MiB))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 * MiB), b""):
            digest.update(block)
    return digest.hexdigest()


class Rsexec:
    """rsexec in the background, its output in files (a -v dialogue could fill a pipe)."""

    def __init__(self, rsexec, workdir, args):
        self.out_path = os.path.join(workdir, "rsexec.out")
        self.err_path = os.path.join(workdir, "rsexec.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen([rsexec] + args, stdout=out, stderr=err)
        self.started = time.monotonic()

    def wait(self, limit):
        try:
            return self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("rsexec still running after %.0f s:\n%s" % (limit, self.stderr()[-2000:]))

    def stderr(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def message(self):
        lines = [l for l in self.stderr().splitlines() if l.startswith("rsexec: ") and "warning" not in l]
        return lines[-1] if lines else ""


def wait_for_bytes(path, threshold, rsexec, limit=30.0):
    """Busy-polls `path` until it holds `threshold` bytes; RaceLost when rsexec ends first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if os.stat(path).st_size >= threshold:
                return
        except FileNotFoundError:
            pass
        if rsexec.process.poll() is not None:
            raise RaceLost()
    raise AssertionError("%s did not reach %d bytes within %.0f s" % (path, threshold, limit))


def servers(rsexecd, workdir):
    src = RsexecdServer(rsexecd, "127.0.0.2", root=os.path.join(workdir, "src"), extra_args=SERVER_ARGS)
    dst = RsexecdServer(rsexecd, "127.0.0.3", root=os.path.join(workdir, "dst"), extra_args=SERVER_ARGS)
    os.makedirs(src.root, exist_ok=True)
    os.makedirs(dst.root, exist_ok=True)
    return src.start(), dst.start()


def stop(*servers_):
    for server in servers_:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        server.__exit__()  # stops it and removes its log directory


def interrupt(rsexec_binary, rsexecd, workdir, side, how):
    """A 512 MiB copy; `how` (SIGKILL or SIGSTOP) reaches the `side` server past 64 MiB."""
    src, dst = servers(rsexecd, workdir)
    try:
        make_sparse(src.path("big.bin"), 512 * MiB)
        with open(dst.path("big.bin"), "wb") as f:
            f.write(OLD_CONTENT)
        run = Rsexec(rsexec_binary, workdir, ["copy", "--timeout", "3", "-v", url(src, "big.bin"), url(dst, "big.bin")])
        wait_for_bytes(dst.path(".big.bin.rsexec-part"), 64 * MiB, run)
        victim = src if side == "src" else dst
        victim.process.send_signal(how)
        signalled = time.monotonic()
        code = run.wait(30)
        elapsed = time.monotonic() - signalled
        return src, dst, run, code, elapsed
    except BaseException:
        stop(src, dst)
        raise


def check_old_content(dst):
    with open(dst.path("big.bin"), "rb") as f:
        check(f.read() == OLD_CONTENT, "the final name no longer holds its old content")


def kill(rsexec, rsexecd, workdir, side):
    src, dst, run, code, elapsed = interrupt(rsexec, rsexecd, workdir, side, signal.SIGKILL)
    survivor = dst if side == "src" else src
    # SECURITY.md: "the other side gets ABOR" — unless its own transfer has already ended, when
    # nothing is left to abort: reset by the dead peer ("transfer ... failed"), or, for a STOR,
    # ended by the FIN the kernel sends for the killed sender, which stream mode cannot tell from
    # the end of the file (RFC 959 3.4.1; rsexec then deletes the temporary file, checked below).
    # Its log line may trail rsexec's exit a little.
    ended = re.compile(r"> ABOR|transfer (RETR|STOR) \S+ (failed|bytes=)")
    deadline = time.monotonic() + 10
    while not ended.search(survivor.log()) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivor_log = survivor.log()
    stop(src, dst)
    if not ended.search(survivor_log):
        raise AssertionError("the surviving %s server was not sent ABOR, and its transfer did not end:\n%s"
                             % ("dst" if side == "src" else "src", survivor_log[-2000:]))
    context = "exit %d after %.1f s: %s\n%s" % (code, elapsed, run.message(), run.stderr()[-1500:])
    check(code == TRANSFER, "expected exit %d (transfer failed): %s" % (TRANSFER, context))
    check(run.message().startswith("rsexec: %s: " % side), "the message does not name %s: %s" % (side, context))
    check(elapsed < 3 + 5, "rsexec took %.1f s to notice" % elapsed)
    check_old_content(dst)
    if side == "src":
        # The destination is alive: the temporary file was deleted (no --resume).
        check(not os.path.exists(dst.path(".big.bin.rsexec-part")), "the temporary file was left behind")
    print("  exit %d %.2f s after SIGKILL: %s" % (code, elapsed, run.message()))


def stopped(rsexec, rsexecd, workdir, side):
    src, dst, run, code, elapsed = interrupt(rsexec, rsexecd, workdir, side, signal.SIGSTOP)
    other = dst if side == "src" else src
    other_log = other.log()
    stop(src, dst)
    context = "exit %d after %.1f s: %s\n%s" % (code, elapsed, run.message(), run.stderr()[-1500:])
    check(code == TIMEOUT, "expected exit %d (timeout): %s" % (TIMEOUT, context))
    check(run.message().startswith("rsexec: %s: stall timeout" % side), "the message does not name %s: %s" % (side, context))
    # Not before --timeout, and not much after: polls every second, a stopped server's ABOR
    # waited for 1 s, the other side's ABOR answered at once.
    check(3 <= elapsed < 3 + 6, "gave up %.1f s after SIGSTOP (--timeout 3)" % elapsed)
    check(re.search(r"> ABOR", other_log), "the %s server was not sent ABOR" % ("dst" if side == "src" else "src"))
    check_old_content(dst)
    print("  exit %d %.2f s after SIGSTOP: %s" % (code, elapsed, run.message()))


def case_kill_src(rsexec, rsexecd, workdir):
    kill(rsexec, rsexecd, workdir, "src")


def case_kill_dst(rsexec, rsexecd, workdir):
    kill(rsexec, rsexecd, workdir, "dst")


def case_stop_src(rsexec, rsexecd, workdir):
    stopped(rsexec, rsexecd, workdir, "src")


def case_stop_dst(rsexec, rsexecd, workdir):
    stopped(rsexec, rsexecd, workdir, "dst")


def most_at_once(log):
    """The most sessions logged in at once, from rsexecd's log ('#N ... logged in', '#N ... disconnected')."""
    open_now, most = set(), 0
    for line in log.splitlines():
        match = re.search(r" #(\d+) \S+ (logged in as|disconnected)", line)
        if match and match.group(2) == "disconnected":
            open_now.discard(match.group(1))
        elif match:
            open_now.add(match.group(1))
            most = max(most, len(open_now))
    return most


def big_file_job(src, dst, workdir):
    """A job file of one line: a sparse 512 MiB big.bin from src to dst."""
    make_sparse(src.path("big.bin"), 512 * MiB)
    job = os.path.join(workdir, "big.job")
    with open(job, "w") as f:
        f.write("%s %s\n" % (url(src, "big.bin"), url(dst, "big.bin")))
    return job


def case_stop_capped(rsexec, rsexecd, workdir):
    src, dst = servers(rsexecd, workdir)
    try:
        job = big_file_job(src, dst, workdir)
        run = Rsexec(rsexec, workdir, ["batch", "-j", "1", "--max-per-host", "1", "--timeout", "3", "-v",
                                       "--no-journal", "--json", job])
        wait_for_bytes(dst.path(".big.bin.rsexec-part"), 64 * MiB, run)
        src.process.send_signal(signal.SIGSTOP)
        # The watch's first poll comes about a second later: wait for its notice, bounded.
        deadline = time.monotonic() + 15
        notice = "left for a second one (--max-per-host)"
        while notice not in run.stderr() and time.monotonic() < deadline and run.process.poll() is None:
            time.sleep(0.05)
        check(notice in run.stderr(), "no notice that the watch went without:\n%s" % run.stderr()[-2000:])
        check(most_at_once(dst.log()) == 1, "two sessions at once with --max-per-host 1:\n%s" % dst.log()[-3000:])
        src.process.send_signal(signal.SIGCONT)
        code = run.wait(60)
        check(code == 0, "exit %d after SIGCONT:\n%s" % (code, run.stderr()[-2000:]))
        check(os.path.getsize(dst.path("big.bin")) == 512 * MiB, "the copy is incomplete")
        check(most_at_once(dst.log()) == 1, "two sessions at once with --max-per-host 1:\n%s" % dst.log()[-3000:])
        print("  --max-per-host 1: no second login for the stall watch; the copy completed after SIGCONT")
    finally:
        stop(src, dst)


def case_second_sigint(rsexec, rsexecd, workdir):
    src, dst = servers(rsexecd, workdir)
    try:
        job = big_file_job(src, dst, workdir)
        args = ["batch", "-j", "1", "--timeout", "30", "--json", job]
        run = Rsexec(rsexec, workdir, args)
        partial = dst.path(".big.bin.rsexec-part")
        wait_for_bytes(partial, 64 * MiB, run)
        # The source stops answering: the running copy can end only by being aborted.
        src.process.send_signal(signal.SIGSTOP)
        run.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline and run.process.poll() is None:
            time.sleep(0.05)
        check(run.process.poll() is None, "the first SIGINT did not wait for the running copy:\n" + run.stderr()[-1500:])
        run.process.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        code = run.wait(30)
        elapsed = time.monotonic() - signalled
        src.process.send_signal(signal.SIGCONT)
        check(code == INTERRUPTED, "exit %d after the second SIGINT: %s" % (code, run.stderr()[-1500:]))
        check(elapsed < 3, "the second SIGINT took %.1f s to end the run" % elapsed)
        with open(run.out_path) as f:
            summary = json.loads(f.read().splitlines()[-1])
        check(summary["event"] == "summary" and summary["interrupted"] == 1 and summary["done"] == 0, summary)
        check(not os.path.exists(dst.path("big.bin")), "a file under the final name after the abort")
        kept = os.path.getsize(partial)
        print("  second SIGINT: exit %d %.2f s later, %d bytes kept under the temporary name" % (code, elapsed, kept))

        # The journal beside the job file has the item as started: the next run resumes it.
        rerun = Rsexec(rsexec, workdir, args)
        code = rerun.wait(60)
        check(code == 0, "the next run: exit %d: %s" % (code, rerun.stderr()[-1500:]))
        with open(rerun.out_path) as f:
            done = [json.loads(line) for line in f if '"done"' in line and '"event":"done"' in line]
        check(done and done[0].get("resumed_from", 0) > 0, "the next run did not resume: %s" % done)
        check(os.path.getsize(dst.path("big.bin")) == 512 * MiB and not os.path.exists(partial), 'failed: os.path.getsize(dst.path("big.bin")) == 512 * MiB and not os.path.exists(partial)')
        print("  the next run resumed at byte %d and completed" % done[0]["resumed_from"])
    finally:
        stop(src, dst)


def case_resume(rsexec, rsexecd, workdir):
    size = 256 * MiB
    src, dst = servers(rsexecd, workdir)
    try:
        make_random(src.path("big.bin"), size)
        first = Rsexec(rsexec, workdir, ["copy", "--resume", "--timeout", "3",
                                         url(src, "big.bin"), url(dst, "big.bin")])
        partial = dst.path(".big.bin.rsexec-part")
        wait_for_bytes(partial, size // 2, first)
        src.process.send_signal(signal.SIGKILL)
        code = first.wait(30)
        check(code == TRANSFER, "first run: exit %d: %s" % (code, first.stderr()[-1500:]))
        kept = os.path.getsize(partial)
        check(0 < kept < size, "kept %d bytes of %d" % (kept, size))
        stop(src)

        # The source comes back (another port, the same files); the copy goes on from `kept`.
        src = RsexecdServer(rsexecd, "127.0.0.2", root=src.root, extra_args=SERVER_ARGS).start()
        os.makedirs(os.path.join(workdir, "second"))
        second = Rsexec(rsexec, os.path.join(workdir, "second"),
                        ["copy", "--resume", "-v", "--timeout", "3", url(src, "big.bin"), url(dst, "big.bin")])
        code = second.wait(60)
        trace = second.stderr()
        check(code == 0, "second run: exit %d: %s" % (code, trace[-1500:]))
        check(re.search(r"^src> REST %d$" % kept, trace, re.M), "no REST %d in the trace:\n%s" % (kept, trace[-1500:]))
        check(re.search(r"^dst> APPE \.big\.bin\.rsexec-part$", trace, re.M), "no APPE in the trace")
        sent = [int(m.group(1)) for m in (re.search(r"bytes=(\d+)", l) for l in src.transfers("RETR")) if m]
        check(sent == [size - kept], "the source sent %s bytes, the rest was %d" % (sent, size - kept))
        check(not os.path.exists(partial), "the temporary file is still there")
        check(sha256(dst.path("big.bin")) == sha256(src.path("big.bin")), "the copy differs from the source")
        print("  first run kept %d bytes; the second moved %d of %d bytes" % (kept, sent[0], size))
    finally:
        stop(src, dst)


def netrc_for(workdir, *servers_):
    """A netrc file with the servers' logins: URLs without passwords, so a printed command runs as it is."""
    path = os.path.join(workdir, "netrc")
    with open(path, "w") as f:
        for server in servers_:
            user, password = server.credentials
            f.write("machine %s login %s password %s\n" % (server.address, user, password))
    os.chmod(path, 0o600)
    return path


def bare_url(server, path):
    return "ftp://%s:%d/%s" % (server.address, server.port, path)


def signalled_copy(rsexec, rsexecd, workdir, how, resume):
    """A 1 GiB sparse copy; `how` reaches rsexec once the temporary file passes 64 MiB."""
    src, dst = servers(rsexecd, workdir)
    make_sparse(src.path("big.bin"), 1024 * MiB)
    netrc = netrc_for(workdir, src, dst)
    args = ["copy", "--netrc", netrc, "--timeout", "10"] + (["--resume"] if resume else []) + \
        [bare_url(src, "big.bin"), bare_url(dst, "big.bin")]
    run = Rsexec(rsexec, workdir, args)
    partial = dst.path(".big.bin.rsexec-part")
    try:
        wait_for_bytes(partial, 64 * MiB, run)
    except BaseException:
        stop(src, dst)
        raise
    run.process.send_signal(how)
    signalled = time.monotonic()
    code = run.wait(30)
    elapsed = time.monotonic() - signalled
    return src, dst, run, code, elapsed, partial


def copy_signal(rsexec, rsexecd, workdir, how):
    src, dst, run, code, elapsed, partial = signalled_copy(rsexec, rsexecd, workdir, how, resume=False)
    try:
        context = "exit %d %.1f s after the signal:\n%s" % (code, elapsed, run.stderr()[-1500:])
        if code != INTERRUPTED:
            raise AssertionError("expected exit %d (interrupted): %s" % (INTERRUPTED, context))
        if "interrupted by %s" % how.name not in run.message():
            raise AssertionError("the message does not say it was interrupted: " + context)
        if elapsed >= 5:
            raise AssertionError("rsexec took %.1f s to stop" % elapsed)
        if os.path.exists(partial) or os.path.exists(dst.path("big.bin")):
            raise AssertionError("a file was left behind: %s" % os.listdir(dst.root))
        for server in (src, dst):
            if not re.search(r"> ABOR", server.log()):
                raise AssertionError("%s was not sent ABOR:\n%s" % (server.address, server.log()[-2000:]))
        print("  %s: exit %d %.2f s later, ABOR on both sides, no temporary file: %s" % (
            how.name, code, elapsed, run.message()))
    finally:
        stop(src, dst)


def case_sigint_copy(rsexec, rsexecd, workdir):
    copy_signal(rsexec, rsexecd, workdir, signal.SIGINT)


def case_sigterm_copy(rsexec, rsexecd, workdir):
    copy_signal(rsexec, rsexecd, workdir, signal.SIGTERM)


def case_sigint_copy_resume(rsexec, rsexecd, workdir):
    src, dst, run, code, elapsed, partial = signalled_copy(rsexec, rsexecd, workdir, signal.SIGINT, resume=True)
    try:
        stderr = run.stderr()
        if code != INTERRUPTED:
            raise AssertionError("expected exit %d: exit %d:\n%s" % (INTERRUPTED, code, stderr[-1500:]))
        if not os.path.exists(partial):
            raise AssertionError("--resume: the temporary file was not kept:\n" + stderr[-1500:])
        kept = os.path.getsize(partial)
        if "kept to resume" not in stderr:
            raise AssertionError("no word that the temporary file was kept:\n" + stderr[-1500:])
        marker = "to continue the copy, run: "
        commands = [line.split(marker, 1)[1] for line in stderr.splitlines() if marker in line]
        if len(commands) != 1:
            raise AssertionError("want one command that continues the copy:\n" + stderr[-1500:])
        words = shlex.split(commands[0])
        if words[:2] != ["rsexec", "copy"] or "--resume" not in words:
            raise AssertionError("not an rsexec copy --resume command: %s" % commands[0])
        os.makedirs(os.path.join(workdir, "again"))
        again = Rsexec(rsexec, os.path.join(workdir, "again"), words[1:])
        code = again.wait(120)
        if code != 0:
            raise AssertionError("the printed command: exit %d:\n%s" % (code, again.stderr()[-1500:]))
        sent = [int(m.group(1)) for m in (re.search(r"bytes=(\d+)", l) for l in src.transfers("RETR")) if m]
        if sent[-1:] != [1024 * MiB - kept]:
            raise AssertionError("the continued copy did not start at byte %d: the source sent %s" % (kept, sent))
        if os.path.exists(partial):
            raise AssertionError("the temporary file is still there after the continued copy")
        if sha256(dst.path("big.bin")) != sha256(src.path("big.bin")):
            raise AssertionError("the continued copy differs from the source")
        print("  SIGINT with --resume: %d bytes kept; `%s` moved the other %d and completed it" % (
            kept, commands[0], sent[-1]))
    finally:
        stop(src, dst)


def case_sigterm_batch(rsexec, rsexecd, workdir):
    """SIGTERM on a batch aborts the running copy at once, as a second SIGINT does."""
    src, dst = servers(rsexecd, workdir)
    try:
        job = big_file_job(src, dst, workdir)
        run = Rsexec(rsexec, workdir, ["batch", "-j", "1", "--timeout", "30", "--json", job])
        wait_for_bytes(dst.path(".big.bin.rsexec-part"), 64 * MiB, run)
        # The source stops answering: the running copy can end only by being aborted.
        src.process.send_signal(signal.SIGSTOP)
        run.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = run.wait(30)
        elapsed = time.monotonic() - signalled
        src.process.send_signal(signal.SIGCONT)
        if code != INTERRUPTED:
            raise AssertionError("exit %d after SIGTERM:\n%s" % (code, run.stderr()[-1500:]))
        if elapsed >= 3:
            raise AssertionError("SIGTERM took %.1f s to end the batch" % elapsed)
        if os.path.exists(dst.path("big.bin")):
            raise AssertionError("a file under the final name after the abort")
        print("  SIGTERM: exit %d %.2f s later; the running copy was aborted" % (code, elapsed))
    finally:
        stop(src, dst)


CASES = {name[len("case_"):].replace("_", "-"): function
         for name, function in sorted(globals().items()) if name.startswith("case_")}


def main(argv):
    if len(argv) != 4 or argv[3] not in CASES:
        print(__doc__)
        return 2
    rsexec, rsexecd, name = argv[1:]
    print("%s:" % name)
    for attempt in range(1, 4):
        workdir = tempfile.mkdtemp(prefix="rsexec-kill-")
        try:
            CASES[name](rsexec, rsexecd, workdir)
            print("%s: ok" % name)
            return 0
        except RaceLost:
            print("  attempt %d: the transfer ended before the signal; again" % attempt)
        except AssertionError as failure:
            print("%s: FAILED: %s" % (name, failure))
            return 1
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%s: FAILED: the transfer outran the signal three times" % name)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
