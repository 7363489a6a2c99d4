#!/usr/bin/python3
"""rsexec ls, patterns in copy's sources, several sources, copy -r and --mkdirs, against rsexecd.

    test_ls.py RSEXEC RSEXECD GROUP

GROUP is one of:
  ls        names, -l, -l -h (IEC sizes), --json, -R with paths, -R over a relative symlink loop
            (listed, never entered), a pattern, and the exit codes: bad URL 2, bad pattern 2,
            login 4, not found 5
  globs     copy 'dir/*.txt' into a directory (hidden files and other names left alone, the pattern
            never sent), ?, [...], [!...], a backslash escape, several sources, a pattern matching
            nothing (exit 5, naming it), a bad pattern (exit 2), several sources into a file or a
            missing directory (exit 2) and into one --mkdirs makes, directories left out without -r
  recursive copy -r of a tree with a relative symlink loop into a missing directory (made by
            default), a second run that copies nothing, a pattern with -r, --no-mkdirs refusing a
            missing parent, a single copy with --mkdirs into a missing path; mirror making a missing
            destination's parents, and not with --no-mkdirs
Every rsexecd listens on 127.0.23.x, addresses no other test uses.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402

USAGE, LOGIN, SOURCE, DESTINATION, PARTIAL = 2, 4, 5, 6, 11
FXP = ["--fxp-peers", "127.0.0.0/8", "--login-delay", "0"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def rsexec_run(rsexec, args, timeout=60):
    result = subprocess.run([rsexec] + args, capture_output=True, text=True, errors="replace", timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output of %s" % args[:2])
    return result


def expect(result, code, label):
    check(result.returncode == code, "%s: exit %d, not %d\nstdout: %s\nstderr: %s"
          % (label, result.returncode, code, result.stdout[-1500:], result.stderr[-1500:]))


def url(server, path="", password=PASSWORD):
    return "ftp://%s:%s@%s:%d/%s" % (USER, password, server.address, server.port, path)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_tree(root):
    write(os.path.join(root, "tree", "a.txt"), b"a" * 500)
    write(os.path.join(root, "tree", "b.txt"), b"b" * 1536)
    write(os.path.join(root, "tree", "c.bin"), b"c" * (3 * 1024 * 1024))
    write(os.path.join(root, "tree", ".hidden.txt"), b"h")
    write(os.path.join(root, "tree", "star*.txt"), b"star")
    write(os.path.join(root, "tree", "sub", "d.txt"), b"d" * 10)
    write(os.path.join(root, "tree", "sub", "deeper", "e.txt"), b"e" * 20)
    # A loop rsexecd's jail allows: a relative link to the directory holding it.
    os.symlink("..", os.path.join(root, "tree", "sub", "up"))
    os.symlink(".", os.path.join(root, "tree", "self"))


def group_ls(rsexec, rsexecd):
    with RsexecdServer(rsexecd, "127.0.23.1", extra_args=FXP) as server:
        make_tree(server.root)
        names = rsexec_run(rsexec, ["ls", url(server, "tree")])
        expect(names, 0, "ls")
        check(names.stdout.splitlines() == ["a.txt", "b.txt", "c.bin", "self", "star*.txt", "sub"]
              or names.stdout.splitlines() == [".hidden.txt", "a.txt", "b.txt", "c.bin", "self", "star*.txt", "sub"],
              "ls: names %r" % names.stdout.splitlines())
        print("ok: ls prints the names in order")

        long = rsexec_run(rsexec, ["ls", "-l", url(server, "tree")])
        expect(long, 0, "ls -l")
        lines = {l.split()[-1]: l for l in long.stdout.splitlines()}
        check(re.match(r"^- +1536 \d{4}-\d\d-\d\d \d\d:\d\d b\.txt$", lines.get("b.txt", "")), "ls -l: %r" % long.stdout)
        check(lines.get("sub", "").startswith("d "), "ls -l: sub not a directory: %r" % long.stdout)
        check(lines.get("self", "").startswith("l "), "ls -l: self not a link: %r" % long.stdout)
        human = rsexec_run(rsexec, ["ls", "-l", "-h", url(server, "tree")])
        expect(human, 0, "ls -l -h")
        for name, size in (("a.txt", "500 B"), ("b.txt", "1.5 KiB"), ("c.bin", "3.0 MiB")):
            check(re.search(r" %s \d{4}-.* %s$" % (re.escape(size), re.escape(name)), human.stdout, re.M),
                  "ls -l -h: %s not shown as %s:\n%s" % (name, size, human.stdout))
        print("ok: ls -l and -l -h (500 B, 1.5 KiB, 3.0 MiB)")

        as_json = rsexec_run(rsexec, ["ls", "--json", url(server, "tree")])
        expect(as_json, 0, "ls --json")
        objects = [json.loads(l) for l in as_json.stdout.splitlines()]
        by_name = {o["name"]: o for o in objects}
        check(set(objects[0]) == {"name", "type", "size", "modify"}, "ls --json: fields %r" % objects[0])
        check(by_name["b.txt"]["type"] == "file" and by_name["b.txt"]["size"] == 1536, "ls --json b.txt: %r" % by_name)
        check(by_name["sub"]["type"] == "dir" and by_name["self"]["type"] == "symlink", "ls --json types: %r" % by_name)
        check(re.match(r"^\d{14}", by_name["a.txt"]["modify"] or ""), "ls --json modify: %r" % by_name["a.txt"])
        print("ok: ls --json, one object per entry")

        walk = rsexec_run(rsexec, ["ls", "-R", url(server, "tree")])
        expect(walk, 0, "ls -R over a symlink loop")
        paths = walk.stdout.splitlines()
        for path in ("sub/d.txt", "sub/deeper/e.txt", "sub/up", "self"):
            check(path in paths, "ls -R: %s missing from %r" % (path, paths))
        check(not any(p.startswith(("self/", "sub/up/")) for p in paths), "ls -R entered a symlink: %r" % paths)
        check(paths.index("sub") < paths.index("sub/d.txt"), "ls -R: a directory after its contents: %r" % paths)
        rjson = rsexec_run(rsexec, ["ls", "-R", "--json", url(server, "tree")])
        expect(rjson, 0, "ls -R --json")
        rpaths = {json.loads(l)["path"] for l in rjson.stdout.splitlines()}
        check("sub/deeper/e.txt" in rpaths, "ls -R --json paths: %r" % rpaths)
        print("ok: ls -R lists the tree once, symlinks listed and not entered (a loop ends)")

        pattern = rsexec_run(rsexec, ["ls", url(server, "tree/*.txt")])
        expect(pattern, 0, "ls pattern")
        check(pattern.stdout.splitlines() == ["a.txt", "b.txt", "star*.txt"], "ls pattern: %r" % pattern.stdout)
        escaped = rsexec_run(rsexec, ["ls", url(server, "tree/star\\*.txt")])
        expect(escaped, 0, "ls escaped pattern")
        check(escaped.stdout.splitlines() == ["star*.txt"], "ls escaped: %r" % escaped.stdout)
        print("ok: ls with a pattern, and with an escaped star")

        expect(rsexec_run(rsexec, ["ls", "ftp://[::1"]), USAGE, "ls bad URL")
        bad = rsexec_run(rsexec, ["ls", url(server, "tree/[abc")])
        expect(bad, USAGE, "ls bad pattern")
        check("[abc" in bad.stderr, "ls bad pattern not named: %r" % bad.stderr)
        expect(rsexec_run(rsexec, ["ls", url(server, "tree", password="wrong")]), LOGIN, "ls bad password")
        missing = rsexec_run(rsexec, ["ls", url(server, "no-such-dir")])
        expect(missing, SOURCE, "ls missing directory")
        nothing = rsexec_run(rsexec, ["ls", url(server, "tree/*.zip")])
        expect(nothing, SOURCE, "ls pattern matching nothing")
        check("*.zip" in nothing.stderr, "ls: the pattern is not named: %r" % nothing.stderr)
        expect(rsexec_run(rsexec, ["ls", "--timeout", "abc", url(server)]), USAGE, "ls --timeout abc")
        expect(rsexec_run(rsexec, ["ls"]), USAGE, "ls without URL")
        print("ok: ls exit codes: bad URL 2, bad pattern 2, login 4, not found 5, no match 5")


def group_globs(rsexec, rsexecd):
    with RsexecdServer(rsexecd, "127.0.23.2", extra_args=FXP) as src, \
            RsexecdServer(rsexecd, "127.0.23.3", extra_args=FXP) as dst:
        make_tree(src.root)
        os.makedirs(dst.path("in"))
        done = rsexec_run(rsexec, ["copy", url(src, "tree/*.txt"), url(dst, "in")])
        expect(done, 0, "copy *.txt")
        check(sorted(os.listdir(dst.path("in"))) == ["a.txt", "b.txt", "star*.txt"],
              "copy *.txt: %r" % os.listdir(dst.path("in")))
        check(read(dst.path("in", "b.txt")) == read(src.path("tree", "b.txt")), "copy *.txt: b.txt differs")
        check(re.search(r"> MLSD tree$", src.log(), re.M), "the directory was not listed:\n%s" % src.log()[-2000:])
        check("tree/*.txt" not in src.log(), "the pattern reached the server:\n%s" % src.log()[-2000:])
        print("ok: copy 'tree/*.txt' dir: three files, hidden ones left, the pattern never sent")

        cases = [("tree/?.txt", ["a.txt", "b.txt"]), ("tree/[ab].txt", ["a.txt", "b.txt"]),
                 ("tree/[!a].txt", ["b.txt"]), ("tree/star\\*.txt", ["star*.txt"]), ("tree/c.*", ["c.bin"])]
        for index, (pattern, expected) in enumerate(cases):
            target = "p%d" % index
            os.makedirs(dst.path(target))
            result = rsexec_run(rsexec, ["copy", url(src, pattern), url(dst, target + "/")])
            expect(result, 0, "copy %s" % pattern)
            check(sorted(os.listdir(dst.path(target))) == expected,
                  "copy %s: %r, not %r" % (pattern, sorted(os.listdir(dst.path(target))), expected))
        print("ok: ?, [...], [!...], a backslash escape and a suffix pattern")

        os.makedirs(dst.path("several"))
        several = rsexec_run(rsexec, ["copy", url(src, "tree/a.txt"), url(src, "tree/sub/d.txt"), url(src, "tree/c.*"),
                                      url(dst, "several")])
        expect(several, 0, "several sources")
        check(sorted(os.listdir(dst.path("several"))) == ["a.txt", "c.bin", "d.txt"],
              "several sources: %r" % os.listdir(dst.path("several")))
        print("ok: several sources, one a pattern, into a directory")

        nothing = rsexec_run(rsexec, ["copy", url(src, "tree/*.zip"), url(dst, "in")])
        expect(nothing, SOURCE, "a pattern matching nothing")
        check("*.zip" in nothing.stderr, "no match: the pattern is not named: %r" % nothing.stderr)
        bad = rsexec_run(rsexec, ["copy", url(src, "tree/[b-a]*"), url(dst, "in")])
        expect(bad, USAGE, "a bad pattern")
        check("[b-a]*" in bad.stderr, "bad pattern not named: %r" % bad.stderr)
        for trailing in ("tree/*x\\", "tree/[!"):
            expect(rsexec_run(rsexec, ["copy", url(src, trailing), url(dst, "in")]), USAGE, "bad pattern %s" % trailing)
        print("ok: no match is exit 5 naming the pattern; bad patterns are exit 2")

        write(dst.path("a-file"), b"x")
        into_file = rsexec_run(rsexec, ["copy", url(src, "tree/a.txt"), url(src, "tree/b.txt"), url(dst, "a-file")])
        expect(into_file, USAGE, "several sources into a file")
        check(read(dst.path("a-file")) == b"x", "several sources into a file: the file changed")
        expect(rsexec_run(rsexec, ["copy", url(src, "tree/*.txt"), url(dst, "missing/")]), USAGE,
               "a pattern into a missing directory")
        check(not os.path.exists(dst.path("missing")), "a missing directory was made without --mkdirs")
        made = rsexec_run(rsexec, ["copy", "--mkdirs", url(src, "tree/*.txt"), url(dst, "made/x/y")])
        expect(made, 0, "--mkdirs with a pattern")
        check(sorted(os.listdir(dst.path("made", "x", "y"))) == ["a.txt", "b.txt", "star*.txt"],
              "--mkdirs: %r" % os.listdir(dst.path("made", "x", "y")))
        print("ok: several sources into a file or a missing directory: exit 2; --mkdirs makes it, parents first")

        os.makedirs(dst.path("nodirs"))
        all_names = rsexec_run(rsexec, ["copy", url(src, "tree/s*"), url(dst, "nodirs")])
        expect(all_names, 0, "a pattern matching a directory without -r")
        check("omitting directory tree/sub" in all_names.stderr, "no note for the directory: %r" % all_names.stderr)
        check("omitting symbolic link tree/self" in all_names.stderr, "no note for the link: %r" % all_names.stderr)
        check(sorted(os.listdir(dst.path("nodirs"))) == ["star*.txt"], "-r-less: %r" % os.listdir(dst.path("nodirs")))
        only_dirs = rsexec_run(rsexec, ["copy", url(src, "tree/su?"), url(dst, "nodirs")])
        expect(only_dirs, SOURCE, "a pattern matching only directories without -r")
        expect(rsexec_run(rsexec, ["copy", "--append", url(src, "tree/*.txt"), url(dst, "in")]), USAGE,
               "--append with a pattern")
        expect(rsexec_run(rsexec, ["copy", "--mkdirs", "--no-mkdirs", url(src, "tree/a.txt"), url(dst, "in/")]), USAGE,
               "--mkdirs --no-mkdirs")
        print("ok: directories without -r and symbolic links left out (said on stderr); option conflicts exit 2")


def group_recursive(rsexec, rsexecd):
    with RsexecdServer(rsexecd, "127.0.23.4", extra_args=FXP) as src, \
            RsexecdServer(rsexecd, "127.0.23.5", extra_args=FXP) as dst:
        make_tree(src.root)
        first = rsexec_run(rsexec, ["copy", "-r", url(src, "tree"), url(dst, "backup/tree")])
        expect(first, 0, "copy -r into a missing directory")
        for rel in ("a.txt", "b.txt", "c.bin", "star*.txt", ".hidden.txt", "sub/d.txt", "sub/deeper/e.txt"):
            check(os.path.isfile(dst.path("backup", "tree", rel)) and
                  read(dst.path("backup", "tree", rel)) == read(src.path("tree", rel)), "copy -r: %s missing or different" % rel)
        check(not os.path.exists(dst.path("backup", "tree", "self")) and not os.path.exists(dst.path("backup", "tree", "sub", "up")),
              "copy -r followed a symlink")
        print("ok: copy -r: the tree, hidden files included, symlinks not followed, missing parents made")

        # backup/tree exists now: as with cp -r, the same tree goes into its parent to land there again.
        second = rsexec_run(rsexec, ["copy", "-r", url(src, "tree"), url(dst, "backup")])
        expect(second, 0, "copy -r again")
        check("nothing to copy" in second.stdout, "copy -r again copied: %r" % second.stdout)
        # Into an existing directory the tree goes under its own name, as with cp -r.
        third = rsexec_run(rsexec, ["copy", "-r", url(src, "tree/sub"), url(dst, "backup")])
        expect(third, 0, "copy -r into an existing directory")
        check(os.path.isfile(dst.path("backup", "sub", "deeper", "e.txt")), "copy -r into a directory: no backup/sub")
        write(dst.path("backup", "tree", "extra.txt"), b"keep")
        expect(rsexec_run(rsexec, ["copy", "-r", url(src, "tree"), url(dst, "backup")]), 0, "copy -r with an extra file")
        check(not os.path.exists(dst.path("backup", "tree", "tree")), "copy -r made backup/tree/tree")
        check(os.path.exists(dst.path("backup", "tree", "extra.txt")), "copy -r deleted a destination file")
        print("ok: a second copy -r copies nothing; into a directory under its own name; nothing deleted")

        os.makedirs(dst.path("globbed"))
        globbed = rsexec_run(rsexec, ["copy", "-r", url(src, "tree/s*"), url(dst, "globbed")])
        expect(globbed, 0, "copy -r with a pattern")
        check(os.path.isfile(dst.path("globbed", "sub", "deeper", "e.txt")) and
              os.path.isfile(dst.path("globbed", "star*.txt")), "copy -r pattern: %r" % os.listdir(dst.path("globbed")))
        print("ok: copy -r with a pattern copies matching files and trees")

        refused = rsexec_run(rsexec, ["copy", "-r", "--no-mkdirs", url(src, "tree"), url(dst, "nowhere/deep/tree")])
        check(refused.returncode in (SOURCE, DESTINATION), "--no-mkdirs: exit %d: %s" % (refused.returncode, refused.stderr))
        check(not os.path.exists(dst.path("nowhere")), "--no-mkdirs made a directory")
        single = rsexec_run(rsexec, ["copy", "--mkdirs", url(src, "tree/a.txt"), url(dst, "one/two/a.txt")])
        expect(single, 0, "copy --mkdirs of one file")
        check(read(dst.path("one", "two", "a.txt")) == read(src.path("tree", "a.txt")), "copy --mkdirs: the copy differs")
        plain = rsexec_run(rsexec, ["copy", url(src, "tree/a.txt"), url(dst, "three/four/a.txt")])
        check(plain.returncode == DESTINATION, "copy without --mkdirs into a missing directory: exit %d" % plain.returncode)
        nested = rsexec_run(rsexec, ["copy", "-r", url(src, "tree"), url(src, "tree/sub/inside")])
        expect(nested, USAGE, "copy -r into its own tree")
        print("ok: --no-mkdirs refuses a missing parent; --mkdirs for one file; a tree into itself is exit 2")

        mirrored = rsexec_run(rsexec, ["mirror", "--no-journal", url(src, "tree/sub"), url(dst, "m1/m2/sub")])
        expect(mirrored, 0, "mirror into a missing path")
        check(os.path.isfile(dst.path("m1", "m2", "sub", "deeper", "e.txt")), "mirror: the missing parents were not made")
        unmade = rsexec_run(rsexec, ["mirror", "--no-journal", "--no-mkdirs", url(src, "tree/sub"), url(dst, "m3/m4/sub")])
        check(unmade.returncode != 0, "mirror --no-mkdirs into a missing path: exit 0")
        check(not os.path.exists(dst.path("m3")), "mirror --no-mkdirs made a directory")
        print("ok: mirror makes a destination's missing parents; --no-mkdirs does not")


GROUPS = {"ls": group_ls, "globs": group_globs, "recursive": group_recursive}

if __name__ == "__main__":
    rsexec_path, rsexecd_path, group = sys.argv[1], sys.argv[2], sys.argv[3]
    if group not in GROUPS:
        raise SystemExit("unknown group %r (one of %s)" % (group, ", ".join(GROUPS)))
    GROUPS[group](os.path.abspath(rsexec_path), os.path.abspath(rsexecd_path))
    print("%s: all checks passed" % group)
