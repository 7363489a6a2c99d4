#!/usr/bin/python3
"""Sturdier pairing: a scripted server (hostile_server.py) that refuses the other server's address
in the ways servers in the field do, paired with a real rsexecd.

    test_pairing.py RSEXEC RSEXECD CASE

Cases:
  sticky-pasv        the scripted server keeps the passive socket of a refused first attempt and
                     answers 550 to PORT/EPRT while it has it: the swapped attempt must be made
                     again on a fresh control connection to it, and the copy succeed.
  address-550        "550 Remote addresses do not match" to STOR once rsexecd's data connection
                     arrives: a pairing refusal, so the roles are swapped and the copy succeeds
                     (not exit 6, the destination's error).
  address-after-150  pyftpdlib's way, after a 150: "425 Rejected data connection from foreign
                     address", and PORT/EPRT to another host refused: every pairing refused,
                     exit 7 (not exit 8, a failed transfer), with the scripted server as either side.

rsexecd runs with --fxp-peers 127.0.0.0/8, the scripted server on its own address. Every process
is stopped by its pid; every wait is bounded.
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from hostile_fixture import HostileServer  # noqa: E402

RSEXECD_HOST = "127.0.0.41"
SCRIPTED_HOST = "127.0.0.42"
PAYLOAD = bytes(range(256)) * 400  # 100 KiB
PAIRING_REFUSED = 7
TIME_LIMIT = 30  # a copy's own bound; each reply waits at most --timeout 5


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


def scripted(workdir, script):
    """hostile_server.py running `script` on SCRIPTED_HOST, the commands it hears logged."""
    return HostileServer(script, SCRIPTED_HOST, os.path.join(workdir, "scripted"),
                         log=os.path.join(workdir, "scripted.log"), credentials=("any", "any"),
                         extra_args=["--data-timeout", "10"])


class Pair:
    """rsexecd and a scripted server; `scripted_side` says which end of the copy is scripted."""

    def __init__(self, rsexec, rsexecd, workdir, script, scripted_side):
        self.rsexec = rsexec
        self.scripted = scripted(workdir, script)
        try:
            self.real = RsexecdServer(rsexecd, RSEXECD_HOST, extra_args=["--fxp-peers", "127.0.0.0/8"]).start()
        except BaseException:
            self.scripted.stop()
            raise
        real_url = "ftp://%s:%s@%s:%d/" % (USER, PASSWORD, RSEXECD_HOST, self.real.port)
        if scripted_side == "src":
            self.source, self.target_root = self.scripted.url("f.bin"), self.real.root
            source_root, self.target = self.scripted.root, real_url + "g.bin"
        else:
            self.source, self.target_root = real_url + "f.bin", self.scripted.root
            source_root, self.target = self.real.root, self.scripted.url("g.bin")
        with open(os.path.join(source_root, "f.bin"), "wb") as f:
            f.write(PAYLOAD)

    def copy(self, *options):
        command = [self.rsexec, "copy", "-v", "--timeout", "5"] + list(options) + [self.source, self.target]
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=TIME_LIMIT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:
            raise AssertionError("rsexec still running after %d s: %s" % (TIME_LIMIT, " ".join(command))) from expired
        self.elapsed = time.monotonic() - started
        self.code, self.stderr = done.returncode, done.stderr
        lines = [l for l in done.stderr.splitlines() if l.startswith("rsexec: ")]
        self.message = lines[-1] if lines else ""
        return self

    def copied(self):
        path = os.path.join(self.target_root, "g.bin")
        if not os.path.exists(path):
            return False
        with open(path, "rb") as f:
            return f.read() == PAYLOAD

    def context(self):
        return "exit %d after %.1f s\nstderr (tail):\n%s\nscripted server heard:\n%s" % (
            self.code, self.elapsed, "\n".join(self.stderr.splitlines()[-25:]),
            "\n".join(self.scripted.commands()[-30:]))

    def stop(self):
        self.scripted.stop()
        self.real.stop()


def case_sticky_pasv(rsexec, rsexecd, workdir):
    # The scripted server is the destination, asked to listen first (--passive dst, the default).
    pair = Pair(rsexec, rsexecd, workdir, "sticky-pasv", "dst")
    try:
        pair.copy()
    finally:
        pair.stop()
    check(pair.code == 0, "the copy failed: " + pair.context())
    check(pair.copied(), "g.bin is not the source's bytes: " + pair.context())
    heard = pair.scripted.commands()
    check(any(c.startswith("EPRT") or c.startswith("PORT") for c in heard),
          "the scripted server never connected: " + pair.context())
    logins = [c for c in heard if c.startswith("USER")]
    check(len(logins) == 2, "expected a second, fresh login to the scripted server, saw %d: %s"
          % (len(logins), pair.context()))
    check("reconnecting to dst" in pair.stderr, "-v does not say why it reconnected: " + pair.context())


def case_address_550(rsexec, rsexecd, workdir):
    pair = Pair(rsexec, rsexecd, workdir, "foreign-data-550", "dst")
    try:
        pair.copy()
    finally:
        pair.stop()
    check(pair.code == 0, "a 550 refusing rsexecd's address was not taken as a pairing refusal: " + pair.context())
    check(pair.copied(), "g.bin is not the source's bytes: " + pair.context())
    check("Remote addresses do not match" in pair.stderr, "-v does not name the refusal: " + pair.context())


def case_address_after_150(rsexec, rsexecd, workdir):
    for side in ("dst", "src"):
        scratch = os.path.join(workdir, side)
        os.makedirs(scratch)
        pair = Pair(rsexec, rsexecd, scratch, "foreign-data-after-150", side)
        try:
            # The classification alone: a relay (the default) would go on through rsexec.
            pair.copy("--relay", "never")
        finally:
            pair.stop()
        print("  scripted as %s: exit %d in %.1f s: %s" % (side, pair.code, pair.elapsed, pair.message[:200]))
        check(pair.code == PAIRING_REFUSED, "scripted as %s: expected exit %d: %s" % (side, PAIRING_REFUSED, pair.context()))
        check(pair.message.startswith("rsexec: the servers refused every way to pair them"),
              "scripted as %s: %s" % (side, pair.context()))
        check("Rejected data connection from foreign address" in pair.message,
              "scripted as %s: the 425 is not among the refusals: %s" % (side, pair.context()))
        check(not os.path.exists(os.path.join(pair.target_root, "g.bin")),
              "scripted as %s: a file under the final name: %s" % (side, pair.context()))


CASES = {"sticky-pasv": case_sticky_pasv, "address-550": case_address_550, "address-after-150": case_address_after_150}


def main(argv):
    if len(argv) != 4 or argv[3] not in CASES:
        print(__doc__)
        return 2
    rsexec, rsexecd, name = argv[1:]
    with tempfile.TemporaryDirectory(prefix="rsexec-pairing-") as workdir:
        try:
            CASES[name](rsexec, rsexecd, workdir)
        except AssertionError as failure:
            print("%s: FAILED: %s" % (name, failure))
            return 1
    print("%s: ok" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
