"""Graceful stop: SIGTERM or SIGINT ends rsexecd promptly with status 0, sessions or not.

Run: /usr/bin/python3 test_stop.py path/to/rsexecd
"""
import os
import signal
import sys
import time
import unittest

from rsexecd_fixture import Control, RsexecdServer

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")


class GracefulStop(unittest.TestCase):
    def test_sigterm_with_no_sessions_exits_0(self):
        with RsexecdServer(BINARY, "127.0.0.1") as server:
            started = time.monotonic()
            self.assertEqual(server.stop(timeout=5), 0)
            self.assertLess(time.monotonic() - started, 2)

    def test_sigterm_with_open_sessions_and_a_pending_transfer_exits_0(self):
        with RsexecdServer(BINARY, "127.0.0.1") as server:
            with open(server.path("f"), "wb") as f:
                f.write(b"x" * 1000)
            busy = Control(server.address, server.port)
            self.addCleanup(busy.close)
            busy.login()
            self.assertEqual(busy.cmd("PASV")[0], 227)
            busy.send("RETR f")  # waits for a data connection that never comes
            idle = Control(server.address, server.port)
            self.addCleanup(idle.close)
            # The RETR has reached the server (it logs each command) before the stop, not a
            # fixed sleep's worth of hope.
            deadline = time.monotonic() + 10
            while "> RETR f" not in server.log() and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertIn("> RETR f", server.log())
            started = time.monotonic()
            self.assertEqual(server.stop(timeout=5), 0)
            self.assertLess(time.monotonic() - started, 2)
            with self.assertRaises((EOFError, ConnectionError)):
                while True:
                    idle.reply()

    def test_sigint_exits_0(self):
        server = RsexecdServer(BINARY, "127.0.0.1").start()
        self.addCleanup(server.__exit__)
        server.process.send_signal(signal.SIGINT)
        self.assertEqual(server.process.wait(timeout=5), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
