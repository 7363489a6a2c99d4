"""rsexec batch -j auto between two real rsexecd servers.

    /usr/bin/python3 test_batch_auto.py RSEXEC RSEXECD GROUP

GROUP limit: the source rsexecd takes at most 6 connections from rsexec's address
(--max-per-ip 6); -j auto starts with 4 pairs, grows past 6, the server refuses those logins
(421), and every item is still done, by the pairs that work, none failed or retried; the summary
says the run kept at most 6 pairs.
GROUP grows: both servers behind bench/rtt-proxy (10 ms each way on the control connections),
one file at a time per pair (--pipeline off), so files/s rises with the pairs: -j auto grows
beyond its second step.
Servers on 127.0.0.171 and 127.0.0.172; rsexec connects from 127.0.0.1.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
PROXY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "rtt-proxy")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(address, port, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, address, port, path)


def run_batch(args, timeout=180):
    result = subprocess.run([RSEXEC, "batch"] + args, capture_output=True, text=True, timeout=timeout)
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output")
    parsed = [json.loads(line) for line in result.stdout.splitlines()]
    check(parsed and parsed[-1]["event"] == "summary", "no summary: %s\n%s" % (result.stdout[-500:],
                                                                             result.stderr[-2000:]))
    return result, parsed


def make_job(tmp, src, src_port, dst, dst_port, count, size):
    names = ["f%04d" % i for i in range(count)]
    for name in names:
        write_random(src.path(name), size)
    os.makedirs(dst.path("in"), exist_ok=True)
    job = os.path.join(tmp, "job.txt")
    with open(job, "w") as f:
        for name in names:
            f.write("%s %s\n" % (url(src.address, src_port, name), url(dst.address, dst_port, "in/")))
    return job, names


def check_copies(src, dst, names):
    for name in names:
        check(digest(src.path(name)) == digest(dst.path("in", name)), "content differs: " + name)


def test_limit(tmp):
    with RsexecdServer(RSEXECD, "127.0.0.171", extra_args=FXP + ["--max-per-ip", "6"]) as src, \
            RsexecdServer(RSEXECD, "127.0.0.172", extra_args=FXP) as dst:
        job, names = make_job(tmp, src, src.port, dst, dst.port, 600, 1024)
        # -j auto's first measurement doubles the 4 pairs: the 7th and 8th logins meet the limit.
        result, parsed = run_batch(["--no-journal", "--json", "--pipeline", "off", "-v", job])
        summary = parsed[-1]
        check(result.returncode == 0, "exit %d: %s" % (result.returncode, result.stderr[-2000:]))
        check(summary["done"] == 600 and summary["failed"] == 0, summary)
        bad = [e for e in parsed if e["event"] in ("retry", "error", "interrupted")]
        check(not bad, "a refused login cost its item an attempt: %s" % bad[:3])
        starts = [e for e in parsed if e["event"] == "start"]
        check(len(starts) == 600, "%d start events for 600 items" % len(starts))
        check(summary["jobs"] == "auto", summary)
        check(summary["limit_refusals"] >= 1, "no login refused: the limit was never reached: %s" % summary)
        check(summary["concurrency_peak"] > 4, "never grew: %s" % summary)
        # At most the server's limit (fewer only if files/s later fell by a quarter, twice).
        check(1 <= summary["concurrency"] <= 6, "want at most 6 pairs at the end (the server's limit), %s" % summary)
        auto_lines = [l for l in result.stderr.splitlines() if "-j auto" in l]
        check(any("refused a login for its connection limit" in l and l.endswith(": 6 pairs from now on")
                  for l in auto_lines), "\n".join(auto_lines))
        check(any(l.startswith("rsexec: -j auto: settled on %d pairs" % summary["concurrency"]) for l in auto_lines),
              "\n".join(auto_lines))
        check("Too many connections from your address" in src.log() or "connections from that address" in src.log(),
              "the server never refused a login: " + src.log()[-1000:])
        check_copies(src, dst, names)
        print("ok: -j auto met the limit of 6 connections (%d refusals), settled on %d pairs, 600 done, none retried"
              % (summary["limit_refusals"], summary["concurrency"]))

        # -j N still fixes the count, and says so.
        for name in names[:40]:
            os.remove(dst.path("in", name))
        with open(job) as f:
            lines = f.readlines()[:40]
        with open(job, "w") as f:
            f.writelines(lines)
        result, parsed = run_batch(["--no-journal", "--json", "-j", "3", job])
        check(result.returncode == 0, result.stderr[-2000:])
        check(parsed[-1]["jobs"] == 3 and parsed[-1]["concurrency"] == 3, parsed[-1])
        check("limit_refusals" not in parsed[-1], parsed[-1])
        bad = subprocess.run([RSEXEC, "batch", "-j", "automatic", "--no-journal", job], capture_output=True, text=True,
                             timeout=60)
        check(bad.returncode == 2 and "-j/--jobs" in bad.stderr, bad.stderr)
        print("ok: -j 3 stays 3; -j automatic is a usage error")


class Proxy:
    """bench/rtt-proxy in front of a server, on the server's own address."""

    def __init__(self, address, port, delay_ms):
        self.process = subprocess.Popen(
            [sys.executable, PROXY, "--listen", "%s:0" % address, "--to", "%s:%d" % (address, port),
             "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()  # bounded: the proxy prints it or exits
        if not line.startswith("rtt-proxy listening on "):
            self.stop()
            raise AssertionError("rtt-proxy did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stdout.close()


def test_grows(tmp):
    with RsexecdServer(RSEXECD, "127.0.0.171", extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, "127.0.0.172", extra_args=FXP) as dst:
        a = Proxy(src.address, src.port, 10)
        try:
            b = Proxy(dst.address, dst.port, 10)
            try:
                job, names = make_job(tmp, src, a.port, dst, b.port, 600, 512)
                started = time.monotonic()
                result, parsed = run_batch(["--no-journal", "--json", "--pipeline", "off", "-v", job])
                seconds = time.monotonic() - started
            finally:
                b.stop()
        finally:
            a.stop()
        summary = parsed[-1]
        check(result.returncode == 0, result.stderr[-2000:])
        check(summary["done"] == 600 and summary["failed"] == 0, summary)
        # The first step doubles 4 to 8 whatever it measured; growing past 8 takes a rise of files/s.
        check(summary["concurrency_peak"] > 8, "did not grow while files/s rose: %s\n%s" % (
            summary, "\n".join(l for l in result.stderr.splitlines() if "-j auto" in l)))
        check(summary["concurrency_peak"] <= 32, summary)
        check("trying" in result.stderr, result.stderr[-2000:])
        check_copies(src, dst, names)
        print("\n".join(l for l in result.stderr.splitlines() if "-j auto" in l))
        print("ok: 20 ms RTT: -j auto grew to %d pairs, settled on %d, 600 files in %.1f s" % (
            summary["concurrency_peak"], summary["concurrency"], seconds))


GROUPS = {"limit": test_limit, "grows": test_grows}

if __name__ == "__main__":
    for group in sys.argv[3:] or list(GROUPS):
        with tempfile.TemporaryDirectory(prefix="rsexec-auto-") as tmp:
            GROUPS[group](tmp)
