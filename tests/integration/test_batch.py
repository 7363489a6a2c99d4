"""rsexec batch and rsexec mirror between two real rsexecd servers.

    /usr/bin/python3 test_batch.py RSEXEC RSEXECD [GROUP]

GROUP is one of: jobs, journal, mirror, pipeline, large, outcomes (all when omitted). The servers listen on 127.0.0.21 and
127.0.0.22; rsexec connects from 127.0.0.1, so every data connection is a foreign one.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
PARTIAL, INTERRUPTED, USAGE = 11, 12, 2


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)



def run(args, timeout=120, stdin=None):
    result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout, input=stdin)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    return result


def events(stdout):
    """Every stdout line must be one JSON object."""
    parsed = [json.loads(line) for line in stdout.splitlines()]
    check(parsed and parsed[-1]["event"] == "summary", stdout[-500:])
    return parsed


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def test_jobs(tmp):
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        names = ["f%03d.bin" % i for i in range(200)]
        for name in names:
            write_random(src.path(name), 4096)
        lines = ["%s %s" % (url(src, n), url(dst, "in/")) for n in names]
        os.makedirs(dst.path("in"))
        job = os.path.join(tmp, "job.txt")

        for jobs in ("1", "8"):
            for name in names:
                if os.path.exists(dst.path("in", name)):
                    os.remove(dst.path("in", name))
            with open(job, "w") as f:
                f.write("# 200 small files\n" + "\n".join(lines) + "\n")
            result = run(["batch", "-j", jobs, "--no-journal", "--json", job])
            check(result.returncode == 0, "batch -j %s failed: %s" % (jobs, result.stderr))
            summary = events(result.stdout)[-1]
            check(summary["done"] == 200 and summary["failed"] == 0, summary)
            # Sessions are reused: a handful of logins, not one per file.
            check(summary["logins"] <= 2 * int(jobs), "too many logins: %s" % summary)
            for name in names:
                check(digest(src.path(name)) == digest(dst.path("in", name)), "content differs: " + name)
            print("ok: 200 files with -j %s, %d logins" % (jobs, summary["logins"]))

        # --max-per-host caps the sessions to each server across all workers.
        for name in names:
            os.remove(dst.path("in", name))
        result = run(["batch", "-j", "8", "--max-per-host", "2", "--no-journal", "--json", job])
        check(result.returncode == 0, result.stderr)
        summary = events(result.stdout)[-1]
        check(summary["done"] == 200 and 1 <= summary["peak_per_host"] <= 2, summary)
        print("ok: -j 8 --max-per-host 2 never opened more than %d sessions to a server" % summary["peak_per_host"])

        # Missing sources fail alone, the rest succeed, the exit code says partial.
        mixed = lines[:5] + ["%s %s" % (url(src, "missing-%d" % i), url(dst, "in/")) for i in range(3)]
        with open(job, "w") as f:
            f.write("\n".join(mixed) + "\n")
        result = run(["batch", "-j", "4", "--no-journal", "--json", job])
        check(result.returncode == PARTIAL, "want exit %d, got %d" % (PARTIAL, result.returncode))
        parsed = events(result.stdout)
        errors = [e for e in parsed if e["event"] == "error"]
        check(len(errors) == 3 and all("550" in e["error"] and e["exit_code"] == 5 for e in errors), errors)
        check(not any(e["event"] == "retry" for e in parsed), "a permanent 550 must not be retried")
        check(parsed[-1]["done"] == 5 and parsed[-1]["failed"] == 3, parsed[-1])
        print("ok: missing sources fail alone (exit 11)")

        # A bad line is rejected, with its number, before anything moves.
        os.remove(dst.path("in", names[0]))
        with open(job, "w") as f:
            f.write(lines[0] + "\n# fine so far\n" + "ftp://only-one-url/x\n")
        result = run(["batch", "--no-journal", job])
        check(result.returncode == USAGE, "bad line: exit %d" % result.returncode)
        check("line 3" in result.stderr, result.stderr)
        check(not os.path.exists(dst.path("in", names[0])), "a transfer happened before validation")
        check(run(["batch", "--check", job]).returncode == USAGE, "--check accepts a bad job")
        print("ok: bad line rejected before any transfer")

        # Per-line append (text and JSON Lines), read from stdin.
        write_random(src.path("part1"), 1000)
        write_random(src.path("part2"), 2000)
        stdin = "%s %s\n%s %s append\n{\"src\": \"%s\", \"dst\": \"%s\", \"append\": true}\n" % (
            url(src, "part1"), url(dst, "joined"), url(src, "part2"), url(dst, "joined"),
            url(src, "part1"), url(dst, "joined"))
        result = run(["batch", "-j", "1", "--json", "-"], stdin=stdin)
        check(result.returncode == 0, result.stderr)
        with open(src.path("part1"), "rb") as a, open(src.path("part2"), "rb") as b, open(dst.path("joined"), "rb") as j:
            one, two = a.read(), b.read()
            check(j.read() == one + two + one, "append did not concatenate")
        print("ok: per-line append")


def test_journal(tmp):
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        names = ["big%02d.bin" % i for i in range(12)]
        for name in names:
            write_random(src.path(name), 16 * 1024 * 1024)
        job = os.path.join(tmp, "big.job")
        with open(job, "w") as f:
            for name in names:
                f.write("%s %s\n" % (url(src, name), url(dst, "")))
        journal = job + ".journal"

        # SIGKILL rsexec once a few files are complete.
        process = subprocess.Popen([RSEXEC, "batch", "-j", "2", "--json", job], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        done_seen = 0
        deadline = time.monotonic() + 60
        while done_seen < 3 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if json.loads(line)["event"] == "done":
                done_seen += 1
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
        check(done_seen >= 3, "rsexec finished or stalled before it could be killed")
        stores_before = len(dst.transfers("STOR"))
        for name in names:
            # No partial file under a final name, ever.
            final = dst.path(name)
            check(not os.path.exists(final) or digest(final) == digest(src.path(name)), "half file under " + name)

        result = run(["batch", "-j", "2", "--json", job])
        check(result.returncode == 0, result.stderr)
        parsed = events(result.stdout)
        summary = parsed[-1]
        check(summary["skipped"] >= 3, "done items were not skipped: %s" % summary)
        check(summary["skipped"] + summary["done"] == len(names), summary)
        for name in names:
            check(digest(dst.path(name)) == digest(src.path(name)), "content differs: " + name)
        # Files done in the first run were not sent again.
        skipped = {e["src"].rsplit("/", 1)[1] for e in parsed if e["event"] == "skipped"}
        stored_again = [l for l in dst.transfers("STOR")[stores_before:] if any(n in l for n in skipped)]
        check(not stored_again, "completed files transferred twice: %s" % stored_again)
        check(os.path.exists(journal), "no journal beside the job file")

        # SIGINT: no new item starts, the running one finishes, exit 12; the rest stays pending.
        for name in names:
            os.remove(dst.path(name))
        os.remove(journal)
        process = subprocess.Popen([RSEXEC, "batch", "-j", "1", "--json", job], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        first = json.loads(process.stdout.readline())
        check(first["event"] == "start", first)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        check(process.returncode == INTERRUPTED, "SIGINT: exit %d (%s)" % (process.returncode, err))
        stopped = json.loads(out.splitlines()[-1])
        # The running item finishes (at least one done); no new one starts (-j 1: at most the
        # one running and, with a pipeline, the one already sent behind it).
        check(1 <= stopped["done"] <= 2 and stopped["failed"] == 0, stopped)
        copied = [n for n in names if os.path.exists(dst.path(n))]
        check(len(copied) == stopped["done"], "files copied %s vs summary %s" % (copied, stopped))
        for name in copied:
            check(digest(dst.path(name)) == digest(src.path(name)), "interrupted copy differs: " + name)
        print("ok: SIGINT lets the running item finish and stops (exit 12)")
        print("ok: killed batch resumed from its journal; %d skipped, %d done" % (summary["skipped"], summary["done"]))


def test_mirror(tmp):
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        tree = ["top.txt", "a/one.bin", "a/b/two.bin", "a/b/c/three.bin", "with space/é.txt", "skip/x.tmp"]
        for i, name in enumerate(tree):
            write_random(src.path(name), 1000 * (i + 1))
        os.makedirs(src.path("empty"))

        result = run(["mirror", "--json", "--exclude", "*.tmp", url(src, ""), url(dst, "copy/")])
        check(result.returncode == 0, result.stderr)
        check(events(result.stdout)[-1]["done"] == len(tree) - 1, result.stdout[-300:])
        for name in tree[:-1]:
            check(digest(src.path(name)) == digest(dst.path("copy", name)), "mirror differs: " + name)
        check(os.path.isdir(dst.path("copy", "empty")), "empty directory not made")
        check(not os.path.exists(dst.path("copy", "skip", "x.tmp")), "excluded file copied")
        print("ok: mirror of a nested tree")

        stores = len(dst.transfers("STOR"))
        result = run(["mirror", "--json", url(src, ""), url(dst, "copy/"), "--exclude", "*.tmp"])
        check(result.returncode == 0 and events(result.stdout)[-1]["done"] == 0, result.stdout)
        check(len(dst.transfers("STOR")) == stores, "second mirror transferred something")
        print("ok: second mirror transfers nothing")

        os.remove(src.path("a/b/two.bin"))
        result = run(["mirror", "--json", "--exclude", "*.tmp", url(src, ""), url(dst, "copy/")])
        check(os.path.exists(dst.path("copy", "a/b/two.bin")), "deleted without --delete")
        result = run(["mirror", "--json", "--delete", "--exclude", "*.tmp", url(src, ""), url(dst, "copy/")])
        check(result.returncode == 0, result.stderr)
        check(not os.path.exists(dst.path("copy", "a/b/two.bin")), "--delete kept a file the source lost")
        check(os.path.exists(dst.path("copy", "a/one.bin")), "--delete removed too much")
        print("ok: mirror --delete")

def left_temporaries(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".rsexec-part")]


def test_pipeline(tmp):
    """Each --pipeline setting and dialect: every file copied once and byte-identical; a missing
    source fails alone, a refused STOR fails its file and the files in flight are still copied."""
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        # Sizes around the block-mode framing (65535 per block), the empty file, and one larger
        # than a pipeline takes (16 MiB), which goes back to the one-file-at-a-time copy.
        sizes = [0, 1, 65535, 65536, 65537, 3 << 20, 17 << 20] + [4096 + i for i in range(33)]
        names = ["p%02d.bin" % i for i in range(len(sizes))]
        for name, size in zip(names, sizes):
            write_random(src.path("set", name), size)
        job = os.path.join(tmp, "pipeline.job")

        settings = [("block", "auto"), ("block", "pasv"), ("commands", "pasv"), ("commands", "epsv"),
                    ("commands", "auto"), ("off", "epsv")]
        for pipeline, dialect in settings:
            label = "--pipeline %s --dialect %s" % (pipeline, dialect)
            out = "out-%s-%s" % (pipeline, dialect)
            os.makedirs(dst.path(out))
            with open(job, "w") as f:
                f.writelines("%s %s\n" % (url(src, "set/" + n), url(dst, out + "/")) for n in names)
            stores_before = len(dst.transfers("STOR"))
            result = run(["batch", "-j", "2", "--no-journal", "--json", "--pipeline", pipeline,
                          "--dialect", dialect, "-v", job])
            check(result.returncode == 0, "%s: exit %d: %s" % (label, result.returncode, result.stderr[-2000:]))
            summary = events(result.stdout)[-1]
            check(summary["done"] == len(names) and summary["failed"] == 0, "%s: %s" % (label, summary))
            check(summary["logins"] <= 4, "%s: sessions not kept: %s" % (label, summary))
            for name in names:
                check(digest(dst.path(out, name)) == digest(src.path("set", name)), "%s: %s differs" % (label, name))
            check(not left_temporaries(dst.root), "%s: temporary files left: %s" % (label, left_temporaries(dst.root)))
            stores = [l for l in dst.transfers("STOR")[stores_before:]]
            check(len(stores) == len(names), "%s: %d STORs for %d files" % (label, len(stores), len(names)))
            trace = result.stderr
            if pipeline == "block" and dialect == "auto":
                # One data connection for many files: RETRs sent before the first 226 came back.
                check("> MODE B" in trace and "< 125 Data connection already open" in trace, label + ": no block mode")
                lines = [l for l in trace.splitlines() if l.startswith("src#1")]
                first_done = next(i for i, l in enumerate(lines) if "< 226" in l)
                ahead = [l for l in lines[:first_done] if "> RETR" in l]
                check(len(ahead) >= 2, "%s: RETRs not pipelined: %s" % (label, lines[:first_done]))
            if pipeline == "commands" and dialect != "auto":
                # The next file's PASV/EPSV goes out right behind this one's STOR (dst listens).
                verb = "PASV" if dialect == "pasv" else "EPSV"
                lines = [l for l in trace.splitlines() if l.startswith("dst#")]
                queued = [i for i, l in enumerate(lines) if "> STOR" in l and i + 2 < len(lines)
                          and "> SIZE" in lines[i + 1] and ("> " + verb) in lines[i + 2]]
                check(len(queued) >= 5, "%s: %s not queued behind STOR" % (label, verb))
            if pipeline == "off":
                check("> MODE B" not in trace, label + ": block mode although off")
            print("ok: %s: %d files, %d logins, %.2f s" % (label, summary["done"], summary["logins"], summary["seconds"]))

        # A missing source fails alone (nothing created for it); a refused STOR (no such folder
        # at the destination, not made with --no-mkdirs) fails its file; the files around both
        # are still copied.
        out = "out-failures"
        os.makedirs(dst.path(out))
        lines = []
        for i, name in enumerate(names[:20]):
            if i == 5:
                lines.append("%s %s" % (url(src, "set/missing.bin"), url(dst, out + "/")))
            if i == 12:
                lines.append("%s %s" % (url(src, "set/" + name), url(dst, "no/such/folder/")))
            lines.append("%s %s" % (url(src, "set/" + name), url(dst, out + "/")))
        with open(job, "w") as f:
            f.write("\n".join(lines) + "\n")
        for pipeline in ("block", "commands"):
            if os.path.isdir(dst.path(out)):
                for name in os.listdir(dst.path(out)):
                    os.remove(dst.path(out, name))
            result = run(["batch", "-j", "1", "--no-journal", "--json", "--retries", "0", "--no-mkdirs", "--pipeline", pipeline,
                          "--dialect", "pasv" if pipeline == "commands" else "auto", job])
            check(result.returncode == PARTIAL, "%s: exit %d: %s" % (pipeline, result.returncode, result.stderr[-2000:]))
            parsed = events(result.stdout)
            summary = parsed[-1]
            check(summary["done"] == 20 and summary["failed"] == 2, "%s: %s" % (pipeline, summary))
            errors = {e["src"].rsplit("/", 1)[1] + " -> " + e["dst"]: e for e in parsed if e["event"] == "error"}
            missing = [e for k, e in errors.items() if k.startswith("missing.bin")]
            check(missing and missing[0]["exit_code"] == 5 and "550" in missing[0]["error"],
                  "%s: missing source not reported as such: %s" % (pipeline, errors))
            refused = [e for e in errors.values() if "no/such/folder" in e["dst"]]
            check(refused and refused[0]["exit_code"] == 6, "%s: refused STOR not reported: %s" % (pipeline, errors))
            for name in names[:20]:
                check(digest(dst.path(out, name)) == digest(src.path("set", name)), "%s: %s differs" % (pipeline, name))
            check(not os.path.exists(dst.path(out, ".missing.bin.rsexec-part")), "temporary made for a missing source")
            check(not os.path.exists(dst.path(out, "missing.bin")), "missing source created at the destination")
            print("ok: --pipeline %s: a missing source and a refused STOR fail alone" % pipeline)


def test_large(tmp):
    """A file too large for a pipeline, alone or last in a job, and a mirror of it: copied on the
    sessions already open (one login per side), its source asked its SIZE once, block mode left
    (MODE S) before it, and RFC 438's last SOCK sent in one write with the STOR."""
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        write_random(src.path("big", "large.bin"), 17 << 20)  # above the pipeline's 16 MiB
        for i in range(3):
            write_random(src.path("small", "s%d.bin" % i), 4096 + i)
        job = os.path.join(tmp, "large.job")
        cases = [("alone", ["big/large.bin"]), ("last", ["small/s0.bin", "small/s1.bin", "small/s2.bin", "big/large.bin"])]
        for label, paths in cases:
            out = "out-" + label
            os.makedirs(dst.path(out))
            with open(job, "w") as f:
                f.writelines("%s %s\n" % (url(src, p), url(dst, out + "/")) for p in paths)
            result = run(["batch", "-j", "1", "--no-journal", "--json", "-v", job])
            check(result.returncode == 0, "%s: exit %d: %s" % (label, result.returncode, result.stderr[-2000:]))
            parsed = events(result.stdout)
            summary = parsed[-1]
            check(summary["done"] == len(paths) and summary["logins"] == 2, "%s: %s" % (label, summary))
            starts = [e for e in parsed if e["event"] == "start" and e["src"].endswith("large.bin")]
            check(len(starts) == 1, "%s: %d start events for one attempt" % (label, len(starts)))
            for p in paths:
                name = p.rsplit("/", 1)[1]
                check(digest(dst.path(out, name)) == digest(src.path(p)), "%s: %s differs" % (label, name))
            trace = result.stderr.splitlines()
            sizes = [l for l in trace if l.startswith("src") and "> SIZE big/large.bin" in l]
            check(len(sizes) == 1, "%s: the source was asked its SIZE %d times" % (label, len(sizes)))
            if label == "alone":
                # Block mode is set up in the round trip of the first SIZE (docs/PROTOCOL.md): a
                # first file too large to pipeline goes back after MODE S, before its copy starts.
                for side in ("src", "dst"):
                    said = [l.split("> ", 1)[1] for l in trace if l.startswith(side) and "> " in l]
                    modes = [c for c in said if c.startswith("MODE ")]
                    check(modes == ["MODE B", "MODE S"], "alone: %s modes %s, not MODE B then MODE S" % (side, modes))
                    transfer = next(i for i, c in enumerate(said) if c.startswith(("RETR ", "STOR ")))
                    check(said.index("MODE S") < transfer, "alone: %s transferred before MODE S: %s" % (side, said))
            dst_lines = [l for l in trace if l.startswith("dst")]
            stor = next(i for i, l in enumerate(dst_lines) if "> STOR " in l and "large.bin" in l)
            check("> SOCK " in dst_lines[stor - 1], "%s: the pin did not go out with the STOR: %s"
                  % (label, dst_lines[stor - 3:stor + 1]))
            print("ok: %s: %d files, %d logins, SIZE asked once" % (label, summary["done"], summary["logins"]))

        result = run(["mirror", "--json", url(src, "big/"), url(dst, "mirrored/")])
        check(result.returncode == 0, "mirror: exit %d: %s" % (result.returncode, result.stderr[-2000:]))
        summary = events(result.stdout)[-1]
        check(summary["done"] == 1 and summary["logins"] == 2, "mirror: %s" % summary)
        check(digest(dst.path("mirrored", "large.bin")) == digest(src.path("big", "large.bin")), "mirror: differs")
        print("ok: mirror of one large file: %d logins" % summary["logins"])


def test_outcomes(tmp):
    """The exit code says how the batch ended; a copy onto itself is refused item by item."""
    with RsexecdServer(RSEXECD, "127.0.0.21", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.22", extra_args=FXP) as dst:
        job = os.path.join(tmp, "job.txt")

        def batch(lines, *extra):
            with open(job, "w") as f:
                f.write("\n".join(lines) + "\n")
            result = run(["batch", "-j", "1", "--no-journal", "--json"] + list(extra) + [job])
            return result, events(result.stdout)

        write_random(src.path("good.bin"), 5000)
        missing = ["%s %s" % (url(src, "missing-%d" % i), url(dst, "")) for i in range(3)]
        result, parsed = batch(missing)
        check(parsed[-1]["failed"] == 3 and parsed[-1]["done"] == 0, parsed[-1])
        check(result.returncode == 5, "every item failed with exit 5: want 5, got %d" % result.returncode)
        print("ok: all failed alike: exit 5, not 11")

        # A destination directory that is missing and not made (--no-mkdirs): exit 6.
        no_dir = "%s %s" % (url(src, "good.bin"), url(dst, "no/such/dir/good.bin"))
        result, parsed = batch([missing[0], no_dir], "--no-mkdirs")
        errors = [e["exit_code"] for e in parsed if e["event"] == "error"]
        check(sorted(errors) == [5, 6], parsed)
        check(result.returncode == 5, "mixed failures: want the first line's 5, got %d" % result.returncode)
        result, parsed = batch([no_dir, missing[0]], "--no-mkdirs")
        check(result.returncode == 6, "mixed failures: want the first line's 6, got %d" % result.returncode)
        print("ok: mixed failures and no success: the first line's code")

        result, parsed = batch([missing[0], "%s %s" % (url(src, "good.bin"), url(dst, "good.bin"))])
        check(result.returncode == PARTIAL, "a real partial success: want 11, got %d" % result.returncode)
        print("ok: partial success is still 11")

        # A copy onto itself: each such item fails with exit 2 before any command changes a file,
        # whether appended or not; the others are copied.
        write_random(src.path("self.bin"), 7000)
        before = digest(src.path("self.bin"))
        onto_itself = ["%s %s" % (url(src, "self.bin"), url(src, "self.bin")),
                       "%s %s append" % (url(src, "self.bin"), url(src, "./self.bin")),
                       "%s %s" % (url(src, "self.bin"), url(src, ""))]
        result, parsed = batch(onto_itself)
        errors = [e for e in parsed if e["event"] == "error"]
        check(len(errors) == 3 and all(e["exit_code"] == USAGE and "same file" in e["error"] for e in errors), parsed)
        check(result.returncode == USAGE, "only copies onto themselves: want 2, got %d" % result.returncode)
        check(digest(src.path("self.bin")) == before, "self.bin changed")
        check(not left_temporaries(src.root), "a temporary file on the source")
        result, parsed = batch(onto_itself[:1] + ["%s %s" % (url(src, "good.bin"), url(dst, "good2.bin"))])
        check(result.returncode == PARTIAL and parsed[-1]["done"] == 1, (result.returncode, parsed[-1]))
        check(digest(src.path("self.bin")) == before, "self.bin changed")
        print("ok: a copy onto itself is an item's error (exit 2), the file untouched")

        # mirror into the directory it reads from, or into one inside it: refused before anything.
        write_random(src.path("tree", "a.bin"), 3000)
        for target in ("tree/", "tree/inner/"):
            result = run(["mirror", "--json", url(src, "tree/"), url(src, target)])
            check(result.returncode == USAGE, "mirror onto %s: want 2, got %d: %s" % (target, result.returncode,
                                                                                     result.stderr))
            check("same" in result.stderr or "inside" in result.stderr, result.stderr)
        check(sorted(os.listdir(src.path("tree"))) == ["a.bin"], os.listdir(src.path("tree")))
        print("ok: mirror onto its own source directory is refused")


GROUPS = {"jobs": test_jobs, "journal": test_journal, "mirror": test_mirror, "pipeline": test_pipeline,
          "large": test_large, "outcomes": test_outcomes}

if __name__ == "__main__":
    chosen = sys.argv[3:] or list(GROUPS)
    for group in chosen:
        with tempfile.TemporaryDirectory(prefix="rsexec-batch-test-") as tmp:
            GROUPS[group](tmp)
