"""rsexecd --users-file: logins as crypt(3) hashes made by `openssl passwd`, no password in ps.

Run: /usr/bin/python3 test_users_file.py path/to/rsexecd
"""
import os
import subprocess
import sys
import tempfile
import unittest

from rsexecd_fixture import Control, RsexecdServer

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")
PASSWORD = "c0rrect-h0rse"


def openssl_hash(method, password):
    """`openssl passwd -6` (or -5) with the password on stdin, never on a command line."""
    run = subprocess.run(["openssl", "passwd", method, "-stdin"], input=password + "\n", capture_output=True,
                         text=True, timeout=30)
    if run.returncode != 0 or not run.stdout.startswith("$"):
        raise AssertionError("openssl passwd %s failed: %s" % (method, run.stderr))
    return run.stdout.strip()


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


class UsersFile(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="rsexecd-users-")
        self.addCleanup(subprocess.run, ["rm", "-rf", self.scratch])

    def users_file(self, text, mode=0o600):
        path = os.path.join(self.scratch, "users")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def start(self, path, extra=()):
        server = RsexecdServer(BINARY, "127.0.0.2", user=None,
                               extra_args=["--users-file", path, "--login-delay", "0.1", *extra]).start()
        self.addCleanup(server.__exit__)
        return server

    def login(self, server, user, password):
        with Control(server.address, server.port) as ctl:
            code, text = ctl.cmd("USER " + user)
            expect(code == 331, "USER %s: %d %s" % (user, code, text))
            return ctl.cmd("PASS " + password)

    def refused_start(self, path):
        root = os.path.join(self.scratch, "root")
        os.makedirs(root, exist_ok=True)
        run = subprocess.run([BINARY, "--root", root, "--port", "0", "--users-file", path],
                             capture_output=True, text=True, timeout=20)
        return run

    def test_the_right_password_logs_in_and_a_wrong_one_gets_530(self):
        path = self.users_file("# logins\n\nalice:%s\nbob:%s\n" % (openssl_hash("-6", PASSWORD),
                                                                  openssl_hash("-5", "bobs-pass")))
        server = self.start(path)
        code, text = self.login(server, "alice", PASSWORD)
        expect(code == 230, "alice with her password: %d %s" % (code, text))
        code, text = self.login(server, "bob", "bobs-pass")
        expect(code == 230, "bob with a SHA-256 hash: %d %s" % (code, text))
        for user, password in (("alice", "wrong"), ("alice", PASSWORD + "x"), ("alice", "bobs-pass"),
                               ("mallory", PASSWORD)):
            code, text = self.login(server, user, password)
            expect(code == 530, "%s with a wrong password: %d %s" % (user, code, text))
        expect("readable by group" not in server.log(), "a chmod 600 file gave a warning:\n" + server.log())
        # Logged in for real: a write goes through.
        with Control(server.address, server.port) as ctl:
            ctl.login("alice", PASSWORD)
            code, text = ctl.cmd("MKD made-by-alice")
            expect(code == 257, "MKD: %d %s" % (code, text))

    def test_neither_ps_nor_proc_cmdline_shows_a_password_or_hash(self):
        hashed = openssl_hash("-6", PASSWORD)
        server = self.start(self.users_file("alice:%s\n" % hashed))
        pid = server.process.pid
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().decode(errors="replace")
        expect("--users-file" in cmdline, "not the rsexecd started: %r" % cmdline)
        ps = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=10)
        expect(ps.returncode == 0 and "rsexecd" in ps.stdout, "ps did not list rsexecd: %r" % ps.stdout)
        for where, text in (("/proc/PID/cmdline", cmdline), ("ps", ps.stdout)):
            expect(PASSWORD not in text and hashed not in text, "%s shows the secret: %r" % (where, text))
        expect(self.login(server, "alice", PASSWORD)[0] == 230, "alice cannot log in")
        expect(PASSWORD not in server.log(), "the log holds the password")

    def test_a_plain_text_password_stops_rsexecd_with_exit_2_naming_the_line(self):
        path = self.users_file("# logins\nalice:%s\nbob:hunter2-plain\n" % openssl_hash("-6", PASSWORD))
        run = self.refused_start(path)
        expect(run.returncode == 2, "exit %d, stderr %r" % (run.returncode, run.stderr))
        expect(path + ":3:" in run.stderr and "plain text" in run.stderr, "stderr: %r" % run.stderr)
        expect("hunter2-plain" not in run.stderr + run.stdout, "the password was printed: %r" % run.stderr)
        expect("listening" not in run.stdout, "rsexecd started anyway: %r" % run.stdout)

    def test_malformed_lines_stop_rsexecd_each_named(self):
        path = self.users_file("alice\n:%s\ncarol:$6$salt$short\ndave:$1$abc$Kb85XxsXB.VXinPhbS4431\n"
                               % openssl_hash("-6", PASSWORD))
        run = self.refused_start(path)
        expect(run.returncode == 2, "exit %d, stderr %r" % (run.returncode, run.stderr))
        for line in (1, 2, 3, 4):
            expect("%s:%d:" % (path, line) in run.stderr, "line %d not named: %r" % (line, run.stderr))
        for text in ("", "# only a comment\n"):
            run = self.refused_start(self.users_file(text))
            expect(run.returncode == 2 and "no NAME:HASH" in run.stderr,
                   "a file without logins: exit %d, %r" % (run.returncode, run.stderr))
        run = self.refused_start(os.path.join(self.scratch, "missing"))
        expect(run.returncode == 2 and "cannot read" in run.stderr, "a missing file: %r" % run.stderr)

    def test_a_file_readable_by_group_or_others_gives_a_warning(self):
        server = self.start(self.users_file("alice:%s\n" % openssl_hash("-6", PASSWORD), mode=0o644))
        expect("readable by group or others" in server.log(), "no warning:\n" + server.log())
        expect(self.login(server, "alice", PASSWORD)[0] == 230, "alice cannot log in")

    def test_help_says_to_prefer_the_users_file(self):
        run = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=10)
        expect(run.returncode == 0, "--help failed")
        text = " ".join(run.stdout.split())  # cxxopts wraps the option texts
        expect("--users-file" in text and "prefer --users-file" in text, run.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
