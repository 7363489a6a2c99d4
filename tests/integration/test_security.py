"""rsexecd's defences (RFC 2577, vsftpd's defaults as the bar): the jail, the login rules,
bounded command lines, data-peer policy, limits and timeouts.

Run: /usr/bin/python3 test_security.py path/to/rsexecd
"""
import os
import socket
import sys
import time
import unittest

from rsexecd_fixture import Control, RsexecdServer, sock_argument

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")


class Jail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = RsexecdServer(BINARY, "127.0.0.1", extra_args=["--login-delay", "0.3"]).start()
        outside = os.path.join(os.path.dirname(cls.server.root), "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "secret.txt"), "w") as f:
            f.write("secret\n")
        os.symlink(outside, cls.server.path("escape"))
        os.symlink(os.path.join(outside, "secret.txt"), cls.server.path("secret-link"))
        os.makedirs(cls.server.path("etc"))
        with open(cls.server.path("etc", "passwd"), "w") as f:
            f.write("inside\n")

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def setUp(self):
        self.ctl = Control(self.server.address, self.server.port)
        self.addCleanup(self.ctl.close)

    def test_commands_before_login_get_530_and_harmless_ones_work(self):
        for command in ("RETR x", "LIST", "PASV", "CWD /", "HASH x", "LSTN", "STAT"):
            code, text = self.ctl.cmd(command)
            self.assertEqual(code, 530, command + ": " + text)
        for command, expected in (("SYST", 215), ("NOOP", 200), ("FEAT", 211), ("OPTS UTF8 ON", 200)):
            self.assertEqual(self.ctl.cmd(command)[0], expected, command)
        self.assertEqual(self.ctl.cmd("PASS nobody")[0], 503)

    def test_unknown_commands_get_502_and_bad_arguments_501(self):
        self.ctl.login()
        self.assertEqual(self.ctl.cmd("XYZZY")[0], 502)
        self.assertEqual(self.ctl.cmd("SITE EXEC /bin/sh")[0], 502)
        self.assertEqual(self.ctl.cmd("RETR")[0], 501)
        self.assertEqual(self.ctl.cmd("PORT 1,2,3")[0], 501)
        self.assertEqual(self.ctl.cmd("TYPE X")[0], 504)
        self.assertEqual(self.ctl.cmd("MODE C")[0], 504)

    def test_dot_dot_absolute_paths_and_outside_symlinks_stay_in_the_root(self):
        self.ctl.login()
        for command in ("CWD ..", "CWD ../..", "SIZE ../outside/secret.txt", "CWD /escape", "SIZE escape/secret.txt",
                        "SIZE secret-link", "HASH secret-link", "MLST /escape", "CDUP", "MKD escape/new",
                        "DELE escape/secret.txt", "RNFR ../outside/secret.txt"):
            code, text = self.ctl.cmd(command)
            self.assertEqual(code, 550, command + ": " + text)
        self.assertEqual(self.ctl.cmd("PWD")[1], '257 "/" is the current directory')
        # An absolute path starts at the root: /etc/passwd is root/etc/passwd.
        self.assertEqual(self.ctl.cmd("SIZE /etc/passwd"), (213, "213 7"))
        self.assertEqual(self.ctl.cmd("CWD /etc/../etc")[0], 250)
        self.assertEqual(self.ctl.cmd("SIZE ../../../etc/passwd")[0], 550)
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(self.server.root), "outside", "secret.txt")))

    def test_a_100_KiB_command_line_gets_500_and_the_session_goes_on(self):
        self.ctl.login()
        self.ctl.send(b"NOOP " + b"A" * (100 * 1024) + b"\r\n")
        code, text = self.ctl.reply()
        self.assertEqual(code, 500, text)
        self.assertEqual(self.ctl.cmd("NOOP")[0], 200)
        with Control(self.server.address, self.server.port) as other:
            other.login()
            self.assertEqual(other.cmd("PWD")[0], 257)

    def test_failed_logins_are_delayed_and_end_the_session_after_three(self):
        started = time.monotonic()
        self.assertEqual(self.ctl.cmd("USER tester")[0], 331)
        self.assertEqual(self.ctl.cmd("PASS wrong")[0], 530)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(self.ctl.cmd("USER nobody")[0], 331)
        self.assertEqual(self.ctl.cmd("PASS wrong")[0], 530)
        self.assertEqual(self.ctl.cmd("USER anonymous")[0], 331)  # anonymous is off here
        self.assertEqual(self.ctl.cmd("PASS a@b")[0], 421)
        with self.assertRaises((EOFError, ConnectionError)):
            self.ctl.cmd("NOOP")


class DataPeerPolicy(unittest.TestCase):
    """Servers on 127.0.0.2; the client on 127.0.0.1 names a third address, 127.0.0.3."""

    def try_port_to_third_host(self, extra_args):
        listener = socket.create_server(("127.0.0.3", 0))
        self.addCleanup(listener.close)
        listener.settimeout(10)
        port = listener.getsockname()[1]
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=extra_args) as server:
            with open(server.path("f"), "wb") as f:
                f.write(b"to a third party\n")
            with Control(server.address, server.port) as ctl:
                ctl.login()
                code, text = ctl.cmd("PORT " + sock_argument("127.0.0.3", port))
                if code != 200:
                    eprt = ctl.cmd("EPRT |1|127.0.0.3|%d|" % port)
                    self.assertEqual(eprt[0], code, eprt[1])
                    return code, None
                ctl.send("RETR f")
                conn, peer = listener.accept()
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                conn.close()
                self.assertEqual(ctl.reply()[0], 150)
                self.assertEqual(ctl.reply()[0], 226)
                self.assertEqual(peer[0], "127.0.0.2")  # from the control connection's address
                return code, data

    def test_port_to_a_third_host_is_refused_without_fxp_peers(self):
        code, _ = self.try_port_to_third_host([])
        self.assertEqual(code, 504)

    def test_port_to_a_third_host_is_accepted_with_fxp_peers(self):
        code, data = self.try_port_to_third_host(["--fxp-peers", "127.0.0.0/8"])
        self.assertEqual(code, 200)
        self.assertEqual(data, b"to a third party\n")

    def test_port_below_1024_is_refused_even_with_fxp_peers_any(self):
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=["--fxp-peers", "any"]) as server:
            with Control(server.address, server.port) as ctl:
                ctl.login()
                self.assertEqual(ctl.cmd("PORT 127,0,0,1,0,21")[0], 504)
                self.assertEqual(ctl.cmd("EPRT |1|127.0.0.1|1023|")[0], 504)

    def test_a_stranger_cannot_steal_the_passive_port(self):
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=["--data-timeout", "5"]) as server:
            with open(server.path("f"), "wb") as f:
                f.write(b"only for the client\n")
            with Control(server.address, server.port) as ctl:
                ctl.login()
                code, text = ctl.cmd("EPSV")
                self.assertEqual(code, 229, text)
                port = int(text.split("|||")[1].split("|")[0])
                thief = socket.create_connection(("127.0.0.2", port), timeout=10, source_address=("127.0.0.4", 0))
                self.addCleanup(thief.close)
                data_conn = socket.create_connection(("127.0.0.2", port), timeout=10)
                ctl.send("RETR f")
                self.assertEqual(ctl.reply()[0], 150)
                data = b""
                while chunk := data_conn.recv(65536):
                    data += chunk
                data_conn.close()
                self.assertEqual(ctl.reply()[0], 226)
                self.assertEqual(data, b"only for the client\n")
                self.assertEqual(thief.recv(100), b"")
            self.assertIn("refused data connection from 127.0.0.4", server.log())


class Limits(unittest.TestCase):
    def test_connections_beyond_max_per_ip_get_421(self):
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=["--max-per-ip", "2"]) as server:
            first = Control(server.address, server.port)
            second = Control(server.address, server.port)
            self.addCleanup(first.close)
            self.addCleanup(second.close)
            third = socket.create_connection((server.address, server.port), timeout=10)
            self.addCleanup(third.close)
            self.assertTrue(third.recv(100).startswith(b"421"))
            first.cmd("QUIT")
            first.close()
            deadline = time.monotonic() + 5
            while True:  # the slot is freed once the server has seen the QUIT through
                with Control(server.address, server.port) as again:
                    if again.greeting[0] == 220 or time.monotonic() > deadline:
                        self.assertEqual(again.greeting[0], 220)
                        break
                time.sleep(0.05)

    def test_an_idle_control_connection_is_closed_with_421(self):
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=["--idle-timeout", "0.5"]) as server:
            started = time.monotonic()
            with Control(server.address, server.port) as ctl:
                code, text = ctl.reply()
                elapsed = time.monotonic() - started
                self.assertEqual(code, 421, text)
                # Not before the idle timeout (the clock starts at the greeting, after connect).
                self.assertGreaterEqual(elapsed, 0.5 - 0.05)
                self.assertLess(elapsed, 5)

    def test_a_failed_pass_waits_the_default_second(self):
        # SECURITY.md: 1 s delay after each failed PASS, --login-delay's default.
        with RsexecdServer(BINARY, "127.0.0.2") as server:
            with Control(server.address, server.port) as ctl:
                self.assertEqual(ctl.cmd("USER %s" % server.credentials[0])[0], 331)
                started = time.monotonic()
                self.assertEqual(ctl.cmd("PASS wrong")[0], 530)
                elapsed = time.monotonic() - started
                self.assertGreaterEqual(elapsed, 1.0 - 0.05)
                self.assertLess(elapsed, 3.0)
                self.assertEqual(ctl.cmd("USER %s" % server.credentials[0])[0], 331)
                started = time.monotonic()
                self.assertEqual(ctl.cmd("PASS %s" % server.credentials[1])[0], 230)
                self.assertLess(time.monotonic() - started, 0.5, "a good password was delayed too")
        # Its lower bound: --login-delay 0 answers at once.
        with RsexecdServer(BINARY, "127.0.0.2", extra_args=["--login-delay", "0"]) as server:
            with Control(server.address, server.port) as ctl:
                self.assertEqual(ctl.cmd("USER %s" % server.credentials[0])[0], 331)
                started = time.monotonic()
                self.assertEqual(ctl.cmd("PASS wrong")[0], 530)
                self.assertLess(time.monotonic() - started, 0.5)

    def test_replies_queued_for_a_client_that_never_reads_are_capped_and_the_session_closed(self):
        # SECURITY.md: replies queued for a client that never reads are capped (1 MiB, then close).
        with RsexecdServer(BINARY, "127.0.0.2") as server:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(sock.close)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(10)
            sock.connect((server.address, server.port))
            user, password = server.credentials
            sock.sendall(("USER %s\r\nPASS %s\r\n" % (user, password)).encode())
            batch = b"FEAT\r\n" * 2000
            closed = False
            deadline = time.monotonic() + 30
            # Send FEATs (about 200 bytes of reply each) and never read, until the server hangs up.
            while not closed and time.monotonic() < deadline:
                try:
                    sock.sendall(batch)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                except socket.timeout:
                    break  # the server stopped reading without closing: checked below
                if "does not read its replies; closing" in server.log():
                    closed = True
            self.assertTrue(closed, "the server neither closed nor said so within 30 s")
            deadline = time.monotonic() + 5
            while "does not read its replies; closing" not in server.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("does not read its replies; closing", server.log())
            # What the client can still read is bounded: the cap plus what the kernel buffered.
            received = 0
            sock.settimeout(10)
            try:
                while True:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        break
                    received += len(chunk)
            except ConnectionResetError:
                pass
            self.assertLess(received, 1024 * 1024 + 8 * 1024 * 1024)


if __name__ == "__main__":
    unittest.main(verbosity=2)
