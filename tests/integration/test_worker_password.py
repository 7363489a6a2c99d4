#!/usr/bin/python3
"""rsexec worker runs unattended: it never asks for a password, even on a terminal. A job submitted
to PostgreSQL keeps no password; a worker whose .netrc has none for the URLs' user fails with exit 4
and says how to give one, without a prompt and without a login that can only fail. Real rsexecd on
127.0.191.11/12, a throwaway PostgreSQL, the worker on a pseudo-terminal (stdin, stdout, stderr and
controlling tty).

    /usr/bin/python3 test_worker_password.py RSEXEC RSEXECD
"""
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postgres_fixture import PostgresServer  # noqa: E402
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
SRC_HOST, DST_HOST = "127.0.191.11", "127.0.191.12"
LOGIN = 4


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def on_terminal(args, home, timeout=60):
    """Runs rsexec on a pty, typing the password whenever anything appears (a prompt would get it);
    its exit status and everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = home
        os.execv(RSEXEC, [RSEXEC] + args)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if chunk:
                    output += chunk
                    continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = None
                return status, output.decode("utf-8", "replace")
        raise AssertionError("rsexec worker on a terminal did not exit in %d s: %r" % (timeout, output[-800:]))
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def main(tmp):
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    with RsexecdServer(RSEXECD, SRC_HOST, extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, DST_HOST, extra_args=FXP) as dst, PostgresServer() as pg:
        job = os.path.join(tmp, "unattended.job")
        with open(job, "w") as f:
            for n in range(3):
                write_random(src.path("w%d.bin" % n), 2000)
                f.write("%s %s\n" % (url(src, "w%d.bin" % n), url(dst, "w%d.bin" % n)))
        env = dict(os.environ, HOME=home)
        submitted = subprocess.run([RSEXEC, "batch", "--journal", pg.url, "--job", "unattended", "--submit", job],
                                   capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
        check(submitted.returncode == 0, "batch --submit: exit %d: %s" % (submitted.returncode, submitted.stderr))

        status, output = on_terminal(["worker", "--journal", pg.url, "--job", "unattended", "--retries", "0"], home)
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == LOGIN,
              "a worker without a password: status %d (exit 4 expected): %r" % (status, output[-1500:]))
        check("Password for" not in output, "the worker asked for a password: %r" % output[-1500:])
        expected = "no password for %s@%s" % (USER, SRC_HOST)
        check(expected in output and ".netrc" in output and "never asks" in output,
              "the worker's message should say %r, that it never asks, and name .netrc: %r" % (expected, output[-1500:]))
        check(PASSWORD not in output, "the password appeared on the terminal")
        for server in (src, dst):
            with open(server.log_path, "rb") as log:
                check(b"failed login" not in log.read(), "the worker tried a login it could not make (%s's log)" % server.address)
        check(not os.path.exists(dst.path("w0.bin")), "a file was copied")
        print("ok: worker on a terminal, no password: exit 4, not asked: %s"
              % next(line for line in output.splitlines() if expected in line).strip())

        # With the password in its .netrc the same worker does the job.
        netrc = os.path.join(home, ".netrc")
        with open(netrc, "w") as f:
            f.write("machine %s login %s password %s\nmachine %s login %s password %s\n"
                    % (SRC_HOST, USER, PASSWORD, DST_HOST, USER, PASSWORD))
        os.chmod(netrc, 0o600)
        retried = subprocess.run([RSEXEC, "batch", "--journal", pg.url, "--job", "netrc", "--submit", job],
                                 capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
        check(retried.returncode == 0, "batch --submit again: exit %d: %s" % (retried.returncode, retried.stderr))
        status, output = on_terminal(["worker", "--journal", pg.url, "--job", "netrc"], home)
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
              "a worker with the password in .netrc: status %d: %r" % (status, output[-1500:]))
        for n in range(3):
            check(digest(dst.path("w%d.bin" % n)) == digest(src.path("w%d.bin" % n)), "w%d.bin not copied" % n)
        print("ok: with the password in .netrc the worker copied all 3")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="rsexec-worker-password-") as tmp:
        main(tmp)
