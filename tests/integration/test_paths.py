#!/usr/bin/python3
"""Documented paths no other test walks: IPv6, anonymous rw, --verify none, a readable .netrc,
mirror's --size-only and --only-newer, batch --check on a good job file.

    test_paths.py RSEXEC RSEXECD GROUP

GROUP is one of:
  ipv6        two rsexecd on [::1] (--bind ::1, distinct ports): copy with --dialect epsv (EPSV and
              EPRT with |2|), and rfc438 (LSTN's and SOCK's |2| sockets); byte-identical copies
  anonymous   rsexecd --anonymous rw takes an anonymous STOR; --anonymous ro refuses it (550)
  options     --verify none against a source whose SIZE lies (the copy keeps what came, exit 0);
              a group-readable ~/.netrc is ignored with a warning, a private one is used;
              mirror --size-only / --only-newer; batch --check on a good job file
"""

import ftplib
import io
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer  # noqa: E402

LOGIN, USAGE = 4, 2


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def rsexec_run(rsexec, args, env=None, timeout=60):
    result = subprocess.run([rsexec] + args, capture_output=True, text=True, errors="replace", timeout=timeout,
                            env=env)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def url(server, path, host=None, credentials=True):
    host = host or server.address
    if ":" in host:
        host = "[%s]" % host
    login = "%s:%s@" % (USER, PASSWORD) if credentials else ""
    return "ftp://%s%s:%d/%s" % (login, host, server.port, path)


def content(path):
    with open(path, "rb") as f:
        return f.read()


def group_ipv6(rsexec, rsexecd, work):
    args = ["--fxp-peers", "::1/128"]
    with RsexecdServer(rsexecd, "::1", extra_args=args) as src, RsexecdServer(rsexecd, "::1", extra_args=args) as dst:
        check(src.port != dst.port, "two servers on ::1 share port %d" % src.port)
        payload = os.urandom(700 * 1024)
        with open(src.path("six.bin"), "wb") as f:
            f.write(payload)
        for dialect, patterns in (("epsv", [r"^(src|dst)> EPSV$", r"^(src|dst)> EPRT \|2\|::1\|\d+\|$"]),
                                  ("rfc438", [r"^(src|dst)> LSTN( R)?$", r"^(src|dst)< 255 SOCK \|2\|::1\|\d+\|$", r"^(src|dst)> SOCK \|2\|::1\|\d+\|$"])):
            target = "six-%s.bin" % dialect
            result = rsexec_run(rsexec, ["copy", "-v", "--timeout", "10", "--dialect", dialect,
                                         url(src, "six.bin"), url(dst, target)])
            check(result.returncode == 0, "ipv6 %s: exit %d: %s" % (dialect, result.returncode, result.stderr[-1500:]))
            for pattern in patterns:
                check(re.search(pattern, result.stderr, re.M),
                      "ipv6 %s: no line matching %r in the trace:\n%s" % (dialect, pattern, result.stderr[-2500:]))
            check(content(dst.path(target)) == payload, "ipv6 %s: the copy differs" % dialect)
            check(not re.search(r"^(src|dst)> (PASV|PORT)\b", result.stderr, re.M),
                  "ipv6 %s: IPv4-only PASV/PORT sent" % dialect)
            print("ok: [::1] copy with %s, |2| addresses in the trace" % dialect)


def group_anonymous(rsexec, rsexecd, work):
    for mode, may_store in (("rw", True), ("ro", False)):
        with RsexecdServer(rsexecd, "127.0.0.71", extra_args=["--anonymous", mode]) as server:
            with open(server.path("readme.txt"), "wb") as f:
                f.write(b"public\n")
            ftp = ftplib.FTP()
            ftp.connect(server.address, server.port, timeout=10)
            try:
                ftp.login()  # anonymous
                got = io.BytesIO()
                ftp.retrbinary("RETR readme.txt", got.write)
                check(got.getvalue() == b"public\n", "--anonymous %s: RETR gave %r" % (mode, got.getvalue()))
                try:
                    ftp.storbinary("STOR upload.txt", io.BytesIO(b"from anonymous\n"))
                    stored, reply = True, ""
                except ftplib.error_perm as error:
                    stored, reply = False, str(error)
            finally:
                ftp.close()
            check(stored == may_store, "--anonymous %s: STOR %s (%s)" % (mode, "accepted" if stored else "refused", reply))
            if may_store:
                check(content(server.path("upload.txt")) == b"from anonymous\n", "--anonymous rw: the upload differs")
            else:
                check(reply.startswith("550") or reply.startswith("553"), "--anonymous ro: STOR refused with %r" % reply)
                check(not os.path.exists(server.path("upload.txt")), "--anonymous ro: a file was written")
            print("ok: --anonymous %s: anonymous STOR %s" % (mode, "accepted" if stored else "refused: " + reply))


def group_options(rsexec, rsexecd, work):
    from test_retry import ScriptedSource, temporaries
    fxp = ["--fxp-peers", "127.0.0.0/8"]
    # --verify none: the size check is off, so a source whose SIZE lies is copied as it came.
    with RsexecdServer(rsexecd, "127.0.0.72", extra_args=fxp) as dst:
        source = ScriptedSource(os.path.join(work, "liar"), "size-liar")
        try:
            payload = os.urandom(200 * 1024)
            with open(os.path.join(source.root, "f.bin"), "wb") as f:
                f.write(payload)
            result = rsexec_run(rsexec, ["copy", "--timeout", "5", "--verify", "size", source.url("f.bin"),
                                         url(dst, "sized.bin")])
            check(result.returncode == 9, "--verify size against a lying SIZE: exit %d" % result.returncode)
            result = rsexec_run(rsexec, ["copy", "--timeout", "5", "--verify", "none", source.url("f.bin"),
                                         url(dst, "f.bin")])
            check(result.returncode == 0, "--verify none: exit %d: %s" % (result.returncode, result.stderr[-800:]))
            check(content(dst.path("f.bin")) == payload and not temporaries(dst.root),
                  "--verify none: the copy was not renamed to its final name")
            print("ok: --verify none copies past a lying SIZE (exit 0); --verify size refuses it (exit 9)")
        finally:
            source.stop()

    with RsexecdServer(rsexecd, "127.0.0.73", extra_args=fxp) as src, \
            RsexecdServer(rsexecd, "127.0.0.74", extra_args=fxp) as dst:
        with open(src.path("n.bin"), "wb") as f:
            f.write(b"netrc\n" * 100)
        # ~/.netrc readable by others: ignored with a warning (anonymous is off: exit 4).
        home = os.path.join(work, "home")
        os.makedirs(home)
        netrc = os.path.join(home, ".netrc")
        with open(netrc, "w") as f:
            for server in (src, dst):
                f.write("machine %s login %s password %s\n" % (server.address, USER, PASSWORD))
        env = dict(os.environ, HOME=home)
        plain = [url(src, "n.bin", credentials=False), url(dst, "n.bin", credentials=False)]
        os.chmod(netrc, 0o640)
        result = rsexec_run(rsexec, ["copy", "--timeout", "5"] + plain, env=env)
        check(result.returncode == LOGIN, "a group-readable .netrc: exit %d, not %d (its logins used?): %s"
              % (result.returncode, LOGIN, result.stderr[-800:]))
        check(re.search(r"warning.*\.netrc", result.stderr, re.I),
              "a group-readable .netrc was ignored without a warning: %s" % result.stderr[-800:])
        check(not os.path.exists(dst.path("n.bin")), "a copy was made with an ignored .netrc")
        os.chmod(netrc, 0o600)
        result = rsexec_run(rsexec, ["copy", "--timeout", "5"] + plain, env=env)
        check(result.returncode == 0, "a private .netrc: exit %d: %s" % (result.returncode, result.stderr[-800:]))
        check(content(dst.path("n.bin")) == content(src.path("n.bin")), "the .netrc copy differs")
        print("ok: a group-readable .netrc is ignored with a warning (exit 4); a private one logs in")

        # mirror --size-only and --only-newer.
        os.makedirs(src.path("m"))
        os.makedirs(dst.path("m"))
        for name, source_bytes, dest_bytes, source_time, dest_time in (
                ("same-size-newer.txt", b"new content\n", b"old content\n", 2_000_000_000, 1_000_000_000),
                ("bigger-older.txt", b"short\n", b"much longer old content\n", 1_000_000_000, 2_000_000_000)):
            for server, data, when in ((src, source_bytes, source_time), (dst, dest_bytes, dest_time)):
                path = server.path("m", name)
                with open(path, "wb") as f:
                    f.write(data)
                os.utime(path, (when, when))

        def copied_by(option):
            result = rsexec_run(rsexec, ["mirror", "--json"] + ([option] if option else []) +
                                ["--dry-run", url(src, "m/"), url(dst, "m/")])
            check(result.returncode == 0, "mirror %s --dry-run: exit %d: %s" % (option, result.returncode, result.stderr))
            # Copy plans without `skip`: a plan with one names a file the policy keeps.
            plans = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
            copies = [p["dst"] for p in plans if p.get("event") == "plan" and p.get("action") == "copy"
                      and not p.get("skip")]
            return sorted(set(re.findall(r"(same-size-newer|bigger-older)\.txt", " ".join(copies))))

        # The plan names each file it would copy (in its destination URL).
        check(copied_by(None) == ["bigger-older", "same-size-newer"], "mirror's plan: %s" % copied_by(None))
        check(copied_by("--size-only") == ["bigger-older"], "--size-only's plan: %s" % copied_by("--size-only"))
        check(copied_by("--only-newer") == ["same-size-newer"], "--only-newer's plan: %s" % copied_by("--only-newer"))
        result = rsexec_run(rsexec, ["mirror", "--json", "--size-only", url(src, "m/"), url(dst, "m/")])
        check(result.returncode == 0, "mirror --size-only: exit %d: %s" % (result.returncode, result.stderr))
        check(content(dst.path("m", "bigger-older.txt")) == b"short\n", "--size-only did not copy the other size")
        check(content(dst.path("m", "same-size-newer.txt")) == b"old content\n", "--size-only copied a same-size file")
        print("ok: mirror --size-only and --only-newer narrow what is copied")

        # batch --check on a good job file: exit 0, a summary, nothing moved.
        job = os.path.join(work, "good.job")
        with open(job, "w") as f:
            f.write("# a comment\n\n%s %s\n" % (url(src, "n.bin"), url(dst, "checked.bin")))
            f.write('{"src": "%s", "dst": "%s", "append": false}\n' % (url(src, "n.bin"), url(dst, "checked2.bin")))
        result = rsexec_run(rsexec, ["batch", "--check", job])
        check(result.returncode == 0, "--check on a good job file: exit %d: %s" % (result.returncode, result.stderr))
        check(re.search(r"\b2 transfers, all lines valid", result.stdout + result.stderr),
              "--check does not say the two lines are valid: %r" % (result.stdout + result.stderr))
        check(not os.path.exists(dst.path("checked.bin")) and not os.path.exists(dst.path("checked2.bin"))
              and not os.path.exists(job + ".journal"), "--check moved something or wrote a journal")
        print("ok: batch --check on a good job file: exit 0, nothing moved")


GROUPS = {"ipv6": group_ipv6, "anonymous": group_anonymous, "options": group_options}


def main(argv):
    if len(argv) != 4 or argv[3] not in GROUPS:
        print(__doc__)
        return 2
    work = tempfile.mkdtemp(prefix="rsexec-paths-")
    GROUPS[argv[3]](argv[1], argv[2], work)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
