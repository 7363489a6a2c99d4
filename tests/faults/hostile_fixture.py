"""Start and stop tests/faults/hostile_server.py for tests.

    with HostileServer("well-behaved", "127.0.0.3", root, log=log_path) as server:
        url = server.url("f.bin")            # ftp://127.0.0.3:PORT/f.bin
        ...
        server.commands()                     # the command lines it heard, when started with log

The server prints the port the kernel chose on its first line; the fixture reads it (a bounded
wait: the line comes or the process ends) and stops the process by its pid (SIGTERM, then
SIGKILL) on stop(), on exit from a `with`, on failure to start, and at interpreter exit.
"""
import atexit
import os
import select
import subprocess
import sys

HOSTILE_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile_server.py")

_running = set()


def _stop_leftovers():
    for server in list(_running):
        server.stop()


atexit.register(_stop_leftovers)


class HostileServer:
    """hostile_server.py running `script` on `host`, serving `root` (made when missing).

    log: the file the server appends every command line to (commands() reads it back);
    credentials: (user, password) that url() puts in the URL, when given;
    extra_args: more options for hostile_server.py ("--data-timeout", "10", ...).
    """

    def __init__(self, script, host, root, log=None, credentials=None, extra_args=(), startup_timeout=20.0):
        self.script, self.host, self.root, self.log = script, host, root, log
        self.credentials = credentials
        os.makedirs(root, exist_ok=True)
        args = [sys.executable, HOSTILE_SERVER, "--host", host, "--script", script, "--root", root]
        if log:
            args += ["--log", log]
        self.process = subprocess.Popen(args + list(extra_args), stdout=subprocess.PIPE, text=True)
        _running.add(self)
        line = ""
        ready, _, _ = select.select([self.process.stdout], [], [], startup_timeout)
        if ready:
            line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise AssertionError("hostile_server.py %s on %s did not print its port: %r" % (script, host, line))
        self.port = int(line)

    def url(self, path):
        who = "%s:%s@" % self.credentials if self.credentials else ""
        return "ftp://%s%s:%d/%s" % (who, self.host, self.port, path)

    def commands(self):
        """The command lines the server heard so far (empty without a log)."""
        if not self.log or not os.path.exists(self.log):
            return []
        with open(self.log, encoding="latin-1") as log:
            return log.read().splitlines()

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; safe to call more than once."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()
        _running.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
