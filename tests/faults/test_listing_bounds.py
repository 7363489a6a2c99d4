#!/usr/bin/python3
"""Fault test: `rsexec mirror` from a source whose listing holds one entry with a 10 MB name.

    test_listing_bounds.py RSEXEC RSEXECD mlsd|list

The source is hostile_server.py's well-behaved server with MLSD (or LIST only) added, whose
listing of the tree holds two ordinary files around one entry whose name is 10 MB long; the
destination is a real rsexecd on 127.0.0.32. rsexec must skip the long entry with an error that
names the source server, mirror the two others, and stay small: its peak RSS (VmHWM, read from
/proc while it runs, and ru_maxrss after it ends) under 64 MiB (under AddressSanitizer: 64 MiB above what
`rsexec --version` starts with).
"""

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import hostile_server  # noqa: E402
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from test_hostile import RSS_LIMIT_KIB, sanitized, startup_rss_kib  # noqa: E402

RSEXEC, RSEXECD, FORMAT = sys.argv[1], sys.argv[2], sys.argv[3]
HOSTILE_HOST, DST_HOST = "127.0.0.31", "127.0.0.32"
LONG_NAME_BYTES = 10 * 1000 * 1000
PARTIAL = 11
FILES = {"first.bin": b"1" * 3000, "last.bin": b"2" * 5000}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class LongNameListing(hostile_server.Session):
    """Lists the root with one 10 MB name between two real files (served by RETR as usual)."""

    def cmd_FEAT(self, argument):
        if FORMAT == "mlsd":
            self.reply("211-Features:\r\n SIZE\r\n EPSV\r\n EPRT\r\n MLST type*;size*;modify*;\r\n211 End")
        else:
            self.reply("211-Features:\r\n SIZE\r\n EPSV\r\n EPRT\r\n211 End")

    def cmd_MLSD(self, argument):
        self.start_transfer(lambda data: self.send_listing(data, mlsd=True))

    def cmd_LIST(self, argument):
        self.start_transfer(lambda data: self.send_listing(data, mlsd=False))

    def send_listing(self, data, mlsd):
        def entry(name, size):
            if mlsd:
                return b"type=file;size=%d;modify=20260101000000; %s\r\n" % (size, name)
            return b"-rw-r--r--   1 ftp ftp %12d Jan 01 00:00 %s\r\n" % (size, name)
        data.sendall(entry(b"first.bin", len(FILES["first.bin"])))
        head = entry(b"", 1)[:-2]
        data.sendall(head)
        chunk = b"N" * 65536
        for _ in range(LONG_NAME_BYTES // len(chunk)):  # sent in pieces: the server itself stays small
            data.sendall(chunk)
        data.sendall(b"\r\n")
        data.sendall(entry(b"last.bin", len(FILES["last.bin"])))


def start_hostile(root):
    options = type("Options", (), {"host": HOSTILE_HOST, "script": "well-behaved", "root": root, "log": None,
                                   "announce_host": "127.0.0.99", "data_timeout": 30.0})()
    hostile_server.SESSIONS["well-behaved"] = LongNameListing
    server = hostile_server.Server(options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def peak_rss_kib(process, peak):
    """Polls VmHWM of the running rsexec until it exits."""
    while process.poll() is None:
        try:
            with open("/proc/%d/status" % process.pid) as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)


def main():
    limit = startup_rss_kib(RSEXEC) + RSS_LIMIT_KIB if sanitized(RSEXEC) else RSS_LIMIT_KIB
    with tempfile.TemporaryDirectory(prefix="rsexec-listing-") as tmp:
        root = os.path.join(tmp, "src")
        os.makedirs(root)
        for name, body in FILES.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(body)
        server, thread = start_hostile(root)
        try:
            with RsexecdServer(RSEXECD, DST_HOST, extra_args=["--fxp-peers", "127.0.0.0/8"]) as dst:
                source = "ftp://%s:%d/" % (HOSTILE_HOST, server.server_address[1])
                destination = "ftp://%s:%s@%s:%d/copy/" % (USER, PASSWORD, DST_HOST, dst.port)
                process = subprocess.Popen([RSEXEC, "mirror", "--timeout", "10", "--json", source, destination],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                peak = [0]
                watcher = threading.Thread(target=peak_rss_kib, args=(process, peak))
                watcher.start()
                try:
                    out, err = process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.communicate()
                    raise AssertionError("rsexec mirror did not finish in 60 s")
                watcher.join()
                # Only rsexec has been waited for by this process (rsexecd is still running).
                peak[0] = max(peak[0], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                err = err.decode(errors="replace")
                context = "exit %d, peak RSS %d KiB, stderr: %s" % (process.returncode, peak[0], err[-1500:])
                check(peak[0] < limit, "rsexec used too much memory for a 10 MB name: " + context)
                for name, body in FILES.items():
                    path = dst.path("copy", name)
                    check(os.path.exists(path) and open(path, "rb").read() == body, "%s not mirrored: %s" % (name, context))
                names = os.listdir(dst.path("copy"))
                check(sorted(names) == sorted(FILES), "unexpected files at the destination: %s" % [n[:40] for n in names])
                message = [l for l in err.splitlines() if "skipped" in l]
                check(message and ("%s:%d" % (HOSTILE_HOST, server.server_address[1])) in message[0]
                      and "4096" in message[0].replace(",", ""),
                      "no error naming the server and the bound: " + context)
                check(process.returncode == PARTIAL, "a mirror that skipped an entry must say so: " + context)
                print("ok: %s: the 10 MB name skipped (%s), the others mirrored; peak RSS %.1f MiB"
                      % (FORMAT, message[0], peak[0] / 1024))
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
