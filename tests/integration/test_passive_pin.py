"""SOCK after PASV or EPSV pins the data peer, as RFC 438 rule 2 does after LSTN (docs/PROTOCOL.md).

With --fxp-peers every listed host may connect to a passive data socket; without a pin the first
connection wins, so a third listed host can take the data. rsexecd listens on 127.0.0.2 with
--fxp-peers 127.0.0.0/8; the pinned peer connects from 127.0.0.5 and a thief from 127.0.0.6
(client sockets bound to those addresses), the thief first.

Run: /usr/bin/python3 test_passive_pin.py path/to/rsexecd
"""
import os
import re
import socket
import sys
import unittest

from rsexecd_fixture import Control, RsexecdServer

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")
FXP = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "5"]
SERVER = "127.0.0.2"
PEER = "127.0.0.5"
THIEF = "127.0.0.6"
CONTENT = b"only for the pinned peer\n" * 1000


def passive_port(verb, text):
    if verb == "EPSV":
        match = re.search(r"\(\|\|\|(\d+)\|\)", text)
        if not match:
            raise AssertionError("no port in the EPSV reply: %r" % text)
        return int(match.group(1))
    match = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", text)
    if not match:
        raise AssertionError("no address in the PASV reply: %r" % text)
    return int(match.group(5)) * 256 + int(match.group(6))


def read_all(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


class PassivePin(unittest.TestCase):
    def setUp(self):
        self.server = RsexecdServer(BINARY, SERVER, extra_args=FXP).start()
        self.addCleanup(self.server.__exit__)
        with open(self.server.path("f"), "wb") as f:
            f.write(CONTENT)
        self.ctl = Control(self.server.address, self.server.port)
        self.addCleanup(self.ctl.close)
        self.ctl.login()

    def connect_from(self, source, port):
        sock = socket.create_connection((SERVER, port), timeout=10, source_address=(source, 0))
        self.addCleanup(sock.close)
        return sock

    def pinned_retr(self, verb, pin):
        code, text = self.ctl.cmd(verb)
        if code not in (227, 229):
            raise AssertionError("%s: %d %s" % (verb, code, text))
        port = passive_port(verb, text)
        code, text = self.ctl.cmd("SOCK " + pin)
        if code != 200:
            raise AssertionError("SOCK after %s was not taken as a pin: %d %s" % (verb, code, text))
        # The thief is in the accept queue first: without the pin it would get the file.
        thief = self.connect_from(THIEF, port)
        peer = self.connect_from(PEER, port)
        code, text = self.ctl.cmd("RETR f")
        if code != 150:
            raise AssertionError("RETR: %d %s" % (code, text))
        data = read_all(peer)
        code, text = self.ctl.reply()
        if code != 226:
            raise AssertionError("RETR end: %d %s" % (code, text))
        if data != CONTENT:
            raise AssertionError("the pinned peer got %d bytes, not the file's %d" % (len(data), len(CONTENT)))
        stolen = read_all(thief)
        if stolen != b"":
            raise AssertionError("a listed host that was not pinned got %d bytes" % len(stolen))
        if "refused data connection from %s" % THIEF not in self.server.log():
            raise AssertionError("the refused connection is not in the log:\n" + self.server.log())

    def test_sock_after_pasv_admits_only_the_pinned_host(self):
        self.pinned_retr("PASV", ",".join(PEER.split(".") + ["0", "0"]))

    def test_sock_after_epsv_admits_only_the_pinned_host_in_the_eprt_form(self):
        self.pinned_retr("EPSV", "|1|%s|0|" % PEER)

    def test_after_epsv_all_the_pin_is_still_allowed(self):
        code, text = self.ctl.cmd("EPSV ALL")
        if code != 200:
            raise AssertionError("EPSV ALL: %d %s" % (code, text))
        self.pinned_retr("EPSV", "|1|%s|0|" % PEER)
        code, text = self.ctl.cmd("SOCK |1|%s|0|" % PEER)  # no EPSV before it: not a pin
        if code != 503:
            raise AssertionError("SOCK alone after EPSV ALL: %d %s" % (code, text))

    def test_a_pin_with_a_port_admits_only_that_port(self):
        probe = socket.socket()
        probe.bind((PEER, 0))
        peer_port = probe.getsockname()[1]
        code, text = self.ctl.cmd("EPSV")
        port = passive_port("EPSV", text)
        code, text = self.ctl.cmd("SOCK |1|%s|%d|" % (PEER, peer_port))
        if code != 200 or ("%s:%d" % (PEER, peer_port)) not in text:
            raise AssertionError("SOCK with a port: %d %s" % (code, text))
        other_port = self.connect_from(PEER, port)  # right host, wrong port
        probe.connect((SERVER, port))
        self.addCleanup(probe.close)
        code, text = self.ctl.cmd("RETR f")
        if code != 150:
            raise AssertionError("RETR: %d %s" % (code, text))
        data = read_all(probe)
        if self.ctl.reply()[0] != 226 or data != CONTENT:
            raise AssertionError("the pinned socket did not get the file")
        if read_all(other_port) != b"":
            raise AssertionError("another port of the pinned host got data")

    def test_a_pin_naming_a_host_outside_fxp_peers_is_refused(self):
        with RsexecdServer(BINARY, "127.0.0.3") as lone:
            with Control(lone.address, lone.port) as ctl:
                ctl.login()
                code, text = ctl.cmd("PASV")
                if code != 227:
                    raise AssertionError("PASV: %d %s" % (code, text))
                code, text = ctl.cmd("SOCK 127,0,0,5,0,0")
                if code != 504:
                    raise AssertionError("a pin on a host --fxp-peers does not list: %d %s" % (code, text))
                # The client's own host may still be pinned.
                code, text = ctl.cmd("SOCK 127,0,0,1,0,0")
                if code != 200:
                    raise AssertionError("a pin on the client's own host: %d %s" % (code, text))

    def test_without_a_pin_any_listed_host_may_connect(self):
        # What --fxp-peers alone allows (documented): the first listed host to connect wins.
        code, text = self.ctl.cmd("EPSV")
        port = passive_port("EPSV", text)
        first = self.connect_from(THIEF, port)
        code, text = self.ctl.cmd("RETR f")
        if code != 150:
            raise AssertionError("RETR: %d %s" % (code, text))
        if read_all(first) != CONTENT or self.ctl.reply()[0] != 226:
            raise AssertionError("an unpinned passive socket did not serve the first listed host")


if __name__ == "__main__":
    unittest.main(verbosity=2)
