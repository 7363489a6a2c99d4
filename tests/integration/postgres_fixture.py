"""A throwaway PostgreSQL server for tests of the shared job queue.

    with PostgresServer() as pg:
        subprocess.run([rsexec, "status", "--journal", pg.url, ...])
        rows = pg.psql("SELECT count(*) FROM pg_stat_activity")

Each server gets a fresh cluster (initdb --auth=trust -U rsexec -E UTF8 --no-sync) in a temporary
folder owned by the `postgres` OS user (initdb and postgres refuse to run as root), listens on
127.0.0.1 on a free port (a collision with another process is retried, a bounded number of
times) and on a Unix socket in that folder only. `pg_ctl -w` waits until it accepts connections;
nothing here sleeps blindly. The postmaster is stopped by the pid in its postmaster.pid (SIGINT:
fast shutdown; SIGKILL when it is still there after a bounded wait), on exit, on failure, and at
interpreter exit; then the folder is removed.

Binaries come from /usr/lib/postgresql/15/bin (RSEXEC_PG_BIN overrides). Run by itself, the module
tests itself: /usr/bin/python3 postgres_fixture.py
"""
import atexit
import os
import pwd
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


PG_BIN = os.environ.get("RSEXEC_PG_BIN", "/usr/lib/postgresql/15/bin")
OS_USER = "postgres"
DB_USER = "rsexec"

_running = set()


def _stop_leftovers():
    for server in list(_running):
        server.stop()


atexit.register(_stop_leftovers)


def free_port(address="127.0.0.1"):
    """A port nothing listens on at this moment (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def pid_alive(pid):
    """True while `pid` exists and is not a zombie (the postmaster is not our child: when nothing
    reaps it, a dead one lingers as a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class PostgresServer:
    """A PostgreSQL cluster of its own on 127.0.0.1:`port`, superuser `rsexec`, trust auth.

    extra_settings: more server settings, {"log_statement": "all", ...}, passed as -c NAME=VALUE.
    """

    def __init__(self, extra_settings=None, startup_timeout=60.0, attempts=5):
        self.extra_settings = dict(extra_settings or {})
        self.startup_timeout = startup_timeout
        self.attempts = attempts
        self.dir = None
        self.data = None
        self.log_path = None
        self.port = None
        self.pid = None
        try:
            account = pwd.getpwnam(OS_USER)
        except KeyError:
            raise RuntimeError("no '%s' OS user: install postgresql-15 (scripts/setup.sh)" % OS_USER)
        self._uid, self._gid = account.pw_uid, account.pw_gid

    # --- running PostgreSQL's programs as the postgres user
    def _as_postgres(self, args, timeout, check=True):
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=self.dir,
                                user=self._uid, group=self._gid, extra_groups=[],
                                env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": self.dir})
        if check and result.returncode != 0:
            raise RuntimeError("%s failed (exit %d):\n%s%s" % (
                os.path.basename(args[0]), result.returncode, result.stdout, result.stderr))
        return result

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="rsexec-pg-")
        os.chown(self.dir, self._uid, self._gid)
        _running.add(self)
        try:
            self.data = os.path.join(self.dir, "data")
            self.log_path = os.path.join(self.dir, "postgres.log")
            self._as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "--auth=trust",
                               "-U", DB_USER, "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120)
            for attempt in range(self.attempts):
                self.port = free_port()
                if self._pg_ctl_start():
                    break
                if "could not bind" not in self.log() and "already in use" not in self.log():
                    raise RuntimeError("postgres did not start on port %d; log:\n%s" % (self.port, self.log()))
            else:
                raise RuntimeError("postgres found no free port in %d attempts; log:\n%s" % (self.attempts, self.log()))
            self.pid = self._read_pid()
            return self
        except BaseException:
            self.stop()
            raise

    def _pg_ctl_start(self):
        options = ["-h 127.0.0.1", "-p %d" % self.port, "-k %s" % self.dir, "-c fsync=off"]
        options += ["-c %s=%s" % (k, v) for k, v in self.extra_settings.items()]
        # A log of this attempt only: a collision is recognised in it.
        if os.path.exists(self.log_path):
            os.remove(self.log_path)
        result = self._as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-w", "-t", str(int(self.startup_timeout)),
                                    "-D", self.data, "-l", self.log_path, "-o", " ".join(options), "start"],
                                   timeout=self.startup_timeout + 30, check=False)
        if result.returncode == 0:
            return True
        # pg_ctl gave up: make sure no postmaster of this attempt stays behind.
        pid = self._read_pid(missing_ok=True)
        if pid:
            self._stop_pid(pid)
        return False

    def _read_pid(self, missing_ok=False):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            if missing_ok:
                return None
            raise RuntimeError("postgres started but left no postmaster.pid; log:\n%s" % self.log())

    @staticmethod
    def _stop_pid(pid, timeout=15.0):
        """SIGINT (fast shutdown), a bounded wait for the pid to go, then SIGKILL."""
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if not pid_alive(pid):
                return

    def stop(self):
        if self.pid is not None:
            self._stop_pid(self.pid)
            self.pid = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        _running.discard(self)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, TypeError):
            return ""

    # --- what the tests use
    @property
    def url(self):
        return self.url_for("postgres")

    def url_for(self, database):
        return "postgresql://%s@127.0.0.1:%d/%s" % (DB_USER, self.port, database)

    def psql(self, sql, database="postgres", timeout=60):
        """The rows `sql` returns (a list of tuples of strings); raises on any error."""
        result = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-At", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                                 "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, "-d", database, "-c", sql],
                                capture_output=True, text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"})
        if result.returncode != 0:
            raise RuntimeError("psql failed (exit %d) on %r:\n%s" % (result.returncode, sql, result.stderr))
        return [tuple(line.split("\x1f")) for line in result.stdout.splitlines()]

    def createdb(self, name):
        self.psql('CREATE DATABASE "%s"' % name)
        return self.url_for(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _self_test():
    with PostgresServer() as pg:
        pid, folder = pg.pid, pg.dir
        check(pid_alive(pid), "postmaster %d not running" % pid)
        check(pg.psql("select 1") == [("1",)], pg.psql("select 1"))
        check(pg.psql("select current_user, 'a|b', null") == [("rsexec", "a|b", "")], 'failed: pg.psql("select current_user, \'a|b\', null") == [("rsexec", "a|b", "")]')
        check(pg.psql("show fsync") == [("off",)], 'failed: pg.psql("show fsync") == [("off",)]')
        check(pg.psql("select inet_server_addr()::text, inet_server_port()") == [("127.0.0.1/32", str(pg.port))], 'failed: pg.psql("select inet_server_addr()::text, inet_server_port()") == [("127.0.0.1/32", str(pg.port))]')
        url = pg.createdb("other")
        check(url.endswith(":%d/other" % pg.port) and pg.psql("select current_database()", "other") == [("other",)], 'failed: url.endswith(":%d/other" % pg.port) and pg.psql("select current_database()", "other") == [("other",)]')
        owner = os.stat(pg.data).st_uid
        check(owner == pwd.getpwnam(OS_USER).pw_uid, "data folder owned by uid %d" % owner)
        print("ok: postgres pid %d at %s" % (pid, pg.url))
        # Two at once get two ports.
        with PostgresServer() as second:
            check(second.port != pg.port and second.psql("select 2") == [("2",)], 'failed: second.port != pg.port and second.psql("select 2") == [("2",)]')
            second_pid = second.pid
        check(not pid_alive(second_pid), "second postmaster %d still running" % second_pid)
    check(not pid_alive(pid), "postmaster %d still running after stop" % pid)
    check(not os.path.exists(folder), "folder %s left behind" % folder)
    print("ok: stopped (pid %d gone), folder removed" % pid)


if __name__ == "__main__":
    _self_test()
