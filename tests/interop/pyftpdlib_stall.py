#!/usr/bin/python3
"""The pyftpdlib end-of-file stall: a batch between two pyftpdlib servers with two workers.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/pyftpdlib_stall.py [--rsexec build/bin/rsexec] [--rounds 3]
        [--net 127.0.12]

pyftpdlib 1.5.7 keeps an active (PORT/EPRT) data connection's connector after handing its socket
over; the session's next data command closes that connector again, and when the kernel has given
the socket's number to another session's socket meanwhile, that socket leaves the event loop: an
EPRT or a passive connection of the other session is never answered (scripts/peers/pyftpd.py,
docs/INTEROP.md). Two workers on the same two servers make that likely within one batch.

Each round copies 40 small files (0 B to 65536 B) with `rsexec batch -j 2 --pipeline P --passive
S --timeout 10`, for P, S in (off, dst), (off, src), (commands, dst). Asserts for every round:
exit 0, every file byte-identical, no retry event (the stall ends only by the 10 s timeout and a
retry) and a wall time under 8 s. Exits 0 when every round passes, 1 otherwise; both servers are
stopped by pid at the end.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import REPO, Peer  # noqa: E402

SIZES = [0, 1, 65535, 65536] + [4096 + i for i in range(36)]
MODES = (("off", "dst"), ("off", "src"), ("commands", "dst"))
ROUND_LIMIT = 8.0    # seconds: without a stall a round takes 1 to 4 s here
HARD_LIMIT = 120


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rsexec", default=os.path.join(REPO, "build", "bin", "rsexec"))
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each mode")
    ap.add_argument("--net", default=os.environ.get("RSEXEC_INTEROP_STALL_NET", "127.0.12"))
    args = ap.parse_args()
    os.environ.setdefault("RSEXEC_PEERS_STATE", tempfile.mkdtemp(prefix="rsexec-peers-stall-"))
    work = tempfile.mkdtemp(prefix="rsexec-interop-stall-")
    os.chmod(work, 0o755)  # pyftpdlib runs as the test user: it must reach its root
    failures, runs = [], 0
    try:
        src_root, dst_root = os.path.join(work, "src"), os.path.join(work, "dst")
        names = ["s%02d.bin" % i for i in range(len(SIZES))]
        os.makedirs(os.path.join(src_root, "set"))
        for name, size in zip(names, SIZES):
            with open(os.path.join(src_root, "set", name), "wb") as f:
                f.write(os.urandom(size))
        outs = ["out-%s-%s-%d" % (p, s, r) for p, s in MODES for r in range(args.rounds)]
        for out in outs:
            os.makedirs(os.path.join(dst_root, out))
        with Peer("pyftpdlib", args.net + ".1", src_root) as src, Peer("pyftpdlib", args.net + ".2", dst_root) as dst:
            for (pipeline, passive) in MODES:
                for r in range(args.rounds):
                    out = "out-%s-%s-%d" % (pipeline, passive, r)
                    label = "--pipeline %s --passive %s, round %d" % (pipeline, passive, r + 1)
                    job = os.path.join(work, out + ".job")
                    with open(job, "w") as f:
                        f.writelines("%s %s\n" % (src.url("set/" + n), dst.url(out + "/")) for n in names)
                    started = time.monotonic()
                    try:
                        done = subprocess.run([args.rsexec, "batch", "-j", "2", "--no-journal", "--json",
                                               "--timeout", "10", "--pipeline", pipeline, "--passive", passive, job],
                                              capture_output=True, text=True, timeout=HARD_LIMIT)
                    except subprocess.TimeoutExpired:
                        failures.append("%s: still running after %d s" % (label, HARD_LIMIT))
                        continue
                    runs += 1
                    seconds = time.monotonic() - started
                    events = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
                    retries = [e for e in events if e.get("event") == "retry"]
                    problems = []
                    if done.returncode != 0:
                        problems.append("exit %d: %s" % (done.returncode, done.stderr[-400:]))
                    if retries:
                        problems.append("%d retries, first: %s (%s)" % (
                            len(retries), retries[0].get("error"), retries[0].get("src", "").rsplit("/", 1)[-1]))
                    if seconds > ROUND_LIMIT:
                        problems.append("%.1f s, over %.0f s" % (seconds, ROUND_LIMIT))
                    for name in names:
                        copy = dst.path(out + "/" + name)
                        if not os.path.exists(copy) or sha256(copy) != sha256(src.path("set/" + name)):
                            problems.append(name + " missing or different")
                            break
                    if problems:
                        failures.append("%s: %s" % (label, "; ".join(problems)))
                    print("%s %s: %.1f s%s" % ("FAIL" if problems else "ok  ", label, seconds,
                                                 ": " + "; ".join(problems) if problems else ""), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if runs == 0 and not failures:
        failures.append("no batch ran")
    print("%d of %d rounds stalled or failed" % (len(failures), len(MODES) * args.rounds))
    for failure in failures:
        print("  " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
