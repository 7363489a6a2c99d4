#!/usr/bin/python3
"""rsexec batch relaying through itself between two real servers of each kind with FXP off.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/relay_batch_matrix.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--kinds vsftpd,proftpd,pure-ftpd,pyftpdlib,rsexecd]
        [--net 127.0.14]

For each kind, two servers of it as shipped (server-to-server transfer off) and one job of 40
files (0 B, 1 B, 65535 B, 65536 B, 4 KiB files, and one over the relay pipeline's 16 MiB, which
goes one at a time), relayed with `--relay always -j 2`: the relay pipeline, which sends commands
behind transfers only to servers known to queue them (vsftpd, rsexecd). Asserts: exit 0, every
file done, relayed and byte-identical at the destination, no temporary `.rsexec-part` file left,
one login a side per worker. Exits 0 when every kind passes, 1 otherwise. Every server is
stopped by pid at the end.
"""

import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import Peer, run_every_kind  # noqa: E402

HARD_LIMIT = 180
SIZES = [0, 1, 65535, 65536] + [4096 + i for i in range(35)] + [17 * 1024 * 1024]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def left_temporaries(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".rsexec-part")]


def run_kind(args, kind, index, work):
    src_root, dst_root = os.path.join(work, kind, "src"), os.path.join(work, kind, "dst")
    names = ["r%02d.bin" % i for i in range(len(SIZES))]
    os.makedirs(os.path.join(src_root, "set"))
    for name, size in zip(names, SIZES):
        with open(os.path.join(src_root, "set", name), "wb") as f:
            f.write(os.urandom(size))
    # Made before the servers start: peers.sh hands the roots to the servers' user.
    os.makedirs(os.path.join(dst_root, "out"))
    label = "%s: --relay always -j 2" % kind
    with Peer(kind, "%s.%d" % (args.net, 2 * index + 1), src_root, fxp=False) as src, \
            Peer(kind, "%s.%d" % (args.net, 2 * index + 2), dst_root, fxp=False) as dst:
        job = os.path.join(work, kind, "relay.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (src.url("set/" + n), dst.url("out/")) for n in names)
        started = time.monotonic()
        try:
            done = subprocess.run([args.rsexec, "batch", "-j", "2", "--no-journal", "--json", "--timeout", "10",
                                   "--relay", "always", job], capture_output=True, text=True, timeout=HARD_LIMIT)
        except subprocess.TimeoutExpired:
            return ["%s: still running after %d s" % (label, HARD_LIMIT)]
        seconds = time.monotonic() - started
        problems = []
        if done.returncode != 0:
            problems.append("exit %d: %s" % (done.returncode, done.stderr[-600:]))
        events = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        summary = events[-1] if events else {}
        finished = [e for e in events if e.get("event") == "done"]
        if summary.get("done") != len(names) or len(finished) != len(names):
            errors = [e.get("error") for e in events if e.get("error")]
            problems.append("summary %s; errors %s" % (summary, errors[:3]))
        if not all(e.get("relay") is True for e in finished):
            problems.append("done events without \"relay\": true")
        if summary.get("logins", 99) > 4:
            problems.append("sessions not reused: %s logins" % summary.get("logins"))
        for name in names:
            copy = dst.path("out/" + name)
            if not os.path.exists(copy) or sha256(copy) != sha256(src.path("set/" + name)):
                problems.append(name + " missing or different")
                break
        left = left_temporaries(dst.path("out"))
        if left:
            problems.append("temporary files left: %s" % left[:3])
    if problems:
        print("FAIL %s (%.1f s): %s" % (label, seconds, "; ".join(problems)), flush=True)
        return ["%s: %s" % (label, "; ".join(problems))]
    print("ok   %s: %d files in %.2f s, %s logins" % (label, len(names), seconds, summary.get("logins")), flush=True)
    return []


def main():
    return run_every_kind(__doc__.split("\n")[0], "relay-batch", "RSEXEC_INTEROP_RELAY_NET", "127.0.14", run_kind,
                          "every relayed batch passed")


if __name__ == "__main__":
    sys.exit(main())
