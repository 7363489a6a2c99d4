#!/usr/bin/python3
"""Fault tests: `rsexec copy` against scripted hostile FTP servers (hostile_server.py).

    test_hostile.py RSEXEC [CASE...]

Each case starts a hostile server and a well-behaved one on 127.0.0.x, runs `rsexec copy
--timeout 3` between them and checks that rsexec fails (or succeeds) the documented way: the
exit code of `rsexec copy --help`, a message on stderr that names the side and the fault, an
answer within 10 s, and a peak RSS under 64 MiB. Without CASE, every case runs, each in its own
process (so that RUSAGE_CHILDREN sees only that case's rsexec).
"""

import os
import re
import resource
import subprocess
import sys
import tempfile
import time

from hostile_fixture import HostileServer


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
GOOD_HOST = "127.0.0.2"
HOSTILE_HOST = "127.0.0.3"
THIRD_PARTY = "127.0.0.99"  # nothing listens there: a connection to it is refused at once
TIME_LIMIT = 10.0
REPLY_TIMEOUT = 3  # rsexec copy --timeout
RSS_LIMIT_KIB = 64 * 1024
# Under AddressSanitizer rsexec starts far above that (shadow memory, quarantine, a large
# instrumented binary: 115 to 180 MiB, by build): there the bound is the RSS `rsexec --version`
# starts with, plus the same 64 MiB, which still catches the 100 MiB line being buffered.


RSS_LIMIT = RSS_LIMIT_KIB


def sanitized(binary):
    # Read a chunk at a time: the peak RSS of this process is inherited by every child forked
    # after it (ru_maxrss counts the time before exec), and rsexec's own peak is measured so.
    marker, tail = b"__asan_init", b""
    with open(binary, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker):]
    return False


def startup_rss_kib(binary):
    """Peak RSS of `binary --version`, this child's alone (wait4), in KiB."""
    child = subprocess.Popen([binary, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    check(child.returncode == 0, "%s --version exited %d" % (binary, child.returncode))
    return usage.ru_maxrss


PAYLOAD = bytes(range(256)) * 400  # 100 KiB

# Exit codes (app/rsexec/exit_codes_help.hpp).
CONNECT, SOURCE, PAIRING, TRANSFER, TIMEOUT = 3, 5, 7, 8, 10


def FtpServer(workdir, name, script, host, data_timeout=30):
    """hostile_server.py running `script` on `host` serving workdir/name, the commands it hears logged."""
    return HostileServer(script, host, os.path.join(workdir, name), log=os.path.join(workdir, name + ".log"),
                         extra_args=["--announce-host", THIRD_PARTY, "--data-timeout", str(data_timeout)])


class Run:
    def __init__(self, rsexec, args):
        command = [rsexec, "copy", "--timeout", str(REPLY_TIMEOUT), "-v"] + args
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=30)
        except subprocess.TimeoutExpired as expired:
            raise AssertionError("rsexec still running after 30 s: %s" % " ".join(command)) from expired
        self.elapsed = time.monotonic() - started
        # Only rsexec has been waited for in this process so far: its peak RSS, in KiB on Linux.
        self.rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.code = done.returncode
        self.stdout = done.stdout
        self.stderr = done.stderr
        # The last line is rsexec's own error message; the rest is the -v dialogue.
        lines = [l for l in done.stderr.splitlines() if l.startswith("rsexec: ")]
        self.message = lines[-1] if lines else ""

    def check(self, code, message_pattern=None):
        context = "exit %d after %.1f s, RSS %d KiB\nstderr (tail):\n%s" % (
            self.code, self.elapsed, self.rss_kib, "\n".join(self.stderr.splitlines()[-15:]))
        check(self.elapsed < TIME_LIMIT, "rsexec took too long: " + context)
        if code == TIMEOUT:
            # A timeout is not an early give-up: not before --timeout has run out.
            check(self.elapsed >= REPLY_TIMEOUT - 0.05, "rsexec gave up before --timeout: " + context)
        check(self.rss_kib < RSS_LIMIT, "rsexec used too much memory: " + context)
        check(self.code == code, "expected exit %d: %s" % (code, context))
        if message_pattern:
            check(re.search(message_pattern, self.message), "message does not match %r: %s" % (message_pattern, context))
        print("  exit %d in %.1f s, peak RSS %.1f MiB: %s" % (self.code, self.elapsed, self.rss_kib / 1024, self.message))


class Case:
    """A hostile server and a well-behaved one; `hostile_side` says which end is hostile."""

    def __init__(self, workdir, script, hostile_side="src", good_script="well-behaved", data_timeout=30):
        self.hostile = FtpServer(workdir, "hostile", script, HOSTILE_HOST, data_timeout)
        self.good = FtpServer(workdir, "good", good_script, GOOD_HOST, data_timeout)
        self.src, self.dst = (self.hostile, self.good) if hostile_side == "src" else (self.good, self.hostile)
        with open(os.path.join(self.src.root, "f.bin"), "wb") as source_file:
            source_file.write(PAYLOAD)

    def copy(self, rsexec, *options):
        try:
            return Run(rsexec, list(options) + [self.src.url("f.bin"), self.dst.url("g.bin")])
        finally:
            self.hostile.stop()
            self.good.stop()

    def copied(self):
        path = os.path.join(self.dst.root, "g.bin")
        return os.path.exists(path) and open(path, "rb").read() == PAYLOAD


# --- cases: each takes the rsexec binary and a scratch directory -----------------------------------

def case_endless_multiline(rsexec, workdir):
    """A greeting whose continuation lines never end: refused at the reply bounds, not buffered."""
    Case(workdir, "endless-multiline").copy(rsexec).check(SOURCE, r"^rsexec: src: reply (of more than|longer than)")


def case_slow_multiline(rsexec, workdir):
    """The same, one line every 0.2 s: the reply's deadline ends it."""
    Case(workdir, "slow-multiline").copy(rsexec).check(TIMEOUT, r"^rsexec: src: .*timeout")


def case_huge_line(rsexec, workdir):
    """One 100 MiB greeting line: refused at the line bound (8 KiB)."""
    Case(workdir, "huge-line").copy(rsexec).check(SOURCE, r"^rsexec: src: reply line longer than")


def case_garbage_code(rsexec, workdir):
    """'abc hello' is no RFC 959 reply."""
    Case(workdir, "garbage-code").copy(rsexec).check(SOURCE, r"^rsexec: src: malformed reply line: abc hello")


def case_close_mid_reply(rsexec, workdir):
    """The control connection closes in the middle of a multi-line reply."""
    Case(workdir, "close-mid-reply").copy(rsexec).check(CONNECT, r"^rsexec: src: .*closed the control connection")


def case_no_greeting(rsexec, workdir):
    """A server that accepts the connection and never says 220."""
    Case(workdir, "no-greeting").copy(rsexec).check(TIMEOUT, r"^rsexec: src: no reply .*within the timeout")


def bounce(rsexec, workdir, script, dialect, trust):
    case = Case(workdir, script, hostile_side="dst")
    options = ["--dialect", dialect] + (["--trust-announced-address"] if trust else [])
    run = case.copy(rsexec, *options)
    told = [c for c in case.good.commands() if c.startswith(("PORT ", "EPRT ", "SOCK "))]
    print("  the well-behaved source was told: %s" % told)
    check(told, "no PORT/EPRT/SOCK reached the well-behaved server")
    return case, run, told


def case_pasv_bounce(rsexec, workdir):
    """227 names 127.0.0.99: rsexec forwards the hostile server's own control address instead."""
    case, run, told = bounce(rsexec, workdir, "pasv-third-party", "pasv", trust=False)
    check(told[0].startswith("PORT 127,0,0,3,"), told)
    check(not any("127,0,0,99" in c for c in told), "bounce address forwarded: %s" % told)
    run.check(0)
    check(case.copied(), "the file did not arrive")


def case_pasv_bounce_trusted(rsexec, workdir):
    """With --trust-announced-address the 227's address is forwarded as announced."""
    case, run, told = bounce(rsexec, workdir, "pasv-third-party", "pasv", trust=True)
    check(told[0].startswith("PORT 127,0,0,99,"), told)
    # Nothing listens on 127.0.0.99: that pairing fails with 425 and rsexec swaps the roles.
    run.check(0)
    check(case.copied(), "the file did not arrive")


def case_epsv_bounce(rsexec, workdir):
    """229 carrying another host's address: EPRT names the control address, trusted or not."""
    for trust in (False, True):
        case, run, told = bounce(rsexec, workdir + ("/trusted" if trust else "/plain"), "epsv-third-party", "epsv", trust)
        check(told[0].startswith("EPRT |1|127.0.0.3|"), told)
        check(not any("127.0.0.99" in c for c in told), "bounce address forwarded: %s" % told)
        run.check(0)
        check(case.copied(), "the file did not arrive")


def case_sock_bounce(rsexec, workdir):
    """LSTN's 255 SOCK names 127.0.0.99: the connector's SOCK names the control address instead."""
    case, run, told = bounce(rsexec, workdir, "sock-third-party", "rfc438", trust=False)
    check(told[0].startswith("SOCK 127,0,0,3,"), told)
    check(not any("127,0,0,99" in c for c in told), "bounce address forwarded: %s" % told)
    run.check(0)
    check(case.copied(), "the file did not arrive")


def case_hang_after_150(rsexec, workdir):
    """The source answers RETR with 150 and never connects nor says 226: the timeout ends it and
    the destination, still waiting for its data connection, gets ABOR."""
    case = Case(workdir, "hang-after-150")
    run = case.copy(rsexec, "--dialect", "pasv")
    run.check(TIMEOUT, r"^rsexec: (src|dst): .*no reply within the timeout")
    commands = case.good.commands()
    check("ABOR" in commands, "the destination never got ABOR: %s" % commands)
    check(not os.path.exists(os.path.join(case.dst.root, "g.bin")), 'failed: not os.path.exists(os.path.join(case.dst.root, "g.bin"))')


def case_hang_after_150_dst(rsexec, workdir):
    """The destination answers STOR with 150 and never 226, while the source finishes."""
    case = Case(workdir, "hang-after-150", hostile_side="dst")
    run = case.copy(rsexec, "--dialect", "pasv")
    run.check(TIMEOUT, r"^rsexec: dst: STOR .*no reply within the timeout")


def case_refuse_port(rsexec, workdir):
    """Both servers refuse PORT and EPRT: exit 7, naming who refused what for every attempt."""
    case = Case(workdir, "refuse-port", good_script="refuse-port")
    run = case.copy(rsexec, "--relay", "never")
    run.check(PAIRING, r"^rsexec: the servers refused every way to pair them")
    # The connector is told the listener's address: src (127.0.0.3) hears of dst (127.0.0.2).
    for refusal in ("src: EPRT |1|127.0.0.2|", "dst: EPRT |1|127.0.0.3|", "src: PORT 127,0,0,2,", "dst: PORT 127,0,0,3,"):
        check(refusal in run.message, "%r missing from: %s" % (refusal, run.message))
    check(": 500 " in run.message, 'failed: ": 500 " in run.message')


CASES = {name[len("case_"):].replace("_", "-"): function
         for name, function in sorted(globals().items()) if name.startswith("case_")}


def run_case(rsexec, name):
    print("%s: %s" % (name, CASES[name].__doc__.split("\n")[0]))
    with tempfile.TemporaryDirectory(prefix="rsexec-faults-") as workdir:
        CASES[name](rsexec, workdir)
    print("%s: ok" % name)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    rsexec, names = argv[1], argv[2:]
    global RSS_LIMIT
    RSS_LIMIT = startup_rss_kib(rsexec) + RSS_LIMIT_KIB if sanitized(rsexec) else RSS_LIMIT_KIB
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print("unknown case(s): %s; cases: %s" % (", ".join(unknown), ", ".join(CASES)))
        return 2
    if len(names) == 1:
        try:
            run_case(rsexec, names[0])
        except AssertionError as failure:
            print("%s: FAILED: %s" % (names[0], failure))
            return 1
        return 0
    failed = [n for n in (names or CASES) if subprocess.call([PYTHON, __file__, rsexec, n]) != 0]
    print("failed: %s" % ", ".join(failed) if failed else "all %d cases passed" % len(names or CASES))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
