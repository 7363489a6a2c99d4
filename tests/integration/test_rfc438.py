"""RFC 438 LSTN/SOCK between two rsexecd (docs/PROTOCOL.md), driven over raw control connections.

Run: /usr/bin/python3 test_rfc438.py path/to/rsexecd
"""
import os
import socket
import sys
import unittest

from rsexecd_fixture import Control, RsexecdServer, parse_sock, sock_argument

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")
FXP = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "3"]


class Rfc438Exchange(unittest.TestCase):
    def setUp(self):
        self.a = RsexecdServer(BINARY, "127.0.0.2", extra_args=FXP).start()
        self.addCleanup(self.a.__exit__)
        self.b = RsexecdServer(BINARY, "127.0.0.3", extra_args=FXP).start()
        self.addCleanup(self.b.__exit__)
        self.ctl_a = Control(self.a.address, self.a.port)
        self.addCleanup(self.ctl_a.close)
        self.ctl_b = Control(self.b.address, self.b.port)
        self.addCleanup(self.ctl_b.close)
        self.ctl_a.login()
        self.ctl_b.login()
        self.f = os.urandom(3 * 1024 * 1024 + 17)
        self.old_g = b"old contents of g\n"
        with open(self.a.path("f"), "wb") as out:
            out.write(self.f)
        with open(self.b.path("g"), "wb") as out:
            out.write(self.old_g)

    def pair(self, source_verb="RETR f", destination_verb="APPE g"):
        # Both transfer commands go out before either reply is read: a passive side may hold
        # its 150 until the data connection arrives.
        self.ctl_a.send(source_verb)
        self.ctl_b.send(destination_verb)
        a1, a1_text = self.ctl_a.reply()
        b1, b1_text = self.ctl_b.reply()
        self.assertEqual(a1, 150, a1_text)
        self.assertEqual(b1, 150, b1_text)
        a2, a2_text = self.ctl_a.reply()
        b2, b2_text = self.ctl_b.reply()
        self.assertEqual(a2, 226, a2_text)
        self.assertEqual(b2, 226, b2_text)

    def test_the_seed_exchange_appends_f_to_g(self):
        code, text = self.ctl_b.cmd("LSTN R")
        self.assertEqual(code, 255, text)
        x = parse_sock(text)
        self.assertEqual(x[0], "127.0.0.3")
        code, text = self.ctl_a.cmd("SOCK " + sock_argument(*x))
        self.assertEqual(code, 255, text)
        y = parse_sock(text)
        self.assertEqual(y[0], "127.0.0.2")
        code, text = self.ctl_b.cmd("SOCK " + sock_argument(*y))
        self.assertEqual(code, 200, text)
        self.pair()
        with open(self.b.path("g"), "rb") as g:
            self.assertEqual(g.read(), self.old_g + self.f)
        self.assertEqual(len(self.a.transfers("RETR")), 1)
        self.assertEqual(len(self.b.transfers("APPE")), 1)
        # The sessions go on: a second pair in the other direction, LSTN on the sender.
        code, text = self.ctl_a.cmd("LSTN S")
        self.assertEqual(code, 255, text)
        code, text = self.ctl_b.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 255, text)
        code, text = self.ctl_a.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 200, text)
        self.pair("RETR f", "STOR copy")
        with open(self.b.path("copy"), "rb") as copy:
            self.assertEqual(copy.read(), self.f)

    def test_a_stranger_on_the_listening_socket_is_dropped_and_the_transfer_succeeds(self):
        code, text = self.ctl_b.cmd("LSTN R")
        x = parse_sock(text)
        code, text = self.ctl_a.cmd("SOCK " + sock_argument(*x))
        y = parse_sock(text)
        code, text = self.ctl_b.cmd("SOCK " + sock_argument(*y))
        self.assertEqual(code, 200, text)
        stranger = socket.create_connection(x, timeout=10)
        self.addCleanup(stranger.close)
        self.pair()
        # B closed the stranger's connection at once: it reads end of file, not data.
        self.assertEqual(stranger.recv(1024), b"")
        with open(self.b.path("g"), "rb") as g:
            self.assertEqual(g.read(), self.old_g + self.f)
        self.assertIn("refused data connection from 127.0.0.1", self.b.log())

    def test_sock_port_zero_pins_only_the_host(self):
        code, text = self.ctl_b.cmd("LSTN")
        x = parse_sock(text)
        code, text = self.ctl_a.cmd("SOCK " + sock_argument(*x))
        self.assertEqual(code, 255, text)
        code, text = self.ctl_b.cmd("SOCK |1|127.0.0.2|0|")
        self.assertEqual(code, 200, text)
        self.assertIn("any port", text)
        self.pair("RETR f", "STOR h")
        with open(self.b.path("h"), "rb") as h:
            self.assertEqual(h.read(), self.f)

    def test_sock_naming_a_port_below_1024_is_refused(self):
        code, text = self.ctl_a.cmd("SOCK 127,0,0,3,0,21")
        self.assertEqual(code, 504, text)
        code, text = self.ctl_b.cmd("LSTN R")
        self.assertEqual(code, 255, text)
        code, text = self.ctl_b.cmd("SOCK 127,0,0,2,3,255")  # port 1023
        self.assertEqual(code, 504, text)
        code, text = self.ctl_a.cmd("SOCK not-an-address")
        self.assertEqual(code, 501, text)

    def test_the_listening_side_gives_up_with_425_when_nobody_comes(self):
        code, text = self.ctl_b.cmd("LSTN R")
        code, text = self.ctl_b.cmd("SOCK |1|127.0.0.2|40000|")
        self.assertEqual(code, 200, text)
        code, text = self.ctl_b.cmd("STOR never")
        self.assertEqual(code, 425, text)
        self.assertEqual(self.ctl_b.cmd("NOOP")[0], 200)

    def test_sock_without_fxp_peers_may_not_name_a_third_host(self):
        with RsexecdServer(BINARY, "127.0.0.4") as lone:
            with Control(lone.address, lone.port) as ctl:
                ctl.login()
                code, text = ctl.cmd("SOCK 127,0,0,3,195,80")
                self.assertEqual(code, 504, text)
                code, text = ctl.cmd("SOCK 127,0,0,1,195,80")
                self.assertEqual(code, 255, text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
