#!/usr/bin/python3
"""rsexecd under a bounded load: 200 concurrent sessions storing and retrieving small files, and
one client sending garbage all the while.

    test_load.py RSEXECD

Checks that every session is served (the garbage does not starve the others), that the server
stays up, and that once every session is closed its open file descriptors (/proc/PID/fd) return
to their starting count and its resident memory to about its starting size. Two rounds: a leak
would show as growth from one to the next. Bounded: each
session has a 20 s socket timeout and the whole test a 120 s budget (CTest's TIMEOUT).
"""

import ftplib
import io
import os
import random
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


SESSIONS = 200
FILE_SIZE = 16 * 1024
# "About the starting level": rsexecd hands freed heap back once idle; this much may stay.
RSS_SLACK_KIB = 4 * 1024


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def settle(pid, baseline, limit=15.0):
    """Polls the fd count until it is back to `baseline` (sessions close asynchronously)."""
    deadline = time.monotonic() + limit
    while True:
        count = open_fds(pid)
        if count <= baseline or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def sanitized(pid):
    """AddressSanitizer keeps freed memory in quarantine by design: RSS says nothing there."""
    with open("/proc/%d/maps" % pid) as maps:
        return "libasan" in maps.read()


def settle_rss(pid, level, limit=5.0):
    """Polls RSS until it is at most `level` (rsexecd trims its heap once the last session ends)."""
    deadline = time.monotonic() + limit
    while True:
        rss = rss_kib(pid)
        if rss <= level or time.monotonic() > deadline:
            return rss
        time.sleep(0.1)


def session(server, index, all_connected, failures):
    payload = (b"%06d" % index) * (FILE_SIZE // 6)
    try:
        ftp = ftplib.FTP()
        ftp.connect(server.address, server.port, timeout=20)
        ftp.login(USER, PASSWORD)
        # Every session open at the same time before any leaves: 200 concurrent, not 200 in turn.
        all_connected.wait(timeout=30)
        name = "f%03d.bin" % index
        ftp.storbinary("STOR " + name, io.BytesIO(payload))
        back = io.BytesIO()
        ftp.retrbinary("RETR " + name, back.write)
        if back.getvalue() != payload:
            failures.append("%d: RETR returned other bytes" % index)
        ftp.quit()
    except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
        failures.append("%d: %r" % (index, error))


def garbage(server, stop, sent):
    """Random bytes, over-long lines, telnet IAC sequences and bare CRs, reconnecting when dropped."""
    noise = random.Random(7)
    while not stop.is_set():
        try:
            with socket.create_connection((server.address, server.port), timeout=5) as sock:
                sock.recv(4096)
                while not stop.is_set():
                    kind = noise.randrange(4)
                    if kind == 0:
                        chunk = bytes(noise.randrange(256) for _ in range(512))
                    elif kind == 1:
                        chunk = b"A" * 70000  # no line end: past --max-line
                    elif kind == 2:
                        chunk = b"\xff\xf4\xff\xfd\x06\xff" * 50 + b"\r\n"
                    else:
                        chunk = b"RETR \x00\r\rPASS\r\n" * 20
                    sock.sendall(chunk)
                    sent[0] += len(chunk)
        except OSError:
            time.sleep(0.05)


def load_round(server, pid):
    """SESSIONS concurrent sessions beside the garbage client; (seconds, peak fds, garbage bytes)."""
    stop, sent = threading.Event(), [0]
    noise = threading.Thread(target=garbage, args=(server, stop, sent), daemon=True)
    noise.start()
    failures = []
    all_connected = threading.Barrier(SESSIONS)
    threads = [threading.Thread(target=session, args=(server, i, all_connected, failures), daemon=True)
               for i in range(SESSIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    peak_fds = 0
    while any(t.is_alive() for t in threads) and time.monotonic() - started < 60:
        peak_fds = max(peak_fds, open_fds(pid))
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    for thread in threads:
        thread.join(timeout=1)
    stop.set()
    noise.join(timeout=10)
    check(server.process.poll() is None, "rsexecd died under load:\n" + server.log()[-2000:])
    check(not failures, "%d of %d sessions failed: %s" % (len(failures), SESSIONS, failures[:5]))
    check(peak_fds >= SESSIONS, "only %d fds at the peak: the sessions did not overlap" % peak_fds)
    check(sent[0] > 0, "the garbage client sent nothing")
    return elapsed, peak_fds, sent[0]


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    with RsexecdServer(argv[1], "127.0.0.5", extra_args=["--max-per-ip", str(SESSIONS + 50)]) as server:
        pid = server.process.pid
        fds_start, rss_start = open_fds(pid), rss_kib(pid)
        for round_number in (1, 2):
            rss_before = rss_kib(pid)
            elapsed, peak_fds, garbage_bytes = load_round(server, pid)
            peak_rss = rss_kib(pid)
            fds_after = settle(pid, fds_start)
            rss_after = settle_rss(pid, rss_start + RSS_SLACK_KIB)
            print("round %d: %d sessions in %.1f s beside %d bytes of garbage; fds %d -> peak %d -> %d; "
                  "RSS %d KiB -> %d KiB -> %d KiB" % (round_number, SESSIONS, elapsed, garbage_bytes, fds_start,
                                                      peak_fds, fds_after, rss_before, peak_rss, rss_after))
            check(fds_after <= fds_start, "fds did not return: %d at the start, %d after" % (fds_start, fds_after))
            check(sanitized(pid) or rss_after <= rss_start + RSS_SLACK_KIB, "RSS grew from %d KiB at the start to %d KiB after round %d" % (rss_start, rss_after, round_number))
        if sanitized(pid):
            print("(ASan build: RSS not checked)")
        # And it still serves.
        with ftplib.FTP() as last:
            last.connect(server.address, server.port, timeout=10)
            last.login(USER, PASSWORD)
            check(last.size("f000.bin") == FILE_SIZE // 6 * 6, 'failed: last.size("f000.bin") == FILE_SIZE // 6 * 6')
            last.quit()
        server.stop()
        reports = [l for l in server.log().splitlines() if "Sanitizer" in l]
        check(not reports, "sanitizer reports: %s" % reports[:5])
    print("ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except AssertionError as failure:
        print("FAILED: %s" % failure)
        sys.exit(1)
