"""FTPS (RFC 4217) in rsexecd, and TLS on server-to-server data connections (SSCN, CPSV, RFC 438
LSTN/SOCK), docs/PROTOCOL.md "FTPS (RFC 4217) in rsexecd".

Certificates are made here with the openssl CLI: a test CA and a server certificate for the
127.0.0.x addresses below (subjectAltName IP), and a second CA the servers do not use. Python's
ssl verifies the server against the first CA, with the address check on.

Run: /usr/bin/python3 test_tls_server.py path/to/rsexecd
"""
import ftplib
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

from rsexecd_fixture import PASSWORD, USER, Control, RsexecdServer, parse_sock, sock_argument


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")
CLIENT_SERVER = "127.0.0.81"
REQUIRED = "127.0.0.82"
IMPLICIT = "127.0.0.83"
SOURCE = "127.0.0.84"
DESTINATION = "127.0.0.85"
ADDRESSES = (CLIENT_SERVER, REQUIRED, IMPLICIT, SOURCE, DESTINATION)
DATA_TIMEOUT = 3

CERTS = None  # set by setUpModule


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def make_ca(directory, name):
    key, cert = os.path.join(directory, name + "-key.pem"), os.path.join(directory, name + ".pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", key, "-out", cert)
    return key, cert


def setUpModule():
    global CERTS
    directory = tempfile.mkdtemp(prefix="rsexecd-tls-")
    ca_key, ca = make_ca(directory, "rsexecd-test-ca")
    _, other_ca = make_ca(directory, "some-other-ca")
    key, csr, cert = (os.path.join(directory, n) for n in ("server-key.pem", "server.csr", "server.pem"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rsexecd test", "-keyout", key, "-out", csr)
    extensions = os.path.join(directory, "san.cnf")
    with open(extensions, "w") as out:
        out.write("subjectAltName=" + ",".join("IP:" + a for a in ADDRESSES) + "\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
            "-extfile", extensions, "-out", cert)
    CERTS = {"dir": directory, "ca": ca, "other_ca": other_ca, "cert": cert, "key": key}


def tearDownModule():
    shutil.rmtree(CERTS["dir"], ignore_errors=True)


def tls_args(*more):
    return ["--tls-cert", CERTS["cert"], "--tls-key", CERTS["key"], "--fxp-peers", "127.0.0.0/8",
            "--data-timeout", str(DATA_TIMEOUT)] + list(more)


def client_context(ca=None):
    """Verifies the server against `ca` (the test CA by default), address included."""
    context = ssl.create_default_context(cafile=ca or CERTS["ca"])
    context.check_hostname = True
    return context


def server_context():
    """Python playing the TLS server on a data connection, with the rsexecd test certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERTS["cert"], CERTS["key"])
    return context


def parse_pasv(text):
    n = [int(x) for x in re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", text).groups()]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


def port_argument(host, port):
    return ",".join(host.split(".") + [str(port >> 8), str(port & 0xFF)])


def recv_all(sock):
    data = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(data)
        data += chunk


class TlsControl(Control):
    """A raw control connection that can switch to TLS (AUTH TLS) or start in it (implicit)."""

    def __init__(self, address, port, implicit=False, context=None, timeout=10.0):
        self.address = address
        self.context = context or client_context()
        if implicit:
            self.sock = self.context.wrap_socket(socket.create_connection((address, port), timeout=timeout),
                                                 server_hostname=address)
            self.file = self.sock.makefile("rb")
            self.greeting = self.reply()
        else:
            super().__init__(address, port, timeout=timeout)

    def auth(self):
        code, text = self.cmd("AUTH TLS")
        if code != 234:
            raise AssertionError("AUTH TLS: %d %s" % (code, text))
        self.file.close()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.address)
        self.file = self.sock.makefile("rb")

    def protect(self):
        code, text = self.cmd("PBSZ 0")
        check((code, text) == (200, "200 PBSZ=0"), text)
        code, text = self.cmd("PROT P")
        check(code == 200, text)


def tls_server(address, *more):
    return RsexecdServer(BINARY, address, extra_args=tls_args(*more)).start()


class ClientServer(unittest.TestCase):
    """rsexecd and one FTPS client (RFC 4217's case)."""

    @classmethod
    def setUpClass(cls):
        cls.server = tls_server(CLIENT_SERVER)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def write(self, name, data):
        with open(self.server.path(name), "wb") as out:
            out.write(data)

    def control(self):
        ctl = TlsControl(self.server.address, self.server.port)
        self.addCleanup(ctl.close)
        return ctl

    def test_commands_pipelined_behind_auth_tls_in_the_clear_are_dropped_not_run(self):
        # STARTTLS command injection: whoever is on the path appends commands to the clear AUTH;
        # run after the handshake they would count as the protected client's own.
        self.write("victim.txt", b"still here\n")
        ctl = TlsControl(self.server.address, self.server.port)
        self.addCleanup(ctl.close)
        ctl.send(("AUTH TLS\r\nUSER %s\r\nPASS %s\r\nDELE victim.txt\r\n" % (USER, PASSWORD)).encode())
        code, text = ctl.reply()
        self.assertEqual(code, 234, text)
        ctl.file.close()
        ctl.sock = ctl.context.wrap_socket(ctl.sock, server_hostname=ctl.address)
        ctl.file = ctl.sock.makefile("rb")
        # The first reply after the handshake answers the first protected command: none of the
        # three injected ones was answered (or run).
        self.assertEqual(ctl.cmd("NOOP")[0], 200)
        code, text = ctl.cmd("PWD")
        self.assertEqual(code, 530, "the injected USER/PASS logged the session in: " + text)
        self.assertTrue(os.path.exists(self.server.path("victim.txt")), "the injected DELE ran")
        deadline = time.monotonic() + 5
        while "clear bytes after AUTH dropped" not in self.server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("clear bytes after AUTH dropped", self.server.log())

    def test_ftp_tls_with_the_ca_verified_logs_in_and_moves_files_over_protected_data(self):
        data = os.urandom(3 * 1024 * 1024 + 5)
        ftp = ftplib.FTP_TLS(context=client_context(), timeout=10)
        self.addCleanup(ftp.close)
        ftp.connect(self.server.address, self.server.port)
        ftp.login(USER, PASSWORD)  # AUTH TLS first, with the certificate and address checked
        self.assertIsInstance(ftp.sock, ssl.SSLSocket)
        ftp.prot_p()
        ftp.storbinary("STOR up.bin", io.BytesIO(data))
        with open(self.server.path("up.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        out = io.BytesIO()
        ftp.retrbinary("RETR up.bin", out.write)
        self.assertEqual(out.getvalue(), data)
        lines = []
        ftp.retrlines("LIST", lines.append)
        self.assertTrue(any(line.endswith(" up.bin") for line in lines), lines)
        ftp.set_pasv(False)  # PORT: rsexecd connects, and is still the TLS server
        out = io.BytesIO()
        ftp.retrbinary("RETR up.bin", out.write)
        self.assertEqual(out.getvalue(), data)
        ftp.quit()
        log = self.server.log()
        self.assertIn("control connection is TLS (AUTH TLS, TLSv1.", log)
        self.assertRegex(log, r"RETR /up.bin: data connection is TLSv1\.[23], this server the TLS server")
        self.assertRegex(log, r"STOR /up.bin: data connection is TLSv1\.[23], this server the TLS server")

    def test_replies_of_auth_pbsz_prot_and_sscn(self):
        ctl = self.control()
        code, text = ctl.cmd("FEAT")
        for feature in ("AUTH TLS", "PBSZ", "PROT", "SSCN", "CPSV"):
            self.assertIn("\n " + feature + "\n", text)
        self.assertEqual(ctl.cmd("PBSZ 0"), (503, "503 PBSZ needs AUTH TLS first"))
        self.assertEqual(ctl.cmd("PROT P"), (503, "503 PROT needs AUTH TLS first"))
        self.assertEqual(ctl.cmd("AUTH KERBEROS_V4"), (504, "504 AUTH TLS, TLS-C or SSL only"))
        self.assertEqual(ctl.cmd("AUTH TLS"), (234, "234 AUTH TLS OK, starting TLS negotiation"))
        ctl.file.close()
        ctl.sock = ctl.context.wrap_socket(ctl.sock, server_hostname=ctl.address)
        ctl.file = ctl.sock.makefile("rb")
        self.assertEqual(ctl.cmd("AUTH TLS"), (503, "503 Already using TLS"))
        self.assertEqual(ctl.cmd("PROT P"), (503, "503 PROT needs PBSZ first"))
        self.assertEqual(ctl.cmd("PBSZ x"), (501, "501 PBSZ needs a number"))
        self.assertEqual(ctl.cmd("PBSZ 0"), (200, "200 PBSZ=0"))
        self.assertEqual(ctl.cmd("PROT S"), (536, "536 Only PROT C and P are supported"))
        self.assertEqual(ctl.cmd("PROT Q"), (504, "504 PROT takes C or P"))
        self.assertEqual(ctl.cmd("PROT P"), (200, "200 Protection level set to P"))
        self.assertEqual(ctl.cmd("PROT C"), (200, "200 Protection level set to C"))
        ctl.login()
        self.assertEqual(ctl.cmd("SSCN"), (200, "200 SSCN:SERVER METHOD"))
        self.assertEqual(ctl.cmd("SSCN ON"), (200, "200 SSCN:CLIENT METHOD"))
        self.assertEqual(ctl.cmd("SSCN"), (200, "200 SSCN:CLIENT METHOD"))
        self.assertEqual(ctl.cmd("SSCN OFF"), (200, "200 SSCN:SERVER METHOD"))
        self.assertEqual(ctl.cmd("SSCN MAYBE"), (501, "501 SSCN takes ON, OFF or nothing"))
        code, text = ctl.cmd("CPSV")
        self.assertEqual(code, 227, text)
        self.assertEqual(parse_pasv(text)[0], CLIENT_SERVER)

    def test_a_raw_client_on_the_pasv_port_after_prot_p_gets_no_plaintext_only_tls(self):
        secret = b"plaintext that must not cross the wire " * 1000
        self.write("secret.txt", secret)
        ctl = self.control()
        ctl.auth()
        ctl.login()
        ctl.protect()
        code, text = ctl.cmd("PASV")
        self.assertEqual(code, 227, text)
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        code, text = ctl.cmd("RETR secret.txt")
        self.assertEqual(code, 150, text)
        # The server waits for a TLS ClientHello: nothing, least of all the file, comes in the clear.
        raw.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            raw.recv(1 << 16)
        raw.settimeout(10)
        data = client_context().wrap_socket(raw, server_hostname=CLIENT_SERVER)
        self.addCleanup(data.close)
        self.assertEqual(recv_all(data), secret)
        data.unwrap()
        self.assertEqual(ctl.reply()[0], 226)

    def test_a_clear_client_on_a_protected_data_connection_fails_the_handshake_with_426(self):
        self.write("secret2.txt", b"not for clear text\n" * 100)
        ctl = self.control()
        ctl.auth()
        ctl.login()
        ctl.protect()
        code, text = ctl.cmd("PASV")
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        self.assertEqual(ctl.cmd("RETR secret2.txt")[0], 150)
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not a TLS record
        received = recv_all(raw)
        self.assertNotIn(b"not for clear text", received)
        code, text = ctl.reply()
        self.assertEqual(code, 426, text)
        self.assertIn("TLS handshake failed", text)
        self.assertIn("TLS on the data connection (this server the TLS server) failed", self.server.log())

    def test_a_tls_upload_cut_without_close_notify_fails_instead_of_passing_as_whole(self):
        ctl = self.control()
        ctl.auth()
        ctl.login()
        ctl.protect()
        code, text = ctl.cmd("PASV")
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        self.assertEqual(ctl.cmd("STOR cut.bin")[0], 150)
        data = client_context().wrap_socket(raw, server_hostname=CLIENT_SERVER)
        data.sendall(b"x" * 100000)
        data.close()  # the TCP connection ends, no close_notify: as a forged FIN would
        code, text = ctl.reply()
        self.assertEqual(code, 426, text)
        self.assertIn("without TLS close_notify", text)

    def test_sscn_on_makes_rsexecd_the_tls_client_on_a_port_connection(self):
        payload = os.urandom(200000)
        self.write("to-client.bin", payload)
        ctl = self.control()
        ctl.auth()
        ctl.login()
        ctl.protect()
        self.assertEqual(ctl.cmd("SSCN ON")[0], 200)
        listener = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(listener.close)
        listener.settimeout(10)
        self.assertEqual(ctl.cmd("PORT " + port_argument("127.0.0.1", listener.getsockname()[1]))[0], 200)
        ctl.send("RETR to-client.bin")
        conn, _ = listener.accept()
        self.addCleanup(conn.close)
        conn.settimeout(10)
        self.assertEqual(ctl.reply()[0], 150)
        first = conn.recv(5, socket.MSG_PEEK)
        self.assertEqual(first[:1], b"\x16", "a TLS handshake record (ClientHello) comes first")
        self.assertEqual(first[1:2], b"\x03")
        data = server_context().wrap_socket(conn, server_side=True)
        self.addCleanup(data.close)
        self.assertEqual(recv_all(data), payload)
        data.unwrap()
        self.assertEqual(ctl.reply()[0], 226)

    def test_abor_over_tls_ends_a_protected_transfer_with_426_then_226(self):
        self.write("big.bin", os.urandom(64 * 1024 * 1024))
        ctl = self.control()
        ctl.auth()
        ctl.login()
        ctl.protect()
        code, text = ctl.cmd("PASV")
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        self.assertEqual(ctl.cmd("RETR big.bin")[0], 150)
        data = client_context().wrap_socket(raw, server_hostname=CLIENT_SERVER)
        self.addCleanup(data.close)
        self.assertTrue(data.recv(65536))
        ctl.send("ABOR")  # no Telnet Synch: urgent data cannot go through TLS
        self.assertEqual(ctl.reply()[0], 426)
        self.assertEqual(ctl.reply()[0], 226)
        self.assertEqual(ctl.cmd("NOOP")[0], 200)


class WithoutCertificate(unittest.TestCase):
    def test_without_a_certificate_feat_offers_no_tls_and_auth_gets_502(self):
        with RsexecdServer(BINARY, CLIENT_SERVER) as server:
            with Control(server.address, server.port) as ctl:
                code, text = ctl.cmd("FEAT")
                self.assertEqual(code, 211)
                for feature in ("AUTH", "PBSZ", "PROT", "SSCN", "CPSV"):
                    self.assertNotIn(" " + feature, text)
                self.assertEqual(ctl.cmd("AUTH TLS")[0], 502)
                self.assertEqual(ctl.cmd("PBSZ 0")[0], 502)
                ctl.login()
                self.assertEqual(ctl.cmd("SSCN ON")[0], 502)
                self.assertEqual(ctl.cmd("CPSV")[0], 502)

    def test_unreadable_or_mismatched_certificate_files_stop_the_start_with_a_message(self):
        other_key = os.path.join(CERTS["dir"], "other-key.pem")
        openssl("genrsa", "-out", other_key, "2048")
        root = tempfile.mkdtemp(prefix="rsexecd-tls-root-")
        self.addCleanup(shutil.rmtree, root, True)
        cases = [
            (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", CERTS["key"]], "cannot open"),
            (["--tls-cert", CERTS["key"], "--tls-key", CERTS["key"]], "not a PEM certificate chain"),
            (["--tls-cert", CERTS["cert"], "--tls-key", other_key], "matching --tls-cert"),
            (["--tls-cert", CERTS["cert"]], "--tls-cert and --tls-key go together"),
            (["--tls", "required"], "need --tls-cert and --tls-key"),
        ]
        for args, message in cases:
            run = subprocess.run([BINARY, "--root", root, "--bind", CLIENT_SERVER, "--port", "0"] + args,
                                 capture_output=True, timeout=10)
            self.assertNotEqual(run.returncode, 0, args)
            self.assertIn(message, run.stderr.decode(), args)
            self.assertNotIn(b"listening on", run.stdout, args)


class Required(unittest.TestCase):
    """--tls required: nothing but AUTH and harmless commands in the clear, and only PROT P data."""

    def setUp(self):
        self.server = tls_server(REQUIRED, "--tls", "required")
        self.addCleanup(self.server.__exit__)
        with open(self.server.path("f.txt"), "wb") as out:
            out.write(b"protected only\n")

    def test_a_clear_login_is_refused_and_never_happens(self):
        with Control(self.server.address, self.server.port) as ctl:
            self.assertEqual(ctl.cmd("USER " + USER), (530, "530 TLS required (AUTH TLS first)"))
            self.assertEqual(ctl.cmd("PASS " + PASSWORD), (530, "530 TLS required (AUTH TLS first)"))
            self.assertEqual(ctl.cmd("PWD")[0], 530)
            self.assertEqual(ctl.cmd("NOOP")[0], 200)
            self.assertEqual(ctl.cmd("FEAT")[0], 211)
        self.assertNotIn("logged in", self.server.log())
        self.assertNotIn("failed login", self.server.log())  # the password was not even checked

    def test_after_auth_tls_only_protected_data_is_served(self):
        ctl = TlsControl(self.server.address, self.server.port)
        self.addCleanup(ctl.close)
        ctl.auth()
        ctl.login()
        self.assertEqual(ctl.cmd("PASV")[0], 227)
        self.assertEqual(ctl.cmd("RETR f.txt"), (521, "521 Data connections must be protected (PROT P first)"))
        self.assertEqual(ctl.cmd("PBSZ 0")[0], 200)
        code, text = ctl.cmd("PROT C")
        self.assertEqual(code, 536, text)
        self.assertEqual(ctl.cmd("PROT P")[0], 200)
        code, text = ctl.cmd("PASV")
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        self.assertEqual(ctl.cmd("RETR f.txt")[0], 150)
        data = client_context().wrap_socket(raw, server_hostname=REQUIRED)
        self.addCleanup(data.close)
        self.assertEqual(recv_all(data), b"protected only\n")
        data.unwrap()
        self.assertEqual(ctl.reply()[0], 226)


class Implicit(unittest.TestCase):
    def setUp(self):
        self.server = tls_server(IMPLICIT, "--implicit-tls")
        self.addCleanup(self.server.__exit__)
        with open(self.server.path("f.txt"), "wb") as out:
            out.write(b"implicit\n")

    def test_the_control_connection_is_tls_from_the_first_byte(self):
        ctl = TlsControl(self.server.address, self.server.port, implicit=True)
        self.addCleanup(ctl.close)
        self.assertTrue(ctl.greeting[1].startswith("220 "), ctl.greeting)
        self.assertEqual(ctl.cmd("AUTH TLS")[0], 503)
        ctl.login()
        ctl.protect()
        code, text = ctl.cmd("PASV")
        raw = socket.create_connection(parse_pasv(text), timeout=10)
        self.addCleanup(raw.close)
        self.assertEqual(ctl.cmd("RETR f.txt")[0], 150)
        data = client_context().wrap_socket(raw, server_hostname=IMPLICIT)
        self.addCleanup(data.close)
        self.assertEqual(recv_all(data), b"implicit\n")
        data.unwrap()
        self.assertEqual(ctl.reply()[0], 226)

    def test_a_clear_client_gets_no_greeting(self):
        with socket.create_connection((self.server.address, self.server.port), timeout=10) as raw:
            raw.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                raw.recv(100)  # the server waits for a ClientHello; no "220" in the clear
            raw.settimeout(10)
            raw.sendall(b"USER tester\r\n")
            self.assertNotIn(b"220", recv_all(raw))
        self.assertIn("TLS handshake on the control connection (implicit TLS) failed", self.server.log())


class WrongCertificate(unittest.TestCase):
    def test_a_client_trusting_another_ca_fails_the_handshake_and_rsexecd_goes_on(self):
        with RsexecdServer(BINARY, CLIENT_SERVER, extra_args=tls_args()) as server:
            ctl = TlsControl(server.address, server.port, context=client_context(CERTS["other_ca"]))
            self.addCleanup(ctl.close)
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctl.auth()
            deadline = time.monotonic() + 5
            while "failed" not in server.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertRegex(server.log(), r"TLS handshake on the control connection \(AUTH TLS\) failed: .*unknown ca")
            # Still serving: a client with the right CA logs in.
            good = TlsControl(server.address, server.port)
            self.addCleanup(good.close)
            good.auth()
            good.login()
            self.assertEqual(good.cmd("NOOP")[0], 200)
            self.assertIsNone(server.process.poll())


class ServerToServer(unittest.TestCase):
    """Two rsexecd with PROT P, driven over TLS control connections (docs/PROTOCOL.md)."""

    def setUp(self):
        self.src = tls_server(SOURCE)
        self.addCleanup(self.src.__exit__)
        self.dst = tls_server(DESTINATION)
        self.addCleanup(self.dst.__exit__)
        self.ctl_src = TlsControl(self.src.address, self.src.port)
        self.addCleanup(self.ctl_src.close)
        self.ctl_dst = TlsControl(self.dst.address, self.dst.port)
        self.addCleanup(self.ctl_dst.close)
        for ctl in (self.ctl_src, self.ctl_dst):
            ctl.auth()
            ctl.login()
            ctl.protect()
        self.files = {"f%d" % n: os.urandom(n * 700000 + 13) for n in (1, 2, 3)}
        for name, data in self.files.items():
            with open(self.src.path(name), "wb") as out:
                out.write(data)

    def copied(self, name, as_name=None):
        with open(self.dst.path(as_name or name), "rb") as f:
            return f.read()

    def pair(self, name, first_reply=150):
        # Both transfer commands before either reply: a passive side answers 150 only once its
        # data connection is there.
        self.ctl_src.send("RETR " + name)
        self.ctl_dst.send("STOR " + name)
        for ctl in (self.ctl_src, self.ctl_dst):
            code, text = ctl.reply()
            self.assertEqual(code, first_reply, text)
        for ctl in (self.ctl_src, self.ctl_dst):
            code, text = ctl.reply()
            self.assertEqual(code, 226, text)

    def test_sscn_on_the_source_pasv_on_the_destination(self):
        self.assertEqual(self.ctl_src.cmd("SSCN ON"), (200, "200 SSCN:CLIENT METHOD"))
        code, text = self.ctl_dst.cmd("PASV")
        self.assertEqual(code, 227, text)
        self.assertEqual(self.ctl_src.cmd("PORT " + port_argument(*parse_pasv(text)))[0], 200)
        self.pair("f1")
        self.assertEqual(self.copied("f1"), self.files["f1"])
        self.assertRegex(self.src.log(), r"RETR /f1: data connection is TLSv1\.[23], this server the TLS client")
        self.assertRegex(self.dst.log(), r"STOR /f1: data connection is TLSv1\.[23], this server the TLS server")

    def test_epsv_eprt_with_sscn_on_the_accepting_destination(self):
        self.assertEqual(self.ctl_dst.cmd("SSCN ON"), (200, "200 SSCN:CLIENT METHOD"))
        code, text = self.ctl_dst.cmd("EPSV")
        self.assertEqual(code, 229, text)
        port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
        self.assertEqual(self.ctl_src.cmd("EPRT |1|%s|%d|" % (DESTINATION, port))[0], 200)
        self.pair("f3")
        self.assertEqual(self.copied("f3"), self.files["f3"])
        self.assertIn("RETR /f3: data connection is TLSv1.3, this server the TLS server", self.src.log())
        self.assertIn("STOR /f3: data connection is TLSv1.3, this server the TLS client", self.dst.log())

    def test_cpsv_on_the_source_as_listener_port_on_the_destination(self):
        code, text = self.ctl_src.cmd("CPSV")
        self.assertEqual(code, 227, text)
        self.assertEqual(self.ctl_dst.cmd("PORT " + port_argument(*parse_pasv(text)))[0], 200)
        self.pair("f2")
        self.assertEqual(self.copied("f2"), self.files["f2"])
        self.assertIn("RETR /f2: data connection is TLSv1.3, this server the TLS client", self.src.log())
        self.assertIn("STOR /f2: data connection is TLSv1.3, this server the TLS server", self.dst.log())
        # CPSV serves one transfer: a plain PASV afterwards makes the source the TLS server again.
        code, text = self.ctl_src.cmd("PASV")
        self.assertEqual(self.ctl_dst.cmd("SSCN ON")[0], 200)
        self.assertEqual(self.ctl_dst.cmd("PORT " + port_argument(*parse_pasv(text)))[0], 200)
        self.pair("f3")
        self.assertEqual(self.copied("f3"), self.files["f3"])
        self.assertIn("RETR /f3: data connection is TLSv1.3, this server the TLS server", self.src.log())

    def test_lstn_sock_the_listener_is_the_tls_server_the_connector_the_client(self):
        code, text = self.ctl_dst.cmd("LSTN R")
        self.assertEqual(code, 255, text)
        code, text = self.ctl_src.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 255, text)
        code, text = self.ctl_dst.cmd("SOCK " + sock_argument(*parse_sock(text)))
        self.assertEqual(code, 200, text)
        self.pair("f1")
        self.assertEqual(self.copied("f1"), self.files["f1"])
        self.assertIn("RETR /f1: data connection is TLSv1.3, this server the TLS client", self.src.log())
        self.assertIn("STOR /f1: data connection is TLSv1.3, this server the TLS server", self.dst.log())

    def test_block_mode_keeps_one_tls_session_for_three_pipelined_files(self):
        for ctl in (self.ctl_src, self.ctl_dst):
            self.assertEqual(ctl.cmd("MODE B")[0], 200)
        self.assertEqual(self.ctl_src.cmd("SSCN ON")[0], 200)
        code, text = self.ctl_dst.cmd("PASV")
        self.assertEqual(self.ctl_src.cmd("PORT " + port_argument(*parse_pasv(text)))[0], 200)
        names = sorted(self.files)
        for name in names:  # every command before any reply
            self.ctl_src.send("RETR " + name)
            self.ctl_dst.send("STOR " + name)
        for n, name in enumerate(names):
            for ctl in (self.ctl_src, self.ctl_dst):
                code, text = ctl.reply()
                self.assertEqual(code, 150 if n == 0 else 125, text)
                code, text = ctl.reply()
                self.assertEqual(code, 226, text)
        for name in names:
            self.assertEqual(self.copied(name), self.files[name])
        # One handshake on each side, for the first file only.
        self.assertEqual(len(re.findall(r"data connection is TLSv", self.src.log())), 1)
        self.assertEqual(len(re.findall(r"data connection is TLSv", self.dst.log())), 1)
        self.assertEqual(len(self.dst.transfers("STOR")), 3)

    def test_both_tls_servers_fail_with_426_within_the_data_timeout(self):
        code, text = self.ctl_dst.cmd("PASV")
        self.assertEqual(self.ctl_src.cmd("PORT " + port_argument(*parse_pasv(text)))[0], 200)
        started = time.monotonic()
        self.ctl_src.send("RETR f1")
        self.ctl_dst.send("STOR f1")
        for ctl in (self.ctl_src, self.ctl_dst):
            self.assertEqual(ctl.reply()[0], 150)
        for ctl in (self.ctl_src, self.ctl_dst):
            code, text = ctl.reply()
            self.assertIn(code, (425, 426), text)
        elapsed = time.monotonic() - started
        # Ended by the data timeout: not before it ran out, and not long after.
        self.assertGreaterEqual(elapsed, DATA_TIMEOUT - 0.1)
        self.assertLess(elapsed, DATA_TIMEOUT + 4)
        self.assertEqual(self.copied("f1"), b"")
        for server in (self.src, self.dst):
            self.assertIn("this server the TLS server) failed", server.log())
        # The sessions go on.
        for ctl in (self.ctl_src, self.ctl_dst):
            self.assertEqual(ctl.cmd("NOOP")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
