"""rsexecd as any FTP client sees it: Python's ftplib (Debian's /usr/bin/python3).

Run: /usr/bin/python3 test_ftplib.py path/to/rsexecd
"""
import ftplib
import hashlib
import io
import os
import socket
import sys
import threading
import unittest

from rsexecd_fixture import PASSWORD, USER, Control, RsexecdServer


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")


class FtplibClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = RsexecdServer(BINARY, "127.0.0.1", extra_args=["--anonymous", "ro", "--data-timeout", "5"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def setUp(self):
        self.ftp = ftplib.FTP()
        self.ftp.connect(self.server.address, self.server.port, timeout=10)
        self.ftp.login(USER, PASSWORD)
        self.addCleanup(self.ftp.close)

    def put(self, name, data):
        self.ftp.storbinary("STOR " + name, io.BytesIO(data))

    def get(self, name, rest=None):
        out = io.BytesIO()
        self.ftp.retrbinary("RETR " + name, out.write, rest=rest)
        return out.getvalue()

    def local(self, name):
        with open(self.server.path(name), "rb") as f:
            return f.read()

    def test_stor_and_retr_move_bytes_unchanged_passive_and_active(self):
        data = os.urandom(5 * 1024 * 1024 + 3)
        self.put("big.bin", data)
        self.assertEqual(self.local("big.bin"), data)
        self.assertEqual(self.get("big.bin"), data)
        self.ftp.set_pasv(False)  # PORT: rsexecd connects to the client
        self.put("active.bin", data[:100000])
        self.assertEqual(self.get("active.bin"), data[:100000])
        self.assertEqual(self.local("active.bin"), data[:100000])

    def retr_by_hand_over_epsv(self, name):
        """RETR over a data connection opened by hand after EPSV: the bytes received."""
        code = self.ftp.sendcmd("EPSV")
        self.assertTrue(code.startswith("229"), code)
        port = int(code.split("|||")[1].split("|")[0])
        data = socket.create_connection((self.server.address, port), timeout=10)
        self.ftp.sendcmd("TYPE I")
        self.ftp.putcmd("RETR " + name)
        self.assertTrue(self.ftp.getresp().startswith("150"))
        received = b""
        while chunk := data.recv(65536):
            received += chunk
        data.close()
        self.assertTrue(self.ftp.getresp().startswith("226"))
        return received

    def test_after_epsv_all_only_epsv_sets_up_a_data_connection(self):
        self.put("all.txt", b"only epsv\n")
        self.assertTrue(self.ftp.sendcmd("EPSV ALL").startswith("200"))
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        for command in ("PASV", "PORT 127,0,0,1,%d,%d" % (port >> 8, port & 255), "EPRT |1|127.0.0.1|%d|" % port,
                        "LSTN", "SOCK 127,0,0,1,%d,%d" % (port >> 8, port & 255)):
            with self.assertRaises(ftplib.error_perm) as refused:
                self.ftp.sendcmd(command)
            self.assertTrue(str(refused.exception).startswith("503"), "%s: %s" % (command, refused.exception))
        self.assertEqual(self.retr_by_hand_over_epsv("all.txt"), b"only epsv\n")

    def test_epsv_and_eprt_work_by_hand(self):
        self.put("e.txt", b"extended\n")
        self.assertEqual(self.retr_by_hand_over_epsv("e.txt"), b"extended\n")
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        self.assertTrue(self.ftp.sendcmd("EPRT |1|127.0.0.1|%d|" % listener.getsockname()[1]).startswith("200"))
        self.ftp.putcmd("RETR e.txt")
        conn, _ = listener.accept()
        self.assertTrue(self.ftp.getresp().startswith("150"))
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        conn.close()
        self.assertTrue(self.ftp.getresp().startswith("226"))
        self.assertEqual(received, b"extended\n")

    def test_rest_resumes_retr_and_stor(self):
        data = bytes(range(256)) * 1000
        self.put("resume.bin", data)
        self.assertEqual(self.get("resume.bin", rest=1000), data[1000:])
        # REST n then STOR keeps the first n bytes and writes from there, cutting what follows.
        self.ftp.storbinary("STOR resume.bin", io.BytesIO(b"NEW"), rest=500)
        self.assertEqual(self.local("resume.bin"), data[:500] + b"NEW")
        self.assertEqual(self.ftp.sendcmd("REST 5"), "350 Restarting at 5. Send STOR or RETR")
        with self.assertRaises(ftplib.error_perm):
            self.ftp.sendcmd("REST nonsense")

    def test_appe_appends(self):
        self.put("log.txt", b"one\n")
        self.ftp.storbinary("APPE log.txt", io.BytesIO(b"two\n"))
        self.ftp.storbinary("APPE new-by-appe.txt", io.BytesIO(b"three\n"))
        self.assertEqual(self.local("log.txt"), b"one\ntwo\n")
        self.assertEqual(self.local("new-by-appe.txt"), b"three\n")

    def test_listings_name_sizes_and_facts(self):
        self.ftp.mkd("listdir")
        self.ftp.cwd("listdir")
        self.assertEqual(self.ftp.pwd(), "/listdir")
        self.put("a.txt", b"12345")
        self.ftp.mkd("sub")
        self.assertEqual(sorted(self.ftp.nlst()), ["a.txt", "sub"])
        lines = []
        self.ftp.retrlines("LIST", lines.append)
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[0], r"^-rw\S+\s+1 ftp\s+ftp\s+5 \w{3} \d\d [\d:]{5} a\.txt$")
        self.assertTrue(lines[1].startswith("d"))
        facts = dict(self.ftp.mlsd())
        self.assertEqual(facts["a.txt"]["type"], "file")
        self.assertEqual(facts["a.txt"]["size"], "5")
        self.assertRegex(facts["a.txt"]["modify"], r"^\d{14}$")
        self.assertIn("r", facts["a.txt"]["perm"])
        self.assertEqual(facts["sub"]["type"], "dir")
        mlst = self.ftp.sendcmd("MLST a.txt")
        self.assertIn("type=file;size=5;", mlst)
        self.assertEqual(self.ftp.size("a.txt"), 5)
        self.assertRegex(self.ftp.sendcmd("MDTM a.txt"), r"^213 \d{14}$")
        self.ftp.cwd("..")
        self.assertEqual(self.ftp.pwd(), "/")

    def test_rename_delete_and_directories(self):
        self.put("old.txt", b"x")
        self.ftp.rename("old.txt", "new.txt")
        self.assertFalse(os.path.exists(self.server.path("old.txt")))
        self.assertEqual(self.local("new.txt"), b"x")
        self.ftp.delete("new.txt")
        self.assertFalse(os.path.exists(self.server.path("new.txt")))
        self.assertEqual(self.ftp.mkd("d1"), "/d1")
        self.ftp.rmd("d1")
        self.assertFalse(os.path.exists(self.server.path("d1")))
        with self.assertRaises(ftplib.error_perm):
            self.ftp.delete("no-such-file")
        with self.assertRaises(ftplib.error_perm) as refused:
            self.ftp.sendcmd("RNTO x")
        self.assertTrue(str(refused.exception).startswith("503"))

    def test_hash_and_xsha256_match_hashlib(self):
        data = os.urandom(300000)
        self.put("h.bin", data)
        digest = hashlib.sha256(data).hexdigest()
        self.assertEqual(self.ftp.sendcmd("HASH h.bin"), "213 SHA-256 0-%d %s h.bin" % (len(data), digest))
        self.assertEqual(self.ftp.sendcmd("XSHA256 h.bin"), "250 " + digest)
        self.assertEqual(self.ftp.sendcmd("OPTS HASH"), "200 SHA-256")
        feat = self.ftp.sendcmd("FEAT")
        for feature in (" EPSV", " EPRT", " LSTN", " MDTM", " MLST type*;size*;modify*;", " REST STREAM", " SIZE",
                        " UTF8", " HASH SHA-256*", " XSHA256", " TVFS"):
            self.assertIn(feature, feat)

    def test_abor_during_a_transfer_answers_426_then_226(self):
        with open(self.server.path("huge.bin"), "wb") as f:
            f.truncate(512 * 1024 * 1024)  # sparse: the client reads a little, then aborts
        self.ftp.voidcmd("TYPE I")
        conn = self.ftp.transfercmd("RETR huge.bin")
        conn.recv(65536)
        stat = self.ftp.sendcmd("STAT")
        self.assertTrue(stat.startswith("213"), stat)
        self.assertIn("RETR /huge.bin", stat)
        # RFC 959 4.1.3: Telnet IP and Synch, then ABOR; the last byte goes as urgent data,
        # as ftplib's own abort() sends it.
        self.ftp.sock.sendall(b"\xff\xf4\xff\xf2ABOR\r\n", socket.MSG_OOB)
        code, text = self._reply()
        self.assertEqual(code, 426, text)
        code, text = self._reply()
        self.assertEqual(code, 226, text)
        conn.close()
        self.assertEqual(self.ftp.voidcmd("NOOP"), "200 NOOP ok")
        self.assertIn("transfer RETR /huge.bin aborted", self.server.log())

    def test_abor_in_the_same_packet_as_retr_stops_it_before_it_starts(self):
        self.put("small.txt", b"small\n")
        with Control(self.server.address, self.server.port) as ctl:
            ctl.login()
            self.assertEqual(ctl.cmd("PASV")[0], 227)
            ctl.send(b"RETR small.txt\r\nABOR\r\n")
            self.assertEqual(ctl.reply()[0], 426)
            self.assertEqual(ctl.reply()[0], 226)
            self.assertEqual(ctl.cmd("NOOP")[0], 200)

    def _reply(self):
        try:
            text = self.ftp.getresp()
        except ftplib.Error as e:
            text = str(e)
        return int(text[:3]), text

    def test_anonymous_read_only_may_read_but_not_write(self):
        with open(self.server.path("pub.txt"), "wb") as f:
            f.write(b"public\n")
        anon = ftplib.FTP()
        anon.connect(self.server.address, self.server.port, timeout=10)
        self.addCleanup(anon.close)
        anon.login()
        out = io.BytesIO()
        anon.retrbinary("RETR pub.txt", out.write)
        self.assertEqual(out.getvalue(), b"public\n")
        with self.assertRaises(ftplib.error_perm) as refused:
            anon.storbinary("STOR nope.txt", io.BytesIO(b"x"))
        self.assertTrue(str(refused.exception).startswith("550"))
        self.assertFalse(os.path.exists(self.server.path("nope.txt")))

    def test_many_sessions_transfer_at_once(self):
        data = os.urandom(1024 * 1024)
        errors = []

        def client(i):
            try:
                ftp = ftplib.FTP()
                ftp.connect(self.server.address, self.server.port, timeout=20)
                ftp.login(USER, PASSWORD)
                ftp.storbinary("STOR c%d.bin" % i, io.BytesIO(data))
                out = io.BytesIO()
                ftp.retrbinary("RETR c%d.bin" % i, out.write)
                check(out.getvalue() == data, 'failed: out.getvalue() == data')
                ftp.quit()
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])

    def test_passwords_never_reach_the_log(self):
        with Control(self.server.address, self.server.port) as ctl:
            ctl.cmd("USER " + USER)
            ctl.cmd("PASS " + PASSWORD)
        self.assertIn("PASS ****", self.server.log())
        self.assertNotIn(PASSWORD, self.server.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
