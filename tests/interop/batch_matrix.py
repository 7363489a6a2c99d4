#!/usr/bin/python3
"""rsexec batch with pipelined commands between two real servers of each kind.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/batch_matrix.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--kinds vsftpd,proftpd,pure-ftpd,pyftpdlib,rsexecd]
        [--net 127.0.8]

For each kind, two servers of it (FXP on) and one job of 40 files (0 B, 1 B, 65535 B, 65536 B,
then 4 KiB files, and one file over the pipeline's 16 MiB, which goes one at a time), copied
with each `--pipeline` setting (block, the default; commands; off) and both passive sides.
Asserts for every run: exit 0, every file done and byte-identical at the destination, no
temporary `.rsexec-part` file left, sessions reused (a few logins, not one per file).
Exits 0 when every case passes, 1 otherwise. Every server is stopped by pid at the end.
"""

import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import KINDS, REPO, Peer, run_every_kind  # noqa: E402

HARD_LIMIT = 180
SIZES = [0, 1, 65535, 65536] + [4096 + i for i in range(35)] + [17 * 1024 * 1024]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def left_temporaries(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".rsexec-part")]


def run_kind(args, kind, index, work):
    src_root, dst_root = os.path.join(work, kind, "src"), os.path.join(work, kind, "dst")
    names = ["b%02d.bin" % i for i in range(len(SIZES))]
    os.makedirs(os.path.join(src_root, "set"))
    for name, size in zip(names, SIZES):
        with open(os.path.join(src_root, "set", name), "wb") as f:
            f.write(os.urandom(size))
    # Made before the servers start: peers.sh hands the roots to the servers' user.
    for pipeline in ("block", "commands", "off"):
        for passive in ("dst", "src"):
            os.makedirs(os.path.join(dst_root, "out-%s-%s" % (pipeline, passive)))
    failures = []
    with Peer(kind, "%s.%d" % (args.net, 2 * index + 1), src_root) as src, \
            Peer(kind, "%s.%d" % (args.net, 2 * index + 2), dst_root) as dst:
        for pipeline in ("block", "commands", "off"):
            for passive in ("dst", "src"):
                label = "%s: --pipeline %s --passive %s" % (kind, pipeline, passive)
                out = "out-%s-%s" % (pipeline, passive)
                job = os.path.join(work, kind, out + ".job")
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
                seconds = time.monotonic() - started
                problems = []
                if done.returncode != 0:
                    problems.append("exit %d: %s" % (done.returncode, done.stderr[-600:]))
                summary = json.loads(done.stdout.splitlines()[-1]) if done.stdout.strip() else {}
                if summary.get("done") != len(names):
                    errors = [json.loads(l).get("error") for l in done.stdout.splitlines() if '"error"' in l]
                    problems.append("summary %s; errors %s" % (summary, errors[:3]))
                if summary.get("logins", 99) > 8:
                    problems.append("sessions not reused: %s logins" % summary.get("logins"))
                for name in names:
                    copy = dst.path(out + "/" + name)
                    if not os.path.exists(copy) or sha256(copy) != sha256(src.path("set/" + name)):
                        problems.append(name + " missing or different")
                        break
                left = left_temporaries(dst.path(out))
                if left:
                    problems.append("temporary files left: %s" % left[:3])
                if problems:
                    failures.append("%s: %s" % (label, "; ".join(problems)))
                    print("FAIL %s (%.1f s): %s" % (label, seconds, "; ".join(problems)), flush=True)
                else:
                    print("ok   %s: %d files in %.2f s, %s logins" % (label, len(names), seconds,
                                                                    summary.get("logins")), flush=True)
    return failures


def main():
    return run_every_kind(__doc__.split("\n")[0], "batch", "RSEXEC_INTEROP_BATCH_NET", "127.0.8", run_kind,
                          "every pipelined batch passed")


if __name__ == "__main__":
    sys.exit(main())
