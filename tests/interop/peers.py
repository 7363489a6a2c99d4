"""Real FTP servers on loopback for the interop tests, through scripts/peers.sh.

Run with Debian's interpreter, /usr/bin/python3. Typical use:

    from peers import Peer
    with Peer("vsftpd", "127.0.0.11", root) as a, Peer("proftpd", "127.0.0.12", root2) as b:
        copy(a.url("f"), b.url("g"))

Each Peer starts its server on __enter__ (waiting until it greets with 220) and stops it by pid
on __exit__, whatever happened in between. Every peer takes the same login (CREDS).
"""

import os
import subprocess
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS_SH = os.path.join(REPO, "scripts", "peers.sh")
KINDS = ("vsftpd", "proftpd", "pure-ftpd", "pyftpdlib", "rsexecd")
USER = "rsexec"
PASSWORD = "rsexec-test"
CREDS = (USER, PASSWORD)

# Bounds on the script itself: it waits up to 10 s for a greeting and 5 s for an exit.
_START_TIMEOUT = 60
_STOP_TIMEOUT = 30


class PeerError(RuntimeError):
    pass


def version(kind):
    """The server's version line, e.g. "vsftpd 3.0.3 (Debian 3.0.3-13+b2)"."""
    return subprocess.run([PEERS_SH, "version", kind], check=True, capture_output=True,
                          text=True, timeout=_START_TIMEOUT).stdout.strip()


class Peer:
    """One FTP server of `kind` on `addr` (a 127.x.y.z address), serving `root`.

    fxp=False starts it with the server's defaults, which refuse a data connection to or from
    an address other than the client's. port=0 lets the script pick a free port.
    """

    def __init__(self, kind, addr, root, fxp=True, port=0):
        if kind not in KINDS:
            raise ValueError("unknown peer kind: %s" % kind)
        self.kind = kind
        self.addr = addr
        self.root = os.path.abspath(root)
        self.fxp = fxp
        self.port = port
        self.user = USER
        self.password = PASSWORD
        self._running = False

    def start(self):
        cmd = [PEERS_SH, "start", self.kind, self.addr, str(self.port), self.root]
        if not self.fxp:
            cmd.append("--no-fxp")
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=_START_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            self._stop_quietly()
            raise PeerError("%s: peers.sh start timed out" % self.kind) from e
        except BaseException:
            # Interrupted (SIGTERM, Ctrl-C): the script may have launched the server already.
            self._stop_quietly()
            raise
        if done.returncode != 0:
            raise PeerError("%s on %s: peers.sh start failed:\n%s"
                            % (self.kind, self.addr, done.stderr))
        hostport = done.stdout.strip().splitlines()[-1]
        self.port = int(hostport.rsplit(":", 1)[1])
        self._running = True
        return self

    def stop(self, check=True):
        if not self._running:
            return
        self._running = False
        done = subprocess.run([PEERS_SH, "stop", self.hostport], capture_output=True, text=True,
                              timeout=_STOP_TIMEOUT)
        if check and done.returncode != 0:
            raise PeerError("%s: peers.sh stop failed:\n%s" % (self, done.stderr))

    def _stop_quietly(self):
        # By address: the port may be unknown yet, and each peer has an address of its own.
        subprocess.run([PEERS_SH, "stop", self.addr], capture_output=True, timeout=_STOP_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        # A failing test's own exception matters more than a failure to stop.
        self.stop(check=exc_type is None)
        return False

    @property
    def hostport(self):
        return "%s:%d" % (self.addr, self.port)

    def url(self, path=""):
        """ftp://user:password@addr:port/path, path relative to the peer's root."""
        return "ftp://%s:%s@%s/%s" % (urllib.parse.quote(self.user, safe=""),
                                      urllib.parse.quote(self.password, safe=""),
                                      self.hostport, urllib.parse.quote(path.lstrip("/")))

    def path(self, name):
        """Where a file named in the FTP root lands on disk."""
        return os.path.join(self.root, name.lstrip("/"))

    def log(self):
        """The server's own logs, for a failure message."""
        return subprocess.run([PEERS_SH, "log", self.hostport], capture_output=True, text=True,
                              timeout=_STOP_TIMEOUT).stdout

    def version(self):
        return version(self.kind)

    def __repr__(self):
        return "Peer(%s %s fxp=%s)" % (self.kind, self.hostport, self.fxp)


def run_every_kind(description, name, net_env, default_net, check_kind, all_passed):
    """The main of a test run once per peer kind on its own two addresses: parses --rsexec,
    --rsexecd, --kinds and --net (default from NET_ENV, else DEFAULT_NET: a /24 no other interop
    test uses, as ctest may run them at once), calls check_kind(args, kind, index, work) for
    each kind (a list of problems back), prints them and returns the exit status."""
    import argparse
    import shutil
    import tempfile
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--rsexec", default=os.path.join(REPO, "build", "bin", "rsexec"))
    ap.add_argument("--rsexecd", default=os.path.join(REPO, "build", "bin", "rsexecd"))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--net", default=os.environ.get(net_env, default_net))
    args = ap.parse_args()
    os.environ.setdefault("RSEXECD", os.path.abspath(args.rsexecd))
    os.environ.setdefault("RSEXEC_PEERS_STATE", tempfile.mkdtemp(prefix="rsexec-peers-%s-" % name))
    work = tempfile.mkdtemp(prefix="rsexec-interop-%s-" % name)
    os.chmod(work, 0o755)
    failures = []
    try:
        for index, kind in enumerate(args.kinds.split(",")):
            failures += check_kind(args, kind, index, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failures" % len(failures) if failures else all_passed)
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0
