#!/usr/bin/python3
"""rsexec ls, patterns and copy -r against every interop peer kind.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/ls_matrix.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--kinds vsftpd,proftpd,pure-ftpd,pyftpdlib,rsexecd]
        [--net 127.0.11]

For each kind, two servers of it (FXP on) and a small tree on the first: `ls` (names, -l -h,
--json, -R) must show exactly the tree's entries with their sizes, whichever listing the server
speaks (MLSD, or LIST in its own form); `copy 'set/*.txt'` must copy exactly the matching files
and a pattern matching nothing must exit 5; `copy -r` must copy the
tree byte for byte, and a second run must copy nothing. Exits 0 when every kind passes, 1
otherwise; every server is stopped by pid at the end.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import KINDS, REPO, Peer, run_every_kind  # noqa: E402

RUN_LIMIT = 60
# No dot files: vsftpd and pure-ftpd leave them out of LIST by default, which is theirs to decide.
FILES = {"set/a.txt": 500, "set/b.txt": 1536, "set/c.bin": 3 * 1024 * 1024, "set/sub/d.txt": 10,
         "set/sub/deeper/e.txt": 20}


def run(args, cmd):
    try:
        return subprocess.run([args.rsexec] + cmd + ["--timeout", "10"], capture_output=True, text=True,
                              timeout=RUN_LIMIT)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -1, "", "still running after %d s" % RUN_LIMIT)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_kind(args, kind, index, work):
    src_root, dst_root = os.path.join(work, kind, "src"), os.path.join(work, kind, "dst")
    for rel, size in FILES.items():
        os.makedirs(os.path.dirname(os.path.join(src_root, rel)), exist_ok=True)
        with open(os.path.join(src_root, rel), "wb") as f:
            f.write(os.urandom(size))
    os.makedirs(os.path.join(dst_root, "txt"))
    problems = []
    with Peer(kind, "%s.%d" % (args.net, 2 * index + 1), src_root) as src, \
            Peer(kind, "%s.%d" % (args.net, 2 * index + 2), dst_root) as dst:
        listed = run(args, ["ls", src.url("set")])
        names = set(listed.stdout.splitlines())
        if listed.returncode != 0 or names != {"a.txt", "b.txt", "c.bin", "sub"}:
            problems.append("ls: exit %d, %r %s" % (listed.returncode, sorted(names), listed.stderr[-300:]))
        human = run(args, ["ls", "-l", "-h", src.url("set")])
        for name, size in (("a.txt", "500 B"), ("b.txt", "1.5 KiB"), ("c.bin", "3.0 MiB")):
            if not any(l.endswith(" " + name) and (" %s " % size) in l for l in human.stdout.splitlines()):
                problems.append("ls -l -h: %s not %s: %r" % (name, size, human.stdout[-500:]))
        as_json = run(args, ["ls", "--json", src.url("set")])
        try:
            objects = {o["name"]: o for o in map(json.loads, as_json.stdout.splitlines())}
            if objects.get("b.txt", {}).get("size") != 1536 or objects.get("sub", {}).get("type") != "dir":
                problems.append("ls --json: %r" % objects)
        except ValueError as e:
            problems.append("ls --json: not JSON (%s): %r" % (e, as_json.stdout[-300:]))
        walk = run(args, ["ls", "-R", src.url("set")])
        paths = set(walk.stdout.splitlines())
        want = {"a.txt", "b.txt", "c.bin", "sub", "sub/d.txt", "sub/deeper", "sub/deeper/e.txt"}
        if walk.returncode != 0 or paths != want:
            problems.append("ls -R: exit %d, %r" % (walk.returncode, sorted(paths ^ want)))

        globbed = run(args, ["copy", src.url("set/*.txt"), dst.url("txt")])
        got = sorted(os.listdir(os.path.join(dst_root, "txt")))
        if globbed.returncode != 0 or got != ["a.txt", "b.txt"]:
            problems.append("copy set/*.txt: exit %d, %r %s" % (globbed.returncode, got, globbed.stderr[-300:]))
        nothing = run(args, ["copy", src.url("set/*.zip"), dst.url("txt")])
        if nothing.returncode != 5 or "*.zip" not in nothing.stderr:
            problems.append("copy set/*.zip: exit %d: %s" % (nothing.returncode, nothing.stderr[-300:]))

        tree = run(args, ["copy", "-r", src.url("set"), dst.url("copy/set")])
        if tree.returncode != 0:
            problems.append("copy -r: exit %d: %s" % (tree.returncode, tree.stderr[-400:]))
        for rel in FILES:
            copy = os.path.join(dst_root, "copy", rel)
            if not os.path.isfile(copy) or read(copy) != read(os.path.join(src_root, rel)):
                problems.append("copy -r: %s missing or different" % rel)
                break
        # copy/set exists now: as with cp -r, the tree goes into its parent to land there again.
        again = run(args, ["copy", "-r", src.url("set"), dst.url("copy")])
        if again.returncode != 0 or "nothing to copy" not in again.stdout:
            problems.append("copy -r again: exit %d: %r" % (again.returncode, again.stdout[-300:]))
    return ["%s: %s" % (kind, p) for p in problems]


def checked_kind(args, kind, index, work):
    found = check_kind(args, kind, index, work)
    print("%s %s" % ("FAIL" if found else "ok  ", kind), flush=True)
    return found


def main():
    return run_every_kind(__doc__.split("\n")[0], "ls", "RSEXEC_INTEROP_LS_NET", "127.0.11", checked_kind,
                          "ls, patterns and copy -r passed on every kind")


if __name__ == "__main__":
    sys.exit(main())
