"""Start and stop rsexecd for tests, and talk to it over a raw control connection.

    with RsexecdServer(binary, "127.0.0.2", extra_args=["--fxp-peers", "127.0.0.0/8"]) as server:
        control = Control(server.address, server.port)
        control.login(*server.credentials)
        ...

The server listens on an ephemeral port (--port 0); the fixture reads the port from the
"rsexecd listening on ADDR:PORT" line, never by sleeping. Every process started is stopped by
its pid (SIGTERM, then SIGKILL) on exit, on failure, and at interpreter exit.
"""
import atexit
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


USER = "tester"
PASSWORD = "s3cret-pass"

_running = set()


def _stop_leftovers():
    for process in list(_running):
        _terminate(process)


atexit.register(_stop_leftovers)


def _terminate(process, timeout=5.0):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _running.discard(process)
    return process.returncode


class RsexecdServer:
    """rsexecd on `address` serving `root` (a fresh temporary directory when None)."""

    def __init__(self, binary, address="127.0.0.1", root=None, extra_args=(), user=(USER, PASSWORD),
                 startup_timeout=10.0):
        self.binary = binary
        self.address = address
        self.credentials = user
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self._own_root = root is None
        self._scratch = tempfile.mkdtemp(prefix="rsexecd-test-")
        self.root = root if root is not None else os.path.join(self._scratch, "root")
        os.makedirs(self.root, exist_ok=True)
        self.log_path = os.path.join(self._scratch, "rsexecd.log")
        self.process = None
        self.port = None

    def start(self):
        args = [self.binary, "--root", self.root, "--bind", self.address, "--port", "0"]
        if self.credentials:
            args += ["--user", "%s:%s" % self.credentials]
        args += self.extra_args
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log)
        _running.add(self.process)
        line = self._read_announcement()
        match = re.match(r"rsexecd listening on (\S+):(\d+)$", line)
        if not match:
            self.stop()
            raise RuntimeError("rsexecd did not announce its port: %r; log:\n%s" % (line, self.log()))
        self.port = int(match.group(2))
        return self

    def _read_announcement(self):
        deadline = time.monotonic() + self.startup_timeout
        data = b""
        fd = self.process.stdout.fileno()
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\n")[0].decode(errors="replace")

    def stop(self, timeout=5.0):
        """SIGTERM, wait; the exit status (SIGKILL after `timeout`)."""
        if self.process is None:
            return None
        status = _terminate(self.process, timeout)
        self.process.stdout.close()
        self._log.close()
        return status

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def transfers(self, verb=None):
        """The 'transfer VERB path bytes=N ...' log lines of completed transfers."""
        lines = [l for l in self.log().splitlines() if re.search(r" transfer \S+ \S+ bytes=\d+ seconds=[\d.]+ MB/s", l)]
        if verb:
            lines = [l for l in lines if (" transfer %s " % verb) in l]
        return lines

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self._scratch, ignore_errors=True)
        return False


class Control:
    """A raw FTP control connection: send a command, read its reply (RFC 959 4.2)."""

    def __init__(self, address, port, timeout=10.0, source=None):
        self.sock = socket.create_connection((address, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n" if isinstance(line, str) else line)

    def reply(self):
        """(code, text); text holds every line of a multi-line reply joined by '\\n'."""
        first = self._line()
        lines = [first]
        if len(first) > 3 and first[3] == "-":
            end = first[:3] + " "
            while True:
                line = self._line()
                lines.append(line)
                if line.startswith(end):
                    break
        return int(first[:3]), "\n".join(lines)

    def _line(self):
        line = self.file.readline(1 << 20)
        if not line:
            raise EOFError("control connection closed")
        return line.decode(errors="replace").rstrip("\r\n")

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def login(self, user=USER, password=PASSWORD):
        code, text = self.cmd("USER " + user)
        check(code == 331, text)
        code, text = self.cmd("PASS " + password)
        check(code == 230, text)

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def parse_sock(text):
    """(host, port) of a '255 SOCK h1,h2,h3,h4,p1,p2' reply."""
    match = re.search(r"SOCK (\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text)
    n = [int(x) for x in match.groups()]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


def sock_argument(host, port):
    return ",".join(host.split(".") + [str(port >> 8), str(port & 0xFF)])


def digest(path):
    """The SHA-256 of a file on disk, to compare a copy with its source."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_random(path, size):
    """A file of `size` random bytes, its folders made as needed."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
