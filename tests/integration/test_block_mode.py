"""RFC 959 block mode with a data connection kept across files (docs/PROTOCOL.md), against
rsexecd over raw control and data connections, and between two rsexecd as a server-to-server pair.

Run: /usr/bin/python3 test_block_mode.py path/to/rsexecd
"""
import os
import re
import select
import socket
import sys
import unittest

from rsexecd_fixture import Control, RsexecdServer, parse_sock, sock_argument

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")
FXP = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "3"]
SOURCE_ADDRESS = "127.0.0.71"
DESTINATION_ADDRESS = "127.0.0.72"
REUSED = "125 Data connection already open; transfer starting."

EOR, EOF, SUSPECT, RESTART = 0x80, 0x40, 0x20, 0x10


def header(descriptor, count):
    return bytes([descriptor, count >> 8, count & 0xFF])


def frame(data, eof_on_last=False):
    """`data` as RFC 959 3.4.2 blocks of at most 65535 bytes, then the EOF block."""
    blocks = [data[i:i + 65535] for i in range(0, len(data), 65535)]
    out = bytearray()
    for n, block in enumerate(blocks):
        last = eof_on_last and n == len(blocks) - 1
        out += header(EOF if last else 0, len(block)) + block
    if not (eof_on_last and blocks):
        out += header(EOF, 0)
    return bytes(out)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("data connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def read_file_blocks(sock):
    """(file data, [(descriptor, count), ...]) of one file, up to and including its EOF block;
    never reads past it."""
    data = bytearray()
    blocks = []
    while True:
        descriptor, high, low = recv_exact(sock, 3)
        count = high << 8 | low
        payload = recv_exact(sock, count)
        blocks.append((descriptor, count))
        if not descriptor & RESTART:
            data += payload
        if descriptor & EOF:
            return bytes(data), blocks


def closed_by_peer(sock, timeout=5.0):
    """True when `sock` reads end of file (or a reset) within `timeout`; False when it stays open."""
    ready, _, _ = select.select([sock], [], [], timeout)
    if not ready:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except ConnectionError:
        return True


def drained_to_close(sock, timeout=10.0):
    """True when `sock` reaches end of file (or a reset) within `timeout`, whatever it sends first."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 20):
            pass
    except socket.timeout:
        return False
    except ConnectionError:
        pass
    return True


def still_open(sock, wait=0.3):
    ready, _, _ = select.select([sock], [], [], wait)
    return not ready


def parse_pasv(text):
    n = [int(x) for x in re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", text).groups()]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


class ClientSide(unittest.TestCase):
    """A client in block mode against one rsexecd."""

    def setUp(self):
        self.server = RsexecdServer(BINARY, SOURCE_ADDRESS, extra_args=FXP).start()
        self.addCleanup(self.server.__exit__)
        self.ctl = Control(self.server.address, self.server.port)
        self.addCleanup(self.ctl.close)
        self.ctl.login()
        self.file1 = os.urandom(3 * 65535 + 1000)
        self.file2 = b"second file\n"
        for name, data in (("file1", self.file1), ("file2", self.file2)):
            with open(self.server.path(name), "wb") as out:
                out.write(data)

    def passive_data(self):
        code, text = self.ctl.cmd("PASV")
        self.assertEqual(code, 227, text)
        data = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(data.close)
        return data, parse_pasv(text)

    def expect(self, code, command=None):
        got, text = self.ctl.cmd(command) if command else self.ctl.reply()
        self.assertEqual(got, code, text)
        return text

    def read_stored(self, name):
        with open(self.server.path(name), "rb") as f:
            return f.read()

    def test_feat_lists_mode_b_and_mode_switches_are_answered(self):
        code, text = self.ctl.cmd("FEAT")
        self.assertEqual(code, 211, text)
        self.assertIn(" MODE B", text.split("\n"))
        self.expect(200, "MODE B")
        self.assertIn("MODE: Block", self.expect(211, "STAT"))
        self.expect(504, "MODE C")
        self.expect(200, "MODE S")
        self.assertIn("MODE: Stream", self.expect(211, "STAT"))

    def test_files_and_a_listing_go_back_and_forth_over_one_kept_connection(self):
        data, where = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR file1")
        got, blocks = read_file_blocks(data)
        self.assertEqual(got, self.file1)
        self.assertEqual(blocks[-1], (EOF, 0))
        self.assertTrue(all(d == 0 and 0 < n <= 65535 for d, n in blocks[:-1]), blocks)
        self.assertEqual(len(blocks), 5)
        self.expect(226)
        self.assertTrue(still_open(data), "the data connection was closed after the file")
        self.assertIn("Data connection: open", self.expect(211, "STAT"))

        self.assertEqual(self.ctl.cmd("RETR file2"), (125, REUSED))
        self.assertEqual(read_file_blocks(data), (self.file2, [(0, len(self.file2)), (EOF, 0)]))
        self.expect(226)

        upload = os.urandom(200000)
        data.sendall(frame(upload))
        self.assertEqual(self.ctl.cmd("STOR up.bin"), (125, REUSED))
        self.expect(226)
        self.assertEqual(self.read_stored("up.bin"), upload)

        # EOF on the last data block; restart-marker bytes are not file data; EOR and
        # suspected-errors bits are ignored.
        data.sendall(header(0, 3) + b"abc" + header(RESTART, 4) + b"MARK" + header(EOR | SUSPECT, 2) + b"de" +
                     header(EOF, 1) + b"f")
        self.expect(125, "APPE up.bin")
        self.expect(226)
        self.assertEqual(self.read_stored("up.bin"), upload + b"abcdef")

        self.expect(125, "NLST")
        names, blocks = read_file_blocks(data)
        self.assertEqual(names.decode().split("\r\n")[:3], ["file1", "file2", "up.bin"])
        self.expect(226)

        # REST as a byte offset, sending and receiving.
        self.expect(350, "REST 70000")
        self.expect(125, "RETR file1")
        self.assertEqual(read_file_blocks(data)[0], self.file1[70000:])
        self.expect(226)
        data.sendall(frame(b"XY"))
        self.expect(350, "REST 3")
        self.expect(125, "STOR file2")
        self.expect(226)
        self.assertEqual(self.read_stored("file2"), self.file2[:3] + b"XY")

        # An empty file is one EOF block.
        data.sendall(frame(b""))
        self.expect(125, "STOR empty")
        self.expect(226)
        self.assertEqual(self.read_stored("empty"), b"")

        # Nothing new can connect: the passive listener is gone.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(where, timeout=5).close()
        self.assertEqual(self.server.log().count("kept data connection closed"), 0)

    def test_a_file_cut_short_fails_with_426_and_a_fresh_pasv_works(self):
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "STOR part")
        data.sendall(header(0, 1000) + b"x" * 400)
        data.close()
        self.expect(426)
        self.assertEqual(self.read_stored("part"), b"x" * 400)
        self.expect(425, "RETR file1")  # the failed connection is not kept
        data, _ = self.passive_data()
        self.expect(150, "RETR file2")
        self.assertEqual(read_file_blocks(data)[0], self.file2)
        self.expect(226)

    def test_a_kept_connection_the_client_closed_fails_the_next_transfer_cleanly(self):
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR file2")
        self.assertEqual(read_file_blocks(data)[0], self.file2)
        self.expect(226)
        self.assertTrue(still_open(data))
        data.close()
        code, text = self.ctl.cmd("RETR file1")
        self.assertIn(code, (425, 426), text)
        # Forgotten: the next transfer has no data connection at all.
        self.expect(425, "RETR file1")

    def test_a_refused_transfer_command_closes_the_kept_connection(self):
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR file2")
        read_file_blocks(data)
        self.expect(226)
        self.assertTrue(still_open(data))
        self.expect(550, "RETR no-such-file")
        self.assertTrue(closed_by_peer(data), "the kept connection is still open")
        self.expect(425, "RETR file2")

    def test_mode_s_closes_the_kept_connection_and_streams_again(self):
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR file2")
        read_file_blocks(data)
        self.expect(226)
        self.assertTrue(still_open(data))
        self.expect(200, "MODE S")
        self.assertTrue(closed_by_peer(data), "MODE S left the kept connection open")
        self.expect(425, "RETR file1")
        data, _ = self.passive_data()
        self.expect(150, "RETR file1")
        got = bytearray()
        while True:
            chunk = data.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        self.assertEqual(bytes(got), self.file1)  # raw bytes, no block headers
        self.expect(226)

    def test_abor_during_a_block_mode_transfer_closes_the_connection(self):
        with open(self.server.path("big"), "wb") as out:
            out.write(os.urandom(64 * 1024 * 1024))
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR big")
        recv_exact(data, 100000)  # the transfer runs; the client stops reading
        self.ctl.send("ABOR")
        self.expect(426)
        self.expect(226)
        self.assertTrue(drained_to_close(data), "ABOR left the data connection open")
        self.expect(425, "RETR file2")

    def test_abor_with_no_transfer_closes_the_kept_connection(self):
        data, _ = self.passive_data()
        self.expect(200, "MODE B")
        self.expect(150, "RETR file2")
        read_file_blocks(data)
        self.expect(226)
        self.assertTrue(still_open(data))
        self.expect(225, "ABOR")
        self.assertTrue(closed_by_peer(data))


class ServerToServer(unittest.TestCase):
    """Two rsexecd in block mode, paired once, then five files pipelined over the kept connection."""

    SIZES = (0, 1, 65535, 65536, 3 * 1024 * 1024)

    def setUp(self):
        self.src = RsexecdServer(BINARY, SOURCE_ADDRESS, extra_args=FXP).start()
        self.addCleanup(self.src.__exit__)
        self.dst = RsexecdServer(BINARY, DESTINATION_ADDRESS, extra_args=FXP).start()
        self.addCleanup(self.dst.__exit__)
        self.ctl_src = Control(self.src.address, self.src.port)
        self.addCleanup(self.ctl_src.close)
        self.ctl_dst = Control(self.dst.address, self.dst.port)
        self.addCleanup(self.ctl_dst.close)
        self.ctl_src.login()
        self.ctl_dst.login()
        self.files = []
        for n, size in enumerate(self.SIZES, 1):
            data = os.urandom(size)
            with open(self.src.path("f%d" % n), "wb") as out:
                out.write(data)
            self.files.append(data)
        for ctl in (self.ctl_src, self.ctl_dst):
            self.assertEqual(ctl.cmd("TYPE I")[0], 200)
            self.assertEqual(ctl.cmd("MODE B")[0], 200)

    def pipelined(self, prefix):
        count = len(self.files)
        # Every transfer command for every file in one send on each control connection.
        self.ctl_src.send("".join("RETR f%d\r\n" % n for n in range(1, count + 1)).encode())
        self.ctl_dst.send("".join("STOR %s%d\r\n" % (prefix, n) for n in range(1, count + 1)).encode())
        for ctl in (self.ctl_src, self.ctl_dst):
            replies = [ctl.reply() for _ in range(2 * count)]
            codes = [code for code, _ in replies]
            self.assertEqual(codes, [150, 226] + [125, 226] * (count - 1), replies)
            for code, text in replies:
                if code == 125:
                    self.assertEqual(text, REUSED)
        for n, data in enumerate(self.files, 1):
            with open(self.dst.path("%s%d" % (prefix, n)), "rb") as copy:
                self.assertEqual(copy.read(), data, "file %d (%d bytes)" % (n, len(data)))
        self.assertEqual(len(self.src.transfers("RETR")), count)
        self.assertEqual(len(self.dst.transfers("STOR")), count)

    def test_rfc438_pairing_once_then_five_pipelined_files(self):
        code, text = self.ctl_dst.cmd("LSTN R")
        self.assertEqual(code, 255, text)
        code, text = self.ctl_src.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 255, text)
        code, text = self.ctl_dst.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 200, text)
        self.pipelined("t")
        # The pair stays usable: a second batch over the same kept connection.
        self.files.reverse()
        for n, data in enumerate(self.files, 1):
            with open(self.src.path("f%d" % n), "wb") as out:
                out.write(data)
        self.ctl_src.send(b"RETR f1\r\n")
        self.ctl_dst.send(b"STOR again\r\n")
        self.assertEqual(self.ctl_src.reply(), (125, REUSED))
        self.assertEqual(self.ctl_dst.reply(), (125, REUSED))
        self.assertEqual(self.ctl_src.reply()[0], 226)
        self.assertEqual(self.ctl_dst.reply()[0], 226)
        with open(self.dst.path("again"), "rb") as copy:
            self.assertEqual(copy.read(), self.files[0])

    def test_pasv_port_pairing_once_then_five_pipelined_files(self):
        code, text = self.ctl_dst.cmd("PASV")
        self.assertEqual(code, 227, text)
        code, text = self.ctl_src.cmd("PORT " + sock_argument(*parse_pasv(text)))
        self.assertEqual(code, 200, text)
        self.pipelined("u")


if __name__ == "__main__":
    unittest.main(verbosity=2)
