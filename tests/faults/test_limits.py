#!/usr/bin/python3
"""rsexecd's resource bounds against a hostile client: restart offsets, hashing, file descriptors,
session count, slow clients, password guessing, memory per session; and the numeric options
that set them, checked before rsexecd starts.

    test_limits.py RSEXECD GROUP

GROUP is one of: rest, hash, fds, max-sessions, timeouts, throttle, rss, options. Each starts its own
rsexecd on 127.0.0.x (--port 0) and stops it by its pid; every wait is bounded.
"""

import hashlib
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, Control, RsexecdServer  # noqa: E402
from test_load import open_fds, rss_kib  # noqa: E402  (beside this file)

GIB = 1 << 30


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def cpu_seconds(pid):
    """User plus system CPU time of `pid` so far (/proc/PID/stat fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as maps:
        return "libasan" in maps.read()


def wait_for(predicate, limit, what):
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (limit, what))
        time.sleep(0.05)


def epsv_port(control):
    code, text = control.cmd("EPSV")
    check(code == 229, "EPSV: %d %s" % (code, text))
    return int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))


def pending(control):
    """True when nothing has arrived on the control connection (its reply is still to come)."""
    control.sock.setblocking(False)
    try:
        return not control.sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        control.sock.setblocking(True)


# ---- REST beyond the end of the file --------------------------------------------------------

def test_rest(binary):
    with RsexecdServer(binary, "127.0.0.31") as server:
        with open(server.path("f.txt"), "wb") as f:
            f.write(b"0123456789")
        with Control(server.address, server.port) as control:
            control.login()
            check(control.cmd("TYPE I")[0] == 200, "TYPE I")
            for verb, name, offset in (("STOR", "big.bin", 21474836480), ("STOR", "f.txt", 11),
                                       ("APPE", "f.txt", 100), ("APPE", "new.bin", 1)):
                port = epsv_port(control)
                code, text = control.cmd("REST %d" % offset)
                check(code == 350, "REST %d: %d %s" % (offset, code, text))
                control.send("%s %s" % (verb, name))
                # One byte, as the attack sends; a server that refuses never reads it.
                with socket.create_connection((server.address, port), timeout=10) as data:
                    try:
                        data.sendall(b"x")
                    except OSError:
                        pass
                code, text = control.reply()
                if code == 150:
                    control.reply()
                    path = server.path(name)
                    raise AssertionError("REST %d then %s %s accepted: %s is now %d bytes" %
                                         (offset, verb, name, name, os.path.getsize(path)))
                check(code == 554, "REST %d then %s %s: expected 554, got %d %s" % (offset, verb, name, code, text))
            check(not os.path.exists(server.path("big.bin")), "REST 21474836480 + STOR created big.bin")
            check(not os.path.exists(server.path("new.bin")), "REST 1 + APPE created new.bin")
            check(os.path.getsize(server.path("f.txt")) == 10, "a refused restart changed f.txt")
            # RETR beyond the end: 554 too; at the end exactly: an empty transfer.
            epsv_port(control)
            control.cmd("REST 11")
            code, text = control.cmd("RETR f.txt")
            check(code == 554, "REST 11 then RETR of 10 bytes: %d %s" % (code, text))
            # A restart inside the file still works (RFC 3659 5.5).
            port = epsv_port(control)
            check(control.cmd("REST 4")[0] == 350, "REST 4")
            control.send("STOR f.txt")
            with socket.create_connection((server.address, port), timeout=10) as data:
                code, text = control.reply()
                check(code == 150, "REST 4 then STOR: %d %s" % (code, text))
                data.sendall(b"abc")
            code, text = control.reply()
            check(code == 226, "STOR after REST 4: %d %s" % (code, text))
        with open(server.path("f.txt"), "rb") as f:
            content = f.read()
        check(content == b"0123abc", "REST 4 + STOR abc gave %r" % content)
    print("rest: 554 for STOR/APPE/RETR past the end, nothing created; a restart inside the file works")


# ---- hashing -------------------------------------------------------------------------------

def test_hash(binary):
    # A sparse file made on disk directly; hashing it reads zeros for minutes.
    with RsexecdServer(binary, "127.0.0.32", extra_args=["--max-hash-size", str(1 << 40)]) as server:
        for name, size in (("big.bin", 512 * GIB), ("huge.bin", (1 << 40) + 1)):
            with open(server.path(name), "wb") as f:
                f.truncate(size)
        with open(server.path("small.txt"), "wb") as f:
            f.write(b"small file\n")
        small_digest = hashlib.sha256(b"small file\n").hexdigest()
        pid = server.process.pid
        a = Control(server.address, server.port)
        a.login()
        a.send("HASH big.bin")
        wait_for(lambda: "> HASH big.bin" in server.log(), 10, "session A's HASH in the log")
        time.sleep(0.3)  # let the hashing start
        with Control(server.address, server.port, timeout=10) as b:
            b.login()
            started = time.monotonic()
            try:
                code, text = b.cmd("HASH small.txt")
            except socket.timeout:
                raise AssertionError("HASH small.txt not answered in 10 s while another session hashed a big file")
            took = time.monotonic() - started
            check(code == 213 and small_digest in text, "HASH small.txt: %d %s" % (code, text))
            check(took < 2.0, "HASH small.txt took %.1f s while another session hashed a big file" % took)
            check(pending(a), "session A's HASH of a 512 GiB file was already answered")
            # Over the cap: 4xx at once, nothing read.
            started = time.monotonic()
            code, text = b.cmd("HASH huge.bin")
            check(400 <= code < 500 and "max-hash-size" in text, "HASH over the cap: %d %s" % (code, text))
            check(time.monotonic() - started < 2.0, "the over-cap HASH was not answered at once")
            # ABOR stops a HASH in progress: 4xx for the HASH, 226 for ABOR.
            b.send("HASH big.bin")
            time.sleep(0.3)
            b.send("ABOR")
            b.sock.settimeout(5)
            first, second = b.reply(), b.reply()
            check(400 <= first[0] < 500, "HASH after ABOR: %r" % (first,))
            check(second[0] == 226, "ABOR of a HASH: %r" % (second,))
            check(b.cmd("NOOP")[0] == 200, "the session goes on after ABOR")
        # Session A leaves while hashing: the hashing stops.
        check(pending(a), "session A's HASH was answered")
        a.close()
        wait_for(lambda: len(re.findall(r"HASH /?big\.bin .*(?:cancelled|aborted)", server.log())) >= 2, 10,
                 "the log line of session A's cancelled HASH")
        time.sleep(0.3)
        before = cpu_seconds(pid)
        time.sleep(1.5)
        used = cpu_seconds(pid) - before
        check(used < 0.3, "rsexecd used %.2f s of CPU in 1.5 s after the hashing client left" % used)
    # The default cap refuses a sparse 1 TiB file at once.
    with RsexecdServer(binary, "127.0.0.32") as server:
        with open(server.path("huge.bin"), "wb") as f:
            f.truncate(1 << 40)
        with Control(server.address, server.port, timeout=5) as c:
            c.login()
            code, text = c.cmd("HASH huge.bin")
            check(400 <= code < 500, "HASH of 1 TiB with the default cap: %d %s" % (code, text))
    print("hash: another session's HASH answered at once while one hashed 512 GiB; ABOR and a disconnect stop it;"
          " over the cap 4xx")


# ---- file descriptors and --max-sessions ----------------------------------------------------

def start_with_fd_limit(server, limit):
    """Starts `server` with RLIMIT_NOFILE `limit` (inherited by the child only)."""
    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, saved[1]))
    try:
        server.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, saved)
    return server


def test_fds(binary):
    server = RsexecdServer(binary, "127.0.0.33", extra_args=["--max-per-ip", "1000"])
    start_with_fd_limit(server, 64)  # not `with server`: that would start a second one
    try:
        pid = server.process.pid
        clients = []
        for _ in range(150):
            clients.append(socket.create_connection((server.address, server.port), timeout=10))
        wait_for(lambda: open_fds(pid) >= 60, 10, "rsexecd to use its descriptors")
        time.sleep(0.5)
        log_before = os.path.getsize(server.log_path)
        cpu_before = cpu_seconds(pid)
        time.sleep(2.0)
        cpu = cpu_seconds(pid) - cpu_before
        logged = os.path.getsize(server.log_path) - log_before
        print("fds: %d connections, rsexecd at %d fds: %.2f s CPU and %d log bytes in 2 s" %
              (len(clients), open_fds(pid), cpu, logged))
        check(cpu < 0.4, "rsexecd used %.2f s of CPU in 2 s out of descriptors" % cpu)
        check(logged < 4096, "rsexecd logged %d bytes in 2 s out of descriptors" % logged)
        refused = 0
        for client in clients:
            client.settimeout(0.05)
            try:
                refused += client.recv(4096).startswith(b"421")
            except OSError:
                pass
        check(refused > 0, "no connection beyond the descriptors got 421")
        for client in clients:
            client.close()
        wait_for(lambda: open_fds(pid) < 20, 15, "rsexecd to close the sessions")

        def logs_in():
            try:
                with Control(server.address, server.port, timeout=5) as control:
                    control.login()
                    return control.cmd("NOOP")[0] == 200
            except (OSError, EOFError, AssertionError):
                return False
        wait_for(logs_in, 10, "a normal login after the flood")
        summary = [l for l in server.log().splitlines() if "repeated" in l]
        print("fds: %d refused with 421; %s" % (refused, summary[:1]))
    finally:
        server.__exit__(None, None, None)
    print("fds: low CPU and a small log out of descriptors; a login works afterwards")


def test_max_sessions(binary):
    with RsexecdServer(binary, "127.0.0.34", extra_args=["--max-sessions", "3"]) as server:
        held = [Control(server.address, server.port) for _ in range(3)]
        for control in held:
            check(control.greeting[0] == 220, "greeting %r" % (control.greeting,))
        extra = Control(server.address, server.port)
        check(extra.greeting[0] == 421 and "sessions" in extra.greeting[1],
              "the 4th connection with --max-sessions 3: %r" % (extra.greeting,))
        try:
            extra._line()
            check(False, "the refused connection stayed open")
        except (EOFError, ConnectionResetError):
            pass
        extra.close()
        held.pop().close()

        def admitted():
            control = Control(server.address, server.port)
            ok = control.greeting[0] == 220
            if ok:
                held.append(control)
            else:
                control.close()
            return ok
        wait_for(admitted, 10, "a connection admitted once one of the 3 left")
        for control in held:
            control.close()
    print("max-sessions: the 4th connection gets 421, a free slot is used again")


# ---- slow clients --------------------------------------------------------------------------

def closed_with_421_after(control, keep_sending, interval=0.4, limit=15.0):
    """Seconds from now until 421 and then the close, while `keep_sending()` is sent every `interval`.
    Reads the socket itself: a timed-out read spoils the fixture's buffered reader."""
    started = time.monotonic()
    sock = control.sock
    sock.settimeout(interval)
    received = b""
    got = None
    while time.monotonic() - started < limit:
        try:
            sock.sendall(keep_sending())
        except OSError:
            pass
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        received += chunk
        if re.search(rb"(^|\n)421 ", received):
            got = time.monotonic() - started
            break
    check(got is not None, "no 421 within %.0f s (received %r)" % (limit, received[-200:]))
    sock.settimeout(5)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("still open 5 s after 421")
    return got


def test_timeouts(binary):
    args = ["--login-timeout", "2", "--line-timeout", "2", "--idle-timeout", "60"]
    with RsexecdServer(binary, "127.0.0.35", extra_args=args) as server:
        # NOOPs before login do not extend the login time.
        with Control(server.address, server.port) as control:
            after = closed_with_421_after(control, lambda: b"NOOP\r\n")
            print("timeouts: pre-login NOOPs closed after %.1f s" % after)
            check(1.5 <= after <= 5.0, "pre-login NOOPs: 421 after %.1f s, not about 2" % after)
        # Nor does a slow login (USER, then PASS one byte at a time).
        with Control(server.address, server.port) as control:
            check(control.cmd("USER " + USER)[0] == 331, "USER")
            typed = iter(("PASS " + PASSWORD).encode())
            after = closed_with_421_after(control, lambda: bytes([next(typed, ord("x"))]))
            print("timeouts: a login typed slowly closed after %.1f s" % after)
            check(1.5 <= after <= 5.0, "slow login: 421 after %.1f s" % after)
        # After login, a line trickling in one byte at a time ends within the line timeout.
        with Control(server.address, server.port) as control:
            control.login()
            time.sleep(2.5)  # past the login timeout: that one no longer applies
            check(control.cmd("NOOP")[0] == 200, "a logged-in session outlives the login timeout")
            after = closed_with_421_after(control, lambda: b"N")
            print("timeouts: a trickled line closed after %.1f s" % after)
            check(1.5 <= after <= 5.0, "trickled line: 421 after %.1f s" % after)
        log = server.log()
        check("login timeout" in log and "line timeout" in log, "no timeout in the log:\n" + log[-2000:])
    print("timeouts: login and line bounds hold")


# ---- password guessing ---------------------------------------------------------------------

def test_throttle(binary):
    attack_seconds, max_guesses = 4.0, 12
    with RsexecdServer(binary, "127.0.0.36", extra_args=["--max-per-ip", "100"]) as server:
        stop = threading.Event()

        def guesser(index):
            attempt = 0
            while not stop.is_set():
                try:
                    with Control(server.address, server.port, timeout=10, source="127.0.0.37") as control:
                        while not stop.is_set():
                            attempt += 1
                            control.cmd("USER " + USER)
                            code, _ = control.cmd("PASS wrong-%d-%d" % (index, attempt))
                            if code != 530:
                                break
                except (OSError, EOFError):
                    pass

        threads = [threading.Thread(target=guesser, args=(i,), daemon=True) for i in range(40)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(attack_seconds - 1.5)
        # The right password from another address gets in while the guessing goes on.
        login_started = time.monotonic()
        with Control(server.address, server.port, timeout=10, source="127.0.0.38") as control:
            control.login()
        login_took = time.monotonic() - login_started
        wait_for(lambda: time.monotonic() - started >= attack_seconds, 10, "the attack window")
        guesses = server.log().count("failed login as ")
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        print("throttle: %d guesses checked in %.0f s from 40 connections; another address logged in in %.2f s" %
              (guesses, attack_seconds, login_took))
        check(guesses <= max_guesses, "%d guesses in %.0f s (at most %d)" % (guesses, attack_seconds, max_guesses))
        check(login_took < 3.0, "the right password from another address took %.1f s" % login_took)
        check("throttl" in server.log(), "the throttling is not in the log")
    print("throttle: guessing from one address is slowed; another address logs in")


# ---- memory per session --------------------------------------------------------------------

def test_rss(binary):
    rounds, per_round, threads_per_round = 2, 1000, 8
    with RsexecdServer(binary, "127.0.0.39", extra_args=["--login-delay", "0", "--max-per-ip", "1000"]) as server:
        pid = server.process.pid
        failures = []

        def worker(round_number, first, count):
            for i in range(first, first + count):
                # Each session from an address of its own: per-address tables must not keep them.
                source = "127.%d.%d.%d" % (100 + round_number, i // 250, 1 + i % 250)
                try:
                    with Control(server.address, server.port, timeout=10, source=source) as control:
                        if i % 2:
                            control.login()
                            control.cmd("PWD")
                        else:
                            control.cmd("USER nobody%d-%d" % (round_number, i))
                            control.cmd("PASS wrong")
                        control.cmd("QUIT")
                except (OSError, EOFError, AssertionError) as error:
                    failures.append(repr(error))

        levels = []
        for round_number in range(rounds):
            step = per_round // threads_per_round
            workers = [threading.Thread(target=worker, args=(round_number, k * step, step), daemon=True)
                       for k in range(threads_per_round)]
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join(timeout=120)
            check(not failures, "sessions failed: %s" % failures[:3])
            wait_for(lambda: open_fds(pid) < 20, 15, "the sessions to close")
            time.sleep(0.5)
            levels.append(rss_kib(pid))
            print("rss: after round %d (%d sessions): %d KiB" % (round_number + 1, per_round, levels[-1]))
        if sanitized(pid):
            print("rss: ASan build, resident size not compared (the quarantine keeps freed memory)")
            return
        check(levels[1] <= levels[0] + 512, "RSS grew from %d KiB to %d KiB in the second round" % tuple(levels))
    print("rss: nothing grows per session")


def test_options(binary):
    # A bad number must stop rsexecd (exit 2, naming the option), never start it with a nonsense
    # bound: 1e300 seconds overflowed the conversion to milliseconds (undefined behaviour).
    bad = [("--login-delay", "-1"), ("--login-delay", "1e300"), ("--login-delay", "nan"),
           ("--login-delay", "inf"), ("--idle-timeout", "-5"), ("--data-timeout", "1e300"),
           ("--login-timeout", "0"), ("--line-timeout", "-0.5"), ("--line-timeout", "abc"),
           ("--max-sessions", "0"), ("--max-sessions", "-1"), ("--max-per-ip", "0"), ("--max-line", "0"),
           ("--max-hash-size", "-1"), ("--port", "70000")]
    with tempfile.TemporaryDirectory() as root:
        for option, value in bad:
            try:
                run = subprocess.run([binary, "--root", root, "--bind", "127.0.0.1", "--port", "0", option, value],
                                     capture_output=True, text=True, timeout=10)
            except subprocess.TimeoutExpired:
                raise AssertionError("%s %s: rsexecd started instead of refusing the value" % (option, value))
            check(run.returncode == 2, "%s %s: exit %d, stderr %r" % (option, value, run.returncode, run.stderr))
            check(option in run.stderr, "%s %s: the message does not name the option: %r" % (option, value, run.stderr))
            check("listening on" not in run.stdout, "%s %s: rsexecd listened" % (option, value))
        print("options: %d bad values refused with exit 2, naming the option" % len(bad))
    # Values in range still start it.
    with RsexecdServer(binary, extra_args=["--login-delay", "0.5", "--idle-timeout", "3600"]) as server:
        with Control(server.address, server.port) as control:
            control.login()
    print("options: values in range are taken")


GROUPS = {"rest": test_rest, "hash": test_hash, "fds": test_fds, "max-sessions": test_max_sessions,
          "timeouts": test_timeouts, "throttle": test_throttle, "rss": test_rss,
          "options": test_options}


def main(argv):
    if len(argv) != 3 or argv[2] not in GROUPS:
        print(__doc__)
        return 2
    GROUPS[argv[2]](argv[1])
    print("ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except AssertionError as failure:
        print("FAILED: %s" % failure)
        sys.exit(1)
