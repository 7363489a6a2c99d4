"""rsexec copy between two real rsexecd (issue 4): every pairing dialect and role, file sizes and
names, no half file under the final name, the documented exit codes, and the -v trace.

Run: /usr/bin/python3 test_copy.py path/to/rsexec path/to/rsexecd [GROUP ...]

GROUP is one of dialects, files, failures, fallback, trace, edges (default: all); CTest runs one
process per group so that they run in parallel. The servers listen on 127.0.0.41 (source),
127.0.0.42 (destination), 127.0.0.43 and 127.0.0.45 (servers without --fxp-peers) and 127.0.0.44
(a silent server, a closed port, a full accept queue, tests/faults/hostile_server.py), addresses no
other test file uses. `edges`: a copy onto itself, a destination that is a directory, no temporary
file left after a refused rename, a TCP handshake that never completes.
"""
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

from rsexecd_fixture import RsexecdServer


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


if __name__ == "__main__":
    RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
    GROUPS = sys.argv[3:]
    del sys.argv[1:]
else:
    RSEXEC, RSEXECD = os.environ.get("RSEXEC"), os.environ.get("RSEXECD")
    GROUPS = []

HOSTILE_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults", "hostile_server.py")

SRC_ADDRESS, DST_ADDRESS = "127.0.0.41", "127.0.0.42"
LONE_ADDRESS, LONE_ADDRESS_2 = "127.0.0.43", "127.0.0.45"
SPARE_ADDRESS = "127.0.0.44"

# A password no log line or trace could contain by accident.
USER = "copier"
PASSWORD = "Pw-q8Zr3-unmistakable"
WRONG_PASSWORD = "Pw-j5Kd9-also-unmistakable"

FXP = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "3", "--login-delay", "0.3"]
NO_FXP = ["--data-timeout", "2", "--login-delay", "0.3"]
RUN_LIMIT = 30  # seconds any single rsexec run may take before the test fails

# Exit codes (app/rsexec/exit_codes_help.hpp).
OK, USAGE, CONNECT, LOGIN, SOURCE, DESTINATION, PAIRING, TRANSFER, VERIFICATION, TIMEOUT = 0, 2, 3, 4, 5, 6, 7, 8, 9, 10

RESULT_LINE = re.compile(r"^copied (\S+) -> (\S+): (\d+) bytes in [\d.]+ s \([\d.]+ MB/s\), (\w+) with (src|dst) listening$")
TRACE_PREFIXES = ("src> ", "src< ", "dst> ", "dst< ", "rsexec: ")


class Run:
    """One finished rsexec process: exit code, output, wall time and its own I/O byte counts."""

    def __init__(self, args, limit=RUN_LIMIT):
        self.args = args
        started = time.monotonic()
        process = subprocess.Popen([RSEXEC] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        outputs = {}

        def drain(name, stream):
            outputs[name] = stream.read()

        readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
                   for n, s in (("out", process.stdout), ("err", process.stderr))]
        for reader in readers:
            reader.start()
        self.io = self._io_at_exit(process, started + limit)
        process.wait()
        for reader in readers:
            reader.join(5)
        self.seconds = time.monotonic() - started
        self.code = process.returncode
        self.out = outputs.get("out", b"").decode(errors="replace")
        self.err = outputs.get("err", b"").decode(errors="replace")

    @staticmethod
    def _io_at_exit(process, deadline):
        """rchar+wchar of /proc/PID/io read while the exited process is still a zombie: every byte
        rsexec itself read or wrote, sockets included."""
        while True:
            try:
                info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return None
            if info is not None:
                break
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("rsexec %s ran longer than %s s" % (" ".join(process.args[1:]), RUN_LIMIT))
            time.sleep(0.005)
        try:
            with open("/proc/%d/io" % process.pid) as f:
                fields = dict(line.split(": ") for line in f.read().splitlines())
            return int(fields["rchar"]) + int(fields["wchar"])
        except (OSError, KeyError, ValueError):
            return None

    def result(self):
        """The one-line result on stdout, parsed: (bytes, dialect, listener)."""
        lines = self.out.splitlines()
        check(len(lines) == 1, "expected one result line, got: %r" % self.out)
        match = RESULT_LINE.match(lines[0])
        check(match, "unexpected result line: %r" % lines[0])
        return int(match.group(3)), match.group(4), match.group(5)

    def message(self):
        """The failure message: the one stderr line that is not part of the -v trace."""
        lines = [l for l in self.err.splitlines() if l.startswith("rsexec: ")]
        return lines[-1] if lines else ""

    def describe(self):
        return "rsexec %s\nexit %s after %.2f s\nstdout: %s\nstderr:\n%s" % (
            " ".join(self.args), self.code, self.seconds, self.out, self.err[-6000:])


def url(server, path, password=PASSWORD, user=USER):
    return "ftp://%s:%s@%s:%d/%s" % (user, password, server.address, server.port, urllib.parse.quote(path))


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def part_name(path):
    """Where rsexec writes the copy before renaming it: .NAME.rsexec-part beside NAME."""
    directory, name = os.path.split(path)
    return os.path.join(directory, "." + name + ".rsexec-part")


def leftover_parts(root):
    return [os.path.join(d, n) for d, _, names in os.walk(root) for n in names if n.endswith(".rsexec-part")]


class HostileServer:
    """tests/faults/hostile_server.py running SCRIPT on SPARE_ADDRESS, stopped by pid."""

    def __init__(self, script, root):
        self.process = subprocess.Popen(["/usr/bin/python3", HOSTILE_SERVER, "--host", SPARE_ADDRESS, "--script", script,
                                         "--root", root, "--data-timeout", "5"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            self.port = int(self.process.stdout.readline())
        except ValueError:
            self.stop()
            raise

    def url(self, path):
        return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, SPARE_ADDRESS, self.port, urllib.parse.quote(path))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class PairTestCase(unittest.TestCase):
    """A source and a destination rsexecd that allow each other's data connections (FXP)."""

    # One pair for the whole class; a class whose tests may kill a server starts a pair per test.
    PAIR_PER_TEST = False

    @staticmethod
    def start_pair(holder, cleanup):
        holder.src = RsexecdServer(RSEXECD, SRC_ADDRESS, extra_args=FXP, user=(USER, PASSWORD)).start()
        cleanup(holder.src.__exit__)
        holder.dst = RsexecdServer(RSEXECD, DST_ADDRESS, extra_args=FXP, user=(USER, PASSWORD)).start()
        cleanup(holder.dst.__exit__)

    @classmethod
    def setUpClass(cls):
        if not cls.PAIR_PER_TEST:
            cls.start_pair(cls, cls.addClassCleanup)

    def setUp(self):
        if self.PAIR_PER_TEST:
            self.start_pair(self, self.addCleanup)

    def copy(self, *args, limit=RUN_LIMIT):
        return Run(["copy"] + list(args), limit=limit)

    def assertExit(self, run, code):
        self.assertEqual(run.code, code, run.describe())

    def assertCopied(self, source_path, destination_path, run):
        """Exit 0, same bytes, no temporary file left anywhere on the destination."""
        self.assertExit(run, OK)
        self.assertTrue(os.path.isfile(destination_path), run.describe())
        self.assertEqual(sha256(destination_path), sha256(source_path), run.describe())
        self.assertEqual(leftover_parts(self.dst.root), [], run.describe())
        self.assertEqual(run.result()[0], os.path.getsize(source_path), run.describe())

    def assertServersAlive(self):
        for server in (self.src, self.dst):
            self.assertIsNone(server.process.poll(), "rsexecd on %s died:\n%s" % (server.address, server.log()))


# --- dialects ---------------------------------------------------------------------------------

class Dialects(PairTestCase):
    DIALECT_COMMANDS = {
        # Who is told what: the listener's announcement reaches the connector.
        "rfc438": ("%(listen)s> LSTN", "%(listen)s< 255 SOCK ", "%(connect)s> SOCK ", "%(connect)s< 255 SOCK ",
                   "%(listen)s> SOCK ", "%(listen)s< 200 "),
        "pasv": ("%(listen)s> PASV", "%(listen)s< 227 ", "%(connect)s> PORT ", "%(connect)s< 200 "),
        "epsv": ("%(listen)s> EPSV", "%(listen)s< 229 ", "%(connect)s> EPRT ", "%(connect)s< 200 "),
    }

    def test_every_dialect_and_passive_side_stores_and_appends_the_same_bytes(self):
        data = os.urandom(300 * 1024 + 7)
        old = b"old content of the destination\n" * 3
        for dialect in ("rfc438", "pasv", "epsv", "auto"):
            for passive in ("src", "dst"):
                for append in (False, True):
                    with self.subTest(dialect=dialect, passive=passive, append=append):
                        name = "%s-%s-%s.bin" % (dialect, passive, "appe" if append else "stor")
                        write(self.src.path(name), data)
                        if append:
                            write(self.dst.path(name), old)
                        args = ["-v", "--dialect", dialect, "--passive", passive]
                        run = self.copy(*(args + (["--append"] if append else [])),
                                        url(self.src, name), url(self.dst, name))
                        self.assertExit(run, OK)
                        expected = old + data if append else data
                        self.assertEqual(hashlib.sha256(read(self.dst.path(name))).hexdigest(),
                                         hashlib.sha256(expected).hexdigest(), run.describe())
                        self.assertEqual(leftover_parts(self.dst.root), [], run.describe())
                        size, chosen, listener = run.result()
                        self.assertEqual(size, len(data), run.describe())
                        # auto between two rsexecd: both list LSTN in FEAT, so RFC 438 it is.
                        self.assertEqual(chosen, "rfc438" if dialect == "auto" else dialect, run.describe())
                        self.assertEqual(listener, passive, run.describe())
                        roles = {"listen": passive, "connect": "dst" if passive == "src" else "src"}
                        for expected_line in self.DIALECT_COMMANDS[chosen]:
                            self.assertIn("\n" + expected_line % roles, "\n" + run.err, run.describe())
                        verb = "APPE" if append else "STOR"
                        self.assertIn("dst> %s %s" % (verb, name if append else "." + name + ".rsexec-part"),
                                      run.err, run.describe())
                        self.assertTrue(any((" /%s " % name) in l for l in self.src.transfers("RETR")))
                        self.assertTrue(any(("bytes=%d " % len(data)) in l for l in self.dst.transfers(verb)))
        self.assertServersAlive()

    def test_auto_between_two_rsexecd_picks_rfc438_with_dst_listening(self):
        write(self.src.path("auto.bin"), os.urandom(4096))
        run = self.copy(url(self.src, "auto.bin"), url(self.dst, "auto-copy.bin"))
        self.assertCopied(self.src.path("auto.bin"), self.dst.path("auto-copy.bin"), run)
        self.assertTrue(run.out.rstrip("\n").endswith(", rfc438 with dst listening"), run.describe())
        self.assertEqual(run.err, "", "without -v a successful copy prints nothing on stderr")

    def test_the_servers_are_told_each_others_addresses_not_rsexecs(self):
        write(self.src.path("peers.bin"), os.urandom(1000))
        run = self.copy("-v", "--dialect", "pasv", url(self.src, "peers.bin"), url(self.dst, "peers.bin"))
        self.assertExit(run, OK)
        dst_as_port = ",".join(DST_ADDRESS.split("."))
        self.assertRegex(run.err, r"(?m)^src> PORT %s,\d+,\d+$" % re.escape(dst_as_port))
        run = self.copy("-v", "--dialect", "epsv", "--passive", "src", url(self.src, "peers.bin"),
                        url(self.dst, "peers2.bin"))
        self.assertExit(run, OK)
        self.assertRegex(run.err, r"(?m)^dst> EPRT \|1\|%s\|\d+\|$" % re.escape(SRC_ADDRESS))


# --- files: sizes, names, temporary name, --inplace -------------------------------------------

class Files(PairTestCase):
    def test_a_0_byte_and_a_1_byte_file(self):
        for name, data in (("empty", b""), ("one", os.urandom(1))):
            with self.subTest(name=name):
                write(self.src.path(name), data)
                run = self.copy(url(self.src, name), url(self.dst, name))
                self.assertCopied(self.src.path(name), self.dst.path(name), run)
                self.assertEqual(read(self.dst.path(name)), data)

    def test_64_MiB_goes_server_to_server_and_not_through_rsexec(self):
        write(self.src.path("big.bin"), os.urandom(64 * 1024 * 1024))
        for args in ((), ("--dialect", "pasv", "--passive", "src")):
            with self.subTest(args=args):
                run = self.copy(*(args + (url(self.src, "big.bin"), url(self.dst, "big.bin"))))
                self.assertCopied(self.src.path("big.bin"), self.dst.path("big.bin"), run)
                self.assertEqual(run.result()[0], 64 * 1024 * 1024)
                # rsexec reads its control replies and little else: far below 1 MiB of I/O.
                self.assertIsNotNone(run.io, "no /proc/PID/io for rsexec")
                self.assertLess(run.io, 1024 * 1024, "rsexec itself moved %d bytes" % run.io)
                os.remove(self.dst.path("big.bin"))

    def test_names_with_spaces_and_utf8_are_percent_encoded_and_dst_slash_keeps_the_name(self):
        for name in ("name with spaces.txt", "données été ☃ 名前.bin"):
            with self.subTest(name=name):
                write(self.src.path(name), os.urandom(2048))
                source = url(self.src, name)
                self.assertNotIn(" ", source)
                run = self.copy(source, url(self.dst, ""))
                self.assertCopied(self.src.path(name), self.dst.path(name), run)
        os.makedirs(self.dst.path("in box"), exist_ok=True)
        run = self.copy(url(self.src, "name with spaces.txt"), url(self.dst, "in box/"))
        self.assertCopied(self.src.path("name with spaces.txt"), self.dst.path("in box", "name with spaces.txt"), run)
        run = self.copy(url(self.src, "données été ☃ 名前.bin"), url(self.dst, "in box/renamed é.bin"))
        self.assertCopied(self.src.path("données été ☃ 名前.bin"), self.dst.path("in box", "renamed é.bin"), run)

    def test_a_subdirectory_source_and_a_replaced_destination(self):
        write(self.src.path("a", "b", "deep.bin"), os.urandom(5000))
        write(self.dst.path("deep.bin"), b"to be replaced")
        run = self.copy(url(self.src, "a/b/deep.bin"), url(self.dst, "/"))
        self.assertCopied(self.src.path("a", "b", "deep.bin"), self.dst.path("deep.bin"), run)

    def test_by_default_the_copy_is_written_under_a_temporary_name_and_renamed(self):
        write(self.src.path("temp.bin"), os.urandom(10000))
        run = self.copy("-v", url(self.src, "temp.bin"), url(self.dst, "temp.bin"))
        self.assertCopied(self.src.path("temp.bin"), self.dst.path("temp.bin"), run)
        trace = run.err.splitlines()
        for line in ("dst> STOR .temp.bin.rsexec-part", "dst> RNFR .temp.bin.rsexec-part", "dst> RNTO temp.bin"):
            self.assertIn(line, trace, run.describe())
        self.assertLess(trace.index("dst> STOR .temp.bin.rsexec-part"), trace.index("dst> RNTO temp.bin"))

    def test_inplace_writes_the_final_name_directly(self):
        write(self.src.path("inplace.bin"), os.urandom(10000))
        write(self.dst.path("inplace.bin"), b"old")
        run = self.copy("-v", "--inplace", url(self.src, "inplace.bin"), url(self.dst, "inplace.bin"))
        self.assertCopied(self.src.path("inplace.bin"), self.dst.path("inplace.bin"), run)
        self.assertIn("dst> STOR inplace.bin", run.err.splitlines(), run.describe())
        self.assertNotIn("rsexec-part", run.err)
        self.assertNotIn("RNFR", run.err)

    def test_append_and_inplace_exclude_each_other(self):
        write(self.src.path("both.bin"), b"x")
        run = self.copy("--append", "--inplace", url(self.src, "both.bin"), url(self.dst, "both.bin"))
        self.assertExit(run, USAGE)
        self.assertFalse(os.path.exists(self.dst.path("both.bin")))


# --- failures: exit codes and one-line messages naming the side -------------------------------

class Failures(PairTestCase):
    def assertOneLineFailure(self, run, code, *fragments):
        self.assertExit(run, code)
        self.assertEqual(run.out, "", run.describe())
        lines = run.err.splitlines()
        self.assertEqual(len(lines), 1, "one line on stderr without -v:\n" + run.describe())
        for fragment in fragments:
            self.assertIn(fragment, lines[0], run.describe())

    def test_a_missing_source_file_is_exit_5_and_creates_nothing(self):
        run = self.copy(url(self.src, "no-such-file"), url(self.dst, "no-such-file"))
        self.assertOneLineFailure(run, SOURCE, "src:", "550")
        self.assertTrue(run.err.startswith("rsexec: src:"), run.describe())
        self.assertFalse(os.path.exists(self.dst.path("no-such-file")))
        self.assertEqual(leftover_parts(self.dst.root), [])

    def test_a_wrong_password_on_either_side_is_exit_4_and_is_never_printed(self):
        write(self.src.path("login.bin"), b"data")
        for side in ("src", "dst"):
            with self.subTest(side=side):
                source = url(self.src, "login.bin", WRONG_PASSWORD if side == "src" else PASSWORD)
                destination = url(self.dst, "login.bin", WRONG_PASSWORD if side == "dst" else PASSWORD)
                run = self.copy(source, destination)
                self.assertOneLineFailure(run, LOGIN, side + ":", "530")
                self.assertFalse(os.path.exists(self.dst.path("login.bin")))
                run = self.copy("-v", source, destination)
                self.assertExit(run, LOGIN)
                for secret in (PASSWORD, WRONG_PASSWORD):
                    self.assertNotIn(secret, run.out + run.err)

    def test_a_missing_destination_directory_is_exit_6(self):
        write(self.src.path("nodir.bin"), b"data")
        run = self.copy(url(self.src, "nodir.bin"), url(self.dst, "missing/dir/nodir.bin"))
        self.assertOneLineFailure(run, DESTINATION, "dst:")
        self.assertFalse(os.path.exists(self.dst.path("missing")))
        self.assertEqual(leftover_parts(self.dst.root), [])
        self.assertServersAlive()

    def test_a_server_that_is_not_running_is_exit_3(self):
        write(self.src.path("refused.bin"), b"data")
        with socket.socket() as probe:
            probe.bind((SPARE_ADDRESS, 0))
            closed_port = probe.getsockname()[1]
        dead = "ftp://%s:%s@%s:%d/refused.bin" % (USER, PASSWORD, SPARE_ADDRESS, closed_port)
        run = self.copy(url(self.src, "refused.bin"), dead)
        self.assertOneLineFailure(run, CONNECT, "dst:")
        run = self.copy(dead, url(self.dst, "refused.bin"))
        self.assertOneLineFailure(run, CONNECT, "src:")
        self.assertFalse(os.path.exists(self.dst.path("refused.bin")))

    def test_bad_urls_and_options_are_exit_2(self):
        good_src, good_dst = url(self.src, "x"), url(self.dst, "x")
        for args in ((good_src,), ("ftp//nohost", good_dst), ("http://example.com/x", good_dst),
                     (good_src, "ftp://host:notaport/x"), (good_src, "ftp://host:99999/x"),
                     ("--dialect", "smoke-signals", good_src, good_dst), ("--passive", "both", good_src, good_dst),
                     ("--timeout", "-1", good_src, good_dst), (good_src, good_dst, "extra")):
            with self.subTest(args=args):
                run = self.copy(*args, limit=10)
                self.assertExit(run, USAGE)
                self.assertEqual(run.out, "")
                self.assertTrue(run.err.startswith("rsexec"), run.describe())
                self.assertEqual(len(run.err.splitlines()), 1, run.describe())

    def test_a_server_that_never_answers_is_exit_10_within_the_timeout(self):
        write(self.src.path("silent.bin"), b"data")
        with socket.socket() as silent:
            silent.bind((SPARE_ADDRESS, 0))
            silent.listen(4)
            port = silent.getsockname()[1]
            accepted = []
            stop = threading.Event()

            def accept_and_say_nothing():
                silent.settimeout(0.2)
                while not stop.is_set():
                    try:
                        accepted.append(silent.accept()[0])
                    except OSError:
                        pass

            acceptor = threading.Thread(target=accept_and_say_nothing, daemon=True)
            acceptor.start()
            try:
                run = self.copy("--timeout", "1", url(self.src, "silent.bin"),
                                "ftp://%s:%s@%s:%d/silent.bin" % (USER, PASSWORD, SPARE_ADDRESS, port), limit=15)
            finally:
                stop.set()
                acceptor.join(5)
                for connection in accepted:
                    connection.close()
        self.assertOneLineFailure(run, TIMEOUT, "dst:")
        self.assertLess(run.seconds, 8, run.describe())
        self.assertTrue(accepted, "rsexec never connected to the silent server")

    def test_a_source_stalling_after_150_is_exit_10_and_the_temporary_file_is_removed(self):
        with tempfile.TemporaryDirectory(prefix="rsexec-copy-") as root:
            write(os.path.join(root, "stall.bin"), os.urandom(1024 * 1024))
            write(self.dst.path("stall.bin"), b"old content stays")
            with HostileServer("hang-after-150", root) as server:
                run = self.copy("-v", "--timeout", "1", server.url("stall.bin"), url(self.dst, "stall.bin"), limit=20)
        self.assertExit(run, TIMEOUT)
        self.assertRegex(run.message(), r"^rsexec: (src|dst): .*timeout")
        self.assertLess(run.seconds, 10, run.describe())
        # The temporary file was created by STOR, then deleted; the final name was never touched.
        trace = run.err.splitlines()
        self.assertIn("dst> STOR .stall.bin.rsexec-part", trace, run.describe())
        self.assertIn("dst> DELE .stall.bin.rsexec-part", trace, run.describe())
        self.assertEqual(read(self.dst.path("stall.bin")), b"old content stays")
        self.assertEqual(leftover_parts(self.dst.root), [])
        self.assertServersAlive()


# --- fallback: servers that refuse to connect to or accept another server ---------------------

class Fallback(PairTestCase):
    PAIR_PER_TEST = True

    def test_a_destination_refusing_port_eprt_lstn_and_sock_gets_the_roles_swapped(self):
        # tests/faults/hostile_server.py's refuse-port script: a plain FTP server that answers
        # PORT, EPRT, LSTN and SOCK with 500 but accepts any peer on its passive socket.
        with tempfile.TemporaryDirectory(prefix="rsexec-copy-") as root:
            with HostileServer("refuse-port", root) as server:
                data = os.urandom(200 * 1000)
                write(self.src.path("swap.bin"), data)
                run = self.copy("-v", "--passive", "src", url(self.src, "swap.bin"), server.url("swap.bin"))
            self.assertExit(run, OK)
            self.assertEqual(read(os.path.join(root, "swap.bin")), data)
            _, dialect, listener = run.result()
            self.assertEqual(listener, "dst", run.describe())
            # The refusal and the swap both show in the trace (no silent fallbacks).
            self.assertRegex(run.err, r"(?m)^dst< 500 ")
            self.assertRegex(run.err, r"(?m)^rsexec: trying %s with dst listening$" % dialect)

    def test_a_destination_without_fxp_makes_every_pairing_fail_with_exit_7(self):
        # rsexecd without --fxp-peers neither connects to another server (PORT/EPRT/SOCK: 504)
        # nor accepts one on its passive socket, so no role swap can help: exit 7. The source
        # sees its data connection closed by the destination; it must survive that.
        with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=NO_FXP, user=(USER, PASSWORD)) as lone:
            write(self.src.path("lone.bin"), os.urandom(3 * 1024 * 1024))
            write(lone.path("lone.bin"), b"old content stays")
            run = self.copy("-v", "--relay", "never", url(self.src, "lone.bin"), url(lone, "lone.bin"))
            self.assertIsNone(self.src.process.poll(),
                              "the source rsexecd died when its data peer hung up (exit status %s):\n%s"
                              % (self.src.process.returncode, run.describe()))
            self.assertExit(run, PAIRING)
            self.assertIn("FXP", run.message(), run.describe())
            self.assertRegex(run.err, r"(?m)^rsexec: trying rfc438 with src listening$")
            self.assertRegex(run.err, r"(?m)^rsexec: trying pasv with dst listening$")
            self.assertRegex(run.err, r"(?m)^src< 504 |^dst< 504 ")
            self.assertEqual(read(lone.path("lone.bin")), b"old content stays")
            self.assertEqual(leftover_parts(lone.root), [])
            self.assertLess(run.seconds, 20, run.describe())

    def test_a_source_without_fxp_makes_every_pairing_fail_with_exit_7(self):
        with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=NO_FXP, user=(USER, PASSWORD)) as lone:
            write(lone.path("lone.bin"), os.urandom(1000))
            write(self.dst.path("lone-target.bin"), b"old content stays")
            run = self.copy("-v", "--relay", "never", url(lone, "lone.bin"), url(self.dst, "lone-target.bin"))
            self.assertExit(run, PAIRING)
            self.assertIn("FXP", run.message(), run.describe())
            self.assertRegex(run.err, r"(?m)^rsexec: trying \w+ with (src|dst) listening$")
            self.assertEqual(read(self.dst.path("lone-target.bin")), b"old content stays")
            self.assertEqual(leftover_parts(self.dst.root), [])
            self.assertLess(run.seconds, 20, run.describe())
        self.assertServersAlive()

    def test_a_listener_without_fxp_refuses_the_pin_at_once(self):
        # A source without FXP, asked to listen, is told to admit only the destination's host
        # (SOCK after PASV): it refuses that at once (504), before any transfer command, instead
        # of dropping the destination's data connection and waiting for its own client.
        slow = ["--data-timeout", "60", "--login-delay", "0.3"]
        with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=slow, user=(USER, PASSWORD)) as lone:
            write(lone.path("lone.bin"), os.urandom(1000))
            run = self.copy("-v", "--relay", "never", "--dialect", "pasv", url(lone, "lone.bin"), url(self.dst, "lone.bin"))
            self.assertExit(run, PAIRING)
            self.assertIn("src: SOCK %s,0,0: 504" % ",".join(DST_ADDRESS.split(".")), run.message(), run.describe())
            self.assertLess(run.seconds, 10, run.describe())
            swapped = run.err.split("rsexec: trying pasv with src listening\n")
            self.assertEqual(len(swapped), 2, run.describe())
            self.assertNotIn("src> RETR", swapped[1], run.describe())
            self.assertFalse(os.path.exists(self.dst.path("lone.bin")))
            self.assertEqual(leftover_parts(self.dst.root), [])
        self.assertServersAlive()

    def test_a_listener_dropping_its_peer_is_given_up_soon_after_the_other_side_ends(self):
        # The destination listens (waiting up to 60 s) and admits only the source's host, as
        # rsexec pins it; the source (tests/faults/hostile_server.py data-from-loopback) connects
        # from 127.0.0.1, not from the address rsexec reached it at, so the destination drops that connection while
        # the source's RETR ends at once. rsexec gives the silent side a few seconds, not the whole
        # wait, names what happened, and the swapped pairing (the source listening) copies the file.
        slow = ["--fxp-peers", "127.0.0.0/8", "--data-timeout", "60", "--login-delay", "0.3"]
        with tempfile.TemporaryDirectory(prefix="rsexec-copy-") as root:
            data = os.urandom(1000)
            write(os.path.join(root, "drop.bin"), data)
            with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=slow, user=(USER, PASSWORD)) as listener:
                with HostileServer("data-from-loopback", root) as source:
                    run = self.copy("-v", "--dialect", "pasv", "--passive", "dst", source.url("drop.bin"),
                                    url(listener, "drop.bin"))
                self.assertExit(run, OK)
                self.assertEqual(read(listener.path("drop.bin")), data)
                self.assertRegex(run.err, r"(?m)^rsexec: pasv with dst listening: .*the data connection did not join "
                                          r"the two servers", run.describe())
                self.assertEqual(run.result()[2], "src", run.describe())
                self.assertLess(run.seconds, 15, run.describe())
                self.assertIn("dst> SOCK %s,0,0" % ",".join(SPARE_ADDRESS.split(".")), run.err, run.describe())
                self.assertIn("refused data connection from 127.0.0.1", listener.log())
        self.assertServersAlive()

    def test_the_swapped_rfc438_attempt_starts_from_a_clean_slate(self):
        # The first attempt (dst listening) sends LSTN to dst and fails at src's SOCK (504). In the
        # swapped attempt dst is the connector: its SOCK comes without a LSTN of this attempt and,
        # per docs/PROTOCOL.md, must be answered with 255 SOCK, not pin a peer of a stale LSTN.
        with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=NO_FXP, user=(USER, PASSWORD)) as lone:
            write(lone.path("clean.bin"), os.urandom(1000))
            run = self.copy("-v", "--relay", "never", "--dialect", "rfc438", url(lone, "clean.bin"), url(self.dst, "clean.bin"))
            self.assertExit(run, PAIRING)
            self.assertRegex(run.err, r"(?m)^rsexec: trying rfc438 with src listening$")
            swapped = run.err[run.err.index("rsexec: trying rfc438 with src listening"):]
            self.assertRegex(swapped, r"(?m)^dst> SOCK [\d,]+\ndst< 255 SOCK ", run.describe())
            self.assertNotIn("reply has no SOCK", run.err, run.describe())
            self.assertFalse(os.path.exists(self.dst.path("clean.bin")))
            self.assertEqual(leftover_parts(self.dst.root), [])

    def test_two_servers_without_fxp_are_exit_7_saying_fxp_must_be_enabled(self):
        with RsexecdServer(RSEXECD, LONE_ADDRESS, extra_args=NO_FXP, user=(USER, PASSWORD)) as a, \
                RsexecdServer(RSEXECD, LONE_ADDRESS_2, extra_args=NO_FXP, user=(USER, PASSWORD)) as b:
            write(a.path("f.bin"), os.urandom(1000))
            run = self.copy("--relay", "never", url(a, "f.bin"), url(b, "f.bin"))
            self.assertExit(run, PAIRING)
            self.assertEqual(len(run.err.splitlines()), 1, run.describe())
            self.assertRegex(run.message(), r"FXP\) enabled|enable.*FXP|FXP.*enabled")
            self.assertIn("504", run.message())
            self.assertFalse(os.path.exists(b.path("f.bin")))
            self.assertEqual(leftover_parts(b.root), [])
            self.assertLess(run.seconds, 20, run.describe())
            for server in (a, b):
                self.assertIsNone(server.process.poll(), server.log())


# --- the -v trace -----------------------------------------------------------------------------

class Trace(PairTestCase):
    def test_the_rfc438_trace_shows_lstn_255_and_sock_on_prefixed_lines(self):
        write(self.src.path("trace.bin"), os.urandom(1234))
        run = self.copy("-v", "--dialect", "rfc438", url(self.src, "trace.bin"), url(self.dst, "trace.bin"))
        self.assertCopied(self.src.path("trace.bin"), self.dst.path("trace.bin"), run)
        lines = run.err.splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertTrue(line.startswith(TRACE_PREFIXES), "unprefixed trace line %r" % line)
        for side in ("src", "dst"):
            self.assertIn(side + "> USER " + USER, lines)
            self.assertIn(side + "> PASS ****", lines)
        # RFC 438 on TCP (docs/PROTOCOL.md): dst listens, src learns its socket and names its own.
        sock_x = re.search(r"(?m)^dst< 255 SOCK (\d+,\d+,\d+,\d+,\d+,\d+)$", run.err)
        self.assertTrue(sock_x, run.describe())
        self.assertTrue(sock_x.group(1).startswith(",".join(DST_ADDRESS.split(".")) + ","))
        self.assertIn("src> SOCK " + sock_x.group(1), lines)
        sock_y = re.search(r"(?m)^src< 255 SOCK (\d+,\d+,\d+,\d+,\d+,\d+)$", run.err)
        self.assertTrue(sock_y, run.describe())
        self.assertTrue(sock_y.group(1).startswith(",".join(SRC_ADDRESS.split(".")) + ","))
        self.assertIn("dst> SOCK " + sock_y.group(1), lines)
        order = [lines.index(l) for l in ("dst> LSTN R", "src> SOCK " + sock_x.group(1),
                                          "dst> SOCK " + sock_y.group(1), "src> RETR trace.bin")]
        self.assertEqual(order, sorted(order), run.describe())
        self.assertRegex(run.err, r"(?m)^dst< 200 Only %s:\d+ may connect$" % re.escape(SRC_ADDRESS))

    def test_pasv_and_epsv_traces_show_the_pin_in_the_same_write(self):
        # RFC 438 rule 2 after PASV/EPSV (docs/PROTOCOL.md): the listener lists LSTN, so it is
        # told the connector's host (port 0) right behind PASV/EPSV, before their reply is read.
        write(self.src.path("pin.bin"), os.urandom(5000))
        for dialect, verb, code in (("pasv", "PASV", 227), ("epsv", "EPSV", 229)):
            for listener, connector_address in (("dst", SRC_ADDRESS), ("src", DST_ADDRESS)):
                with self.subTest(dialect=dialect, listener=listener):
                    name = "pin-%s-%s.bin" % (dialect, listener)
                    run = self.copy("-v", "--dialect", dialect, "--passive", listener, url(self.src, "pin.bin"),
                                    url(self.dst, name))
                    self.assertCopied(self.src.path("pin.bin"), self.dst.path(name), run)
                    lines = run.err.splitlines()
                    pin = "%s> SOCK %s,0,0" % (listener, ",".join(connector_address.split(".")))
                    self.assertIn(pin, lines, run.describe())
                    sent = lines.index("%s> %s" % (listener, verb))
                    announced = next(i for i, l in enumerate(lines) if l.startswith("%s< %d " % (listener, code)))
                    # Sent before the PASV/EPSV reply was read: no round trip of its own.
                    self.assertEqual(lines.index(pin), sent + 1, run.describe())
                    self.assertGreater(announced, lines.index(pin), run.describe())
                    self.assertIn("%s< 200 Only %s (any port) may connect" % (listener, connector_address), lines,
                                  run.describe())

    def test_the_password_appears_nowhere_in_output_or_server_logs(self):
        write(self.src.path("secret.bin"), os.urandom(100))
        runs = [self.copy("-v", url(self.src, "secret.bin"), url(self.dst, "secret.bin")),
                self.copy("-v", url(self.src, "secret.bin", WRONG_PASSWORD), url(self.dst, "secret.bin")),
                self.copy("-v", url(self.src, "secret.bin"), url(self.dst, "secret.bin", WRONG_PASSWORD)),
                self.copy("-v", url(self.src, "missing.bin"), url(self.dst, "missing.bin"))]
        self.assertEqual([r.code for r in runs], [OK, LOGIN, LOGIN, SOURCE], "\n".join(r.describe() for r in runs))
        for run in runs:
            for secret in (PASSWORD, WRONG_PASSWORD):
                self.assertNotIn(secret, run.out + run.err, run.describe())
            self.assertIn("PASS ****", run.err)
        for server in (self.src, self.dst):
            for secret in (PASSWORD, WRONG_PASSWORD):
                self.assertNotIn(secret, server.log())

    def test_a_failure_under_v_still_ends_with_one_rsexec_line_naming_the_side(self):
        run = self.copy("-v", url(self.src, "absent.bin"), url(self.dst, "absent.bin"))
        self.assertExit(run, SOURCE)
        self.assertRegex(run.message(), r"^rsexec: src: .*550")
        self.assertIn("src> SIZE absent.bin", run.err.splitlines())
        self.assertRegex(run.err, r"(?m)^src< 550 ")


# --- edges: a copy onto itself, a destination directory, no temporary file left, connect timeout

class Edges(PairTestCase):
    PAIR_PER_TEST = True  # a failure here leaves temporary files the next test would see

    def server_log_commands(self, server, verbs):
        """The commands in `verbs` the server's log shows it received."""
        return [line for line in server.log().splitlines() if any(re.search(r"\b%s\b" % v, line) for v in verbs)]

    def test_a_copy_onto_itself_is_refused_with_exit_2_before_anything_changes(self):
        data = os.urandom(100000)
        write(self.src.path("self.bin"), data)
        write(self.src.path("sub", "self.bin"), data)
        here = "ftp://%s:%s@%s:%d/" % (USER, PASSWORD, self.src.address, self.src.port)
        pairs = [(url(self.src, "self.bin"), url(self.src, "self.bin")),
                 (url(self.src, "self.bin"), here + "./self.bin"),
                 (url(self.src, "sub/self.bin"), here + "sub//self.bin"),
                 (url(self.src, "sub/self.bin"), here + "sub%2Fself.bin"),
                 (url(self.src, "sub/self.bin"), here + "other/../sub/./self.bin"),
                 (url(self.src, "sub/self.bin"), here + "sub/"),
                 (url(self.src, "sub/self.bin"), here + "sub"),  # a directory: the file goes in under its name
                 (url(self.src, "self.bin"), here)]
        for mode in ((), ("--inplace",), ("--append",)):
            for source, destination in pairs:
                with self.subTest(mode=mode, destination=destination.split("@")[1]):
                    run = self.copy(*(mode + ("-v", source, destination)))
                    self.assertExit(run, USAGE)
                    self.assertIn("same file", run.message(), run.describe())
                    self.assertEqual(read(self.src.path("self.bin")), data, "self.bin changed: " + run.describe())
                    self.assertEqual(read(self.src.path("sub", "self.bin")), data, run.describe())
                    for verb in ("STOR", "APPE", "DELE", "RNFR", "RNTO"):
                        self.assertNotIn("dst> " + verb, run.err, run.describe())
        self.assertEqual(leftover_parts(self.src.root), [])
        self.assertEqual(self.server_log_commands(self.src, ("STOR", "APPE", "DELE", "RNFR", "RNTO")), [])

    def test_the_same_path_for_another_user_or_on_another_server_is_copied(self):
        write(self.src.path("mine.bin"), os.urandom(1000))
        run = self.copy(url(self.src, "mine.bin"), url(self.dst, "mine.bin"))
        self.assertCopied(self.src.path("mine.bin"), self.dst.path("mine.bin"), run)

    def test_a_destination_that_is_a_directory_receives_the_file_under_the_source_name(self):
        write(self.src.path("hello.txt"), b"hello, directory\n" * 1000)
        os.makedirs(self.dst.path("adir"), exist_ok=True)
        run = self.copy("-v", url(self.src, "hello.txt"), url(self.dst, "adir"))
        self.assertCopied(self.src.path("hello.txt"), self.dst.path("adir", "hello.txt"), run)
        self.assertTrue(os.path.isdir(self.dst.path("adir")), run.describe())
        trace = run.err.splitlines()
        self.assertIn("dst> STOR adir/.hello.txt.rsexec-part", trace, run.describe())
        # Found out with one command before the first byte moved.
        asked = [line for line in trace if line.startswith("dst> ") and line.split()[1] in ("MLST", "CWD", "SIZE")]
        self.assertEqual(len([a for a in asked if " adir" in a and "adir/" not in a]), 1, run.describe())
        self.assertLess(trace.index(asked[0]), trace.index("dst> STOR adir/.hello.txt.rsexec-part"), run.describe())
        # A file under that name is still replaced, and a name that does not exist yet is created.
        write(self.dst.path("afile"), b"old")
        run = self.copy(url(self.src, "hello.txt"), url(self.dst, "afile"))
        self.assertCopied(self.src.path("hello.txt"), self.dst.path("afile"), run)
        run = self.copy(url(self.src, "hello.txt"), url(self.dst, "newname"))
        self.assertCopied(self.src.path("hello.txt"), self.dst.path("newname"), run)

    def test_without_mlst_a_destination_directory_is_found_with_size_and_cwd(self):
        write(self.src.path("hello.txt"), b"hello, CWD\n" * 100)
        with tempfile.TemporaryDirectory(prefix="rsexec-copy-") as root:
            os.makedirs(os.path.join(root, "adir"))
            with HostileServer("well-behaved", root) as server:
                run = self.copy("-v", url(self.src, "hello.txt"), server.url("adir"), limit=20)
            self.assertExit(run, OK)
            trace = run.err.splitlines()
            for line in ("dst> SIZE adir", "dst> PWD", "dst> CWD adir", "dst> CWD /",
                         "dst> STOR adir/.hello.txt.rsexec-part", "dst> RNTO adir/hello.txt"):
                self.assertIn(line, trace, run.describe())
            self.assertLess(trace.index("dst> CWD /"), trace.index("dst> STOR adir/.hello.txt.rsexec-part"))
            self.assertEqual(read(os.path.join(root, "adir", "hello.txt")), read(self.src.path("hello.txt")))
            self.assertEqual(leftover_parts(root), [], run.describe())

    def test_a_destination_ending_in_slash_costs_no_extra_command(self):
        write(self.src.path("slash.txt"), b"slash")
        run = self.copy("-v", url(self.src, "slash.txt"), url(self.dst, ""))
        self.assertCopied(self.src.path("slash.txt"), self.dst.path("slash.txt"), run)
        for verb in ("MLST", "CWD"):
            self.assertNotIn("dst> " + verb, run.err, run.describe())

    def test_a_refused_rename_after_the_bytes_moved_leaves_no_temporary_file(self):
        write(self.src.path("taken.bin"), os.urandom(200000))
        # The final name is a directory that is not empty: RNTO onto it fails after the transfer.
        write(self.dst.path("taken.bin", "inside"), b"keep me")
        run = self.copy("-v", url(self.src, "taken.bin"), url(self.dst, ""))
        self.assertExit(run, DESTINATION)
        self.assertIn("dst> RNTO taken.bin", run.err.splitlines(), run.describe())
        self.assertEqual(leftover_parts(self.dst.root), [], run.describe())
        self.assertEqual(read(self.dst.path("taken.bin", "inside")), b"keep me")

    def test_a_handshake_that_never_completes_is_exit_3_timed_out_connecting(self):
        write(self.src.path("f"), b"data")
        # listen(0) with its accept queue full: the kernel drops further SYNs, so connect() hangs.
        with socket.socket() as full:
            full.bind((SPARE_ADDRESS, 0))
            full.listen(0)
            port = full.getsockname()[1]
            fillers = []
            try:
                for _ in range(2):
                    filler = socket.socket()
                    fillers.append(filler)
                    filler.setblocking(False)
                    filler.connect_ex((SPARE_ADDRESS, port))
                run = self.copy("--timeout", "3", url(self.src, "f"),
                                "ftp://%s:%s@%s:%d/f" % (USER, PASSWORD, SPARE_ADDRESS, port), limit=20)
            finally:
                for filler in fillers:
                    filler.close()
        self.assertExit(run, CONNECT)
        self.assertIn("timed out connecting", run.message(), run.describe())
        self.assertIn("%s:%d" % (SPARE_ADDRESS, port), run.message(), run.describe())
        self.assertTrue(run.message().startswith("rsexec: dst:"), run.describe())
        self.assertGreaterEqual(run.seconds, 2.9, run.describe())
        self.assertLess(run.seconds, 10, run.describe())


GROUP_CLASSES = {"dialects": Dialects, "files": Files, "failures": Failures, "fallback": Fallback, "trace": Trace,
                 "edges": Edges}


def main():
    if not RSEXEC or not RSEXECD:
        print(__doc__)
        return 2
    unknown = [g for g in GROUPS if g not in GROUP_CLASSES]
    if unknown:
        print("unknown group(s): %s; known: %s" % (", ".join(unknown), ", ".join(GROUP_CLASSES)))
        return 2
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(GROUP_CLASSES[g]) for g in (GROUPS or GROUP_CLASSES))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
