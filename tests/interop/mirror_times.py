#!/usr/bin/python3
"""rsexec mirror run twice between two real servers of each kind: the second run copies nothing.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/mirror_times.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--kinds vsftpd,proftpd,pure-ftpd,pyftpdlib,rsexecd]
        [--net 127.0.9]

For each kind, two servers of it (FXP on) and a tree of files dated in the past (a subdirectory,
an empty file, a name with a space). `rsexec mirror -v --json` runs twice:
  - where the destination's FEAT lists MFMT (all but vsftpd), every copy gets its source's time
    (MDTM there, MFMT here), to the second;
  - where it does not (vsftpd), the copies keep the time they were written at, later than their
    source's, -v says once that times are not kept, and the mirror still succeeds;
  - either way the second run copies nothing: mirror's test (size, then newer at the source) finds
    every file up to date, and every copy at the destination is the same file (inode, time).
Exits 0 when every kind passes, 1 otherwise. Every server is stopped by pid at the end.
"""

import calendar
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import KINDS, REPO, Peer, run_every_kind  # noqa: E402

HARD_LIMIT = 120
TREE = {  # name: (time, size)
    "top.txt": ("20200101000000", 1000),
    "sub/one.bin": ("20191231235959", 70000),
    "sub/deeper/two.bin": ("20010909014640", 1),
    "sub/a name.txt": ("20150630120000", 333),
    "empty.bin": ("20220202020202", 0),
}
NO_MFMT = ("vsftpd",)


def utc(text):
    return calendar.timegm(time.strptime(text, "%Y%m%d%H%M%S"))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def summary(stdout):
    lines = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
    return lines[-1] if lines and lines[-1].get("event") == "summary" else {}


def mirror(args, src, dst):
    return subprocess.run([args.rsexec, "mirror", "-v", "--json", "--timeout", "10", src.url("tree/"),
                           dst.url("copy/")], capture_output=True, text=True, timeout=HARD_LIMIT)


def run_kind(args, kind, index, work):
    src_root, dst_root = os.path.join(work, kind, "src"), os.path.join(work, kind, "dst")
    for name, (stamp, size) in TREE.items():
        path = os.path.join(src_root, "tree", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        os.utime(path, (utc(stamp), utc(stamp)))
    os.makedirs(dst_root)
    problems = []
    with Peer(kind, "%s.%d" % (args.net, 2 * index + 1), src_root) as src, \
            Peer(kind, "%s.%d" % (args.net, 2 * index + 2), dst_root) as dst:
        started = time.time()
        try:
            first = mirror(args, src, dst)
        except subprocess.TimeoutExpired:
            return ["%s: first mirror still running after %d s" % (kind, HARD_LIMIT)]
        if first.returncode != 0 or summary(first.stdout).get("done") != len(TREE):
            problems.append("first mirror: exit %d, summary %s: %s" % (first.returncode, summary(first.stdout),
                                                                      first.stderr[-800:]))
        said = len(re.findall(r"^rsexec: dst \S+ offers no MFMT \(FEAT\): modification times are not kept$",
                              first.stderr, re.M))
        for name, (stamp, _) in TREE.items():
            copy = dst.path("copy/" + name)
            if not os.path.exists(copy) or sha256(copy) != sha256(src.path("tree/" + name)):
                problems.append(name + " missing or different")
                continue
            kept = int(os.stat(copy).st_mtime)
            if kind in NO_MFMT:
                # The copy is dated when it was written: after the source, so it is not "newer".
                if kept < int(started) - 1:
                    problems.append("%s: the copy's time %d is before the copy began (%d)" % (name, kept, started))
            elif kept != utc(stamp):
                problems.append("%s: the copy has %s, the source %s" % (
                    name, time.strftime("%Y%m%d%H%M%S", time.gmtime(kept)), stamp))
        if kind in NO_MFMT and said != 1:
            problems.append("-v said %d times that times are not kept, not once" % said)
        if kind not in NO_MFMT and said != 0:
            problems.append("-v said times are not kept, though the destination offers MFMT")
        # A copy made again would be a new file (a new inode after the rename) with a new time.
        before = {name: (os.stat(dst.path("copy/" + name)).st_ino, os.stat(dst.path("copy/" + name)).st_mtime_ns)
                  for name in TREE if os.path.exists(dst.path("copy/" + name))}
        try:
            second = mirror(args, src, dst)
        except subprocess.TimeoutExpired:
            return problems + ["%s: second mirror still running after %d s" % (kind, HARD_LIMIT)]
        if second.returncode != 0 or summary(second.stdout).get("done") != 0:
            problems.append("second mirror: exit %d, summary %s, events %s" % (
                second.returncode, summary(second.stdout),
                [json.loads(l).get("src") for l in second.stdout.splitlines() if '"start"' in l][:5]))
        after = {name: (os.stat(dst.path("copy/" + name)).st_ino, os.stat(dst.path("copy/" + name)).st_mtime_ns)
                 for name in TREE if os.path.exists(dst.path("copy/" + name))}
        if after != before:
            problems.append("the second mirror wrote %s" % sorted(n for n in after if after[n] != before.get(n)))
    if problems:
        print("FAIL %s: %s" % (kind, "; ".join(problems)), flush=True)
    else:
        print("ok   %s: %d files mirrored%s, the second run copied nothing" % (
            kind, len(TREE), " (times not kept: no MFMT, said once)" if kind in NO_MFMT else " with their times"),
            flush=True)
    return ["%s: %s" % (kind, p) for p in problems]


def main():
    return run_every_kind(__doc__.split("\n")[0], "times", "RSEXEC_INTEROP_TIMES_NET", "127.0.9", run_kind,
                          "every second mirror copied nothing")


if __name__ == "__main__":
    sys.exit(main())
