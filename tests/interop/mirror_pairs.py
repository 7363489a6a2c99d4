#!/usr/bin/python3
"""rsexec mirror between two real vsftpd (no MLST, no block mode) works with -j pairs, pipelined.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/mirror_pairs.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--net 127.0.23]

A tree of FILES files of 4 KiB (a subdirectory too) is mirrored with `-j 4 --json`, then again
into another directory with `-j auto`. Counted from the destination vsftpd's own log (one process
per session, "[pid N]" on each command):
  - the files are stored by several sessions: the mirror's copies go to the batch engine's pairs
    as a batch's do (-j 4: at least 3 of the 4 sessions store files; -j auto: at least 2),
    never all by the one session that listed the trees;
  - a copy costs no probe of its destination: the mirror's listing says what is there, so no
    CWD/PWD per file (cp's "is it a directory?" question) and at most one SIZE per file;
  - the summary's logins agree (more than the listing's one pair), and every file arrives whole.
Counts, not times: the machine may be loaded. Every server is stopped by pid at the end.
"""

import collections
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import Peer, run_every_kind  # noqa: E402

HARD_LIMIT = 120
FILES = 120  # 100 at the top, 20 in sub/
COMMAND = re.compile(r'\[pid (\d+)\] \[[^]]*\] FTP command: Client "[^"]*", "([A-Z]+) ?([^"]*)"')


def summary(stdout):
    lines = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
    return lines[-1] if lines and lines[-1].get("event") == "summary" else {}


def commands_into(log, directory):
    """(pid, verb, argument) of every command the destination's log holds about `directory`."""
    out = []
    for pid, verb, argument in COMMAND.findall(log):
        if argument.startswith(directory + "/") or argument == directory:
            out.append((pid, verb, argument))
    return out


def check_run(args, src, dst, jobs, into, least_sessions, names):
    problems = []
    try:
        done = subprocess.run([args.rsexec, "mirror", "-j", jobs, "--json", "--timeout", "20", src.url("tree/"),
                               dst.url(into + "/")], capture_output=True, text=True, timeout=HARD_LIMIT)
    except subprocess.TimeoutExpired:
        return ["-j %s: mirror still running after %d s" % (jobs, HARD_LIMIT)]
    result = summary(done.stdout)
    if done.returncode != 0 or result.get("done") != FILES:
        return ["-j %s: exit %d, summary %s: %s" % (jobs, done.returncode, result, done.stderr[-800:])]
    for name in names:
        with open(src.path("tree/" + name), "rb") as a, open(dst.path(into + "/" + name), "rb") as b:
            if a.read() != b.read():
                problems.append("-j %s: %s differs" % (jobs, name))
    commands = commands_into(dst.log(), into)
    storing = collections.Counter(pid for pid, verb, _ in commands if verb == "STOR")
    if sum(storing.values()) != FILES:
        problems.append("-j %s: %d STORs in the destination's log for %d files" % (
            jobs, sum(storing.values()), FILES))
    if len(storing) < least_sessions:
        problems.append("-j %s: the files were stored by %d session(s) %s, not by at least %d" % (
            jobs, len(storing), dict(storing), least_sessions))
    verbs = collections.Counter(verb for _, verb, _ in commands)
    if verbs["CWD"] or verbs["PWD"]:
        problems.append("-j %s: the destination was probed per file: %d CWD, %d PWD" % (
            jobs, verbs["CWD"], verbs["PWD"]))
    if verbs["SIZE"] > FILES:
        problems.append("-j %s: %d SIZE at the destination for %d files" % (jobs, verbs["SIZE"], FILES))
    if result.get("logins", 0) <= 2:
        problems.append("-j %s: the summary counts %s logins: only the listing's pair" % (jobs, result.get("logins")))
    if not problems:
        print("ok   -j %s: %d files stored by %d sessions (%s), %d logins, no CWD/PWD, %d SIZE" % (
            jobs, FILES, len(storing), sorted(storing.values()), result["logins"], verbs["SIZE"]), flush=True)
    return problems


def run_kind(args, kind, index, work):
    src_root, dst_root = os.path.join(work, kind, "src"), os.path.join(work, kind, "dst")
    names = ["f%03d" % i for i in range(100)] + ["sub/g%02d" % i for i in range(20)]
    for name in names:
        path = os.path.join(src_root, "tree", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(4096))
    os.makedirs(dst_root)
    with Peer(kind, "%s.%d" % (args.net, 2 * index + 1), src_root) as src, \
            Peer(kind, "%s.%d" % (args.net, 2 * index + 2), dst_root) as dst:
        problems = check_run(args, src, dst, "4", "fixed", 3, names)
        problems += check_run(args, src, dst, "auto", "auto", 2, names)
    for problem in problems:
        print("FAIL %s: %s" % (kind, problem), flush=True)
    return ["%s: %s" % (kind, p) for p in problems]


def main():
    if "--kinds" not in sys.argv:
        sys.argv += ["--kinds", "vsftpd"]
    return run_every_kind(__doc__.split("\n")[0], "mirror-pairs", "RSEXEC_INTEROP_MIRROR_PAIRS_NET", "127.0.23",
                          run_kind, "every mirror used its pairs, pipelined")


if __name__ == "__main__":
    sys.exit(main())
