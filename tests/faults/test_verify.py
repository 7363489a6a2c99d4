#!/usr/bin/python3
"""--verify checksum between real servers: a copy whose bytes differ from the source's is never
renamed to its final name, and a server pair without a common digest is said so.

    test_verify.py RSEXEC RSEXECD

  - Two rsexecd (HASH SHA-256): a clean copy is verified (the -v trace shows HASH on both sides).
  - A planted partial .NAME.rsexec-part that is no prefix of the source, continued with --resume:
    the size agrees, the SHA-256 does not: exit 9, the temporary file is deleted, the final name
    keeps its old content.
  - rsexecd against hostile_server.py's well-behaved script (FEAT without HASH or X commands):
    --verify checksum with --relay never is exit 9 before any byte moves; allowed to relay, the
    copy goes through rsexec, which hashes the stream; checksum-if-available warns and copies.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402
from hostile_fixture import HostileServer  # noqa: E402


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


VERIFICATION = 9
FXP = ["--fxp-peers", "127.0.0.0/8"]


def url(host, port, path, user=USER, password=PASSWORD):
    return "ftp://%s:%s@%s:%d/%s" % (user, password, host, port, path)


def copy(rsexec, *args):
    return subprocess.run([rsexec, "copy", "-v", "--timeout", "5"] + list(args), capture_output=True, text=True,
                          errors="replace", timeout=60)


def last_message(run):
    lines = [l for l in run.stderr.splitlines() if l.startswith("rsexec: ")]
    return lines[-1] if lines else ""


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    rsexec, rsexecd = argv[1:]
    work = tempfile.mkdtemp(prefix="rsexec-verify-")
    src = RsexecdServer(rsexecd, "127.0.0.8", extra_args=FXP).start()
    dst = RsexecdServer(rsexecd, "127.0.0.9", extra_args=FXP).start()
    plain = None
    try:
        payload = os.urandom(3 * 1024 * 1024)
        with open(src.path("f.bin"), "wb") as f:
            f.write(payload)

        run = copy(rsexec, "--verify", "checksum", url(src.address, src.port, "f.bin"), url(dst.address, dst.port, "ok.bin"))
        check(run.returncode == 0, run.stderr[-1500:])
        check(re.search(r"^src> HASH f\.bin$", run.stderr, re.M) and re.search(r"^dst> HASH \.ok\.bin\.rsexec-part$", run.stderr, re.M), run.stderr[-1500:])
        with open(dst.path("ok.bin"), "rb") as f:
            check(f.read() == payload, 'failed: f.read() == payload')

        # A partial file from "an earlier attempt" that is not the source's first bytes.
        with open(dst.path(".bad.bin.rsexec-part"), "wb") as f:
            f.write(os.urandom(1024 * 1024))
        with open(dst.path("bad.bin"), "wb") as f:
            f.write(b"old content\n")
        run = copy(rsexec, "--resume", "--verify", "checksum", url(src.address, src.port, "f.bin"),
                   url(dst.address, dst.port, "bad.bin"))
        check(run.returncode == VERIFICATION, "exit %d: %s" % (run.returncode, run.stderr[-1500:]))
        check(re.match(r"rsexec: dst: SHA-256 mismatch", last_message(run)), last_message(run))
        check(re.search(r"^src> REST 1048576$", run.stderr, re.M), "the planted partial file was not resumed")
        check(not os.path.exists(dst.path(".bad.bin.rsexec-part")), "the unverified temporary file was kept")
        with open(dst.path("bad.bin"), "rb") as f:
            check(f.read() == b"old content\n", "the final name was replaced by an unverified copy")

        # A destination without any digest command.
        plain = HostileServer("well-behaved", "127.0.0.10", os.path.join(work, "plain"),
                              log=os.path.join(work, "plain.log"), credentials=("any", "any"))
        target = plain.url("p.bin")
        run = copy(rsexec, "--relay", "never", "--verify", "checksum", url(src.address, src.port, "f.bin"), target)
        check(run.returncode == VERIFICATION, "exit %d: %s" % (run.returncode, run.stderr[-1500:]))
        check("no checksum algorithm both servers offer (src: HASH SHA-256; XSHA256; dst: none)" in last_message(run), last_message(run))
        check(not re.search(r"^(src|dst)> (RETR|STOR)", run.stderr, re.M), "bytes moved before the refusal")
        # Allowed to relay (the default), the copy goes through rsexec, which hashes the stream
        # itself and reports that SHA-256.
        run = copy(rsexec, "--verify", "checksum", url(src.address, src.port, "f.bin"), target)
        check(run.returncode == 0, "relayed --verify checksum: exit %d: %s" % (run.returncode, run.stderr[-1500:]))
        check("relayed through rsexec" in run.stdout, "not relayed: %s" % run.stdout[-500:])
        check("SHA-256 of the relayed stream: " in run.stderr, "no stream digest said: %s" % run.stderr[-1500:])
        run = copy(rsexec, "--verify", "checksum-if-available", url(src.address, src.port, "f.bin"), target)
        check(run.returncode == 0, run.stderr[-1500:])
        check("rsexec: warning: no checksum algorithm both servers offer" in run.stderr, run.stderr[-1500:])
        print("ok: verified copy, SHA-256 mismatch refused (exit 9, nothing renamed), no common digest said")
        return 0
    except AssertionError as failure:
        print("FAILED: %s" % failure)
        return 1
    finally:
        if plain:
            plain.stop()
        src.__exit__()
        dst.__exit__()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
