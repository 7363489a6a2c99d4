"""rsexec batch between two rsexecd behind bench/rtt-proxy, which delays the control connections.

    /usr/bin/python3 test_round_trip.py RSEXEC RSEXECD PROXY [GROUP]

GROUP is one of: window, open, chain (all when omitted).
  window: the block-mode window grows past its floor of 16 files when the round trip is long
          (STORs in flight before their 226, from the -v trace, and the -v notice), and every
          file arrives whole.
  open:   the sessions of all workers open side by side: every worker's USER goes out within a
          round trip of the first, not one worker's login after another; to rsexecd the login
          goes in one write (USER, PASS, FEAT, TYPE I).
  chain:  the round trips from connect to QUIT, from the -v trace's send times (200 ms round trip):
          in block mode the first transfer goes out in the third write after the greeting
          (login; the first SIZEs with MODE B and the listener's LSTN and pin; SOCK with the
          transfers), -j auto keeps 2 pairs without a ramp, and QUIT's reply is not waited for.
The servers listen on 127.0.23.1 and .2, each proxy on its server's address (the address a
server announces in PASV stays true; data connections go straight from server to server).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, _running, _terminate, check, digest, write_random  # noqa: E402

RSEXEC, RSEXECD, PROXY = sys.argv[1], sys.argv[2], sys.argv[3]
FXP = ["--fxp-peers", "127.0.0.0/8"]


class DelayProxy:
    """bench/rtt-proxy in front of `server`, on its address, delaying each direction by `delay_ms`."""

    def __init__(self, server, delay_ms):
        self.server = server
        self.delay_ms = delay_ms
        self.process = None
        self.port = None

    def __enter__(self):
        self.process = subprocess.Popen(
            ["/usr/bin/python3", PROXY, "--listen", "%s:0" % self.server.address,
             "--to", "%s:%d" % (self.server.address, self.server.port), "--delay-ms", str(self.delay_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _running.add(self.process)
        line = [None]

        def read():
            line[0] = self.process.stdout.readline()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(20)
        match = re.match(r"rtt-proxy listening on \S+:(\d+)$", (line[0] or "").strip())
        if not match:
            _terminate(self.process)
            raise RuntimeError("rtt-proxy did not announce its port: %r" % line[0])
        self.port = int(match.group(1))
        return self

    def __exit__(self, *exc):
        _terminate(self.process)
        return False


def url(server, proxy, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, proxy.port, path)


def run_timed(args, timeout=180):
    """rsexec with its stderr read line by line: [(seconds since start, line)], stdout, exit status."""
    started = time.monotonic()
    process = subprocess.Popen([RSEXEC] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _running.add(process)
    lines = []
    out = []
    reader = threading.Thread(target=lambda: out.append(process.stdout.read()), daemon=True)
    reader.start()
    killer = threading.Timer(timeout, process.kill)  # bounds the reading below
    killer.start()
    try:
        for line in process.stderr:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
        process.wait(timeout=timeout)
    finally:
        killer.cancel()
        _terminate(process)
    reader.join(10)
    text = "\n".join(l for _, l in lines)
    check(PASSWORD not in text + "".join(out), "password leaked into the output")
    return lines, "".join(out), process.returncode


def test_window(tmp):
    with RsexecdServer(RSEXECD, "127.0.23.1", extra_args=FXP + ["--log-level", "warning"]) as src, \
            RsexecdServer(RSEXECD, "127.0.23.2", extra_args=FXP + ["--log-level", "warning"]) as dst, \
            DelayProxy(src, 25) as src_proxy, DelayProxy(dst, 25) as dst_proxy:
        count = 400
        names = ["w%03d.bin" % i for i in range(count)]
        for i, name in enumerate(names):
            write_random(src.path("set", name), 4096 + i)
        os.makedirs(dst.path("out"))
        job = os.path.join(tmp, "window.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, src_proxy, "set/" + n), url(dst, dst_proxy, "out/")) for n in names)
        lines, stdout, status = run_timed(["batch", "-j", "1", "--no-journal", "--json", "-v", job])
        trace = [l for _, l in lines]
        check(status == 0, "batch through the proxies: exit %s: %s" % (status, "\n".join(trace[-30:])))
        check('"event":"summary"' in stdout.replace(" ", ""), "no summary: %s" % stdout[-500:])
        for name in names:
            check(os.path.exists(dst.path("out", name)), "%s not copied" % name)
            check(digest(dst.path("out", name)) == digest(src.path("set", name)), "%s differs" % name)
        left = [n for n in os.listdir(dst.path("out")) if n not in names]
        check(not left, "files left besides the copies: %s" % left[:5])
        check(any("> MODE B" in l for l in trace), "no block mode: %s" % trace[:40])
        # Files in flight: STORs sent whose 226 has not come back yet, at their most.
        in_flight = widest = 0
        for line in trace:
            if re.match(r"dst#\d+> STOR ", line):
                in_flight += 1
                widest = max(widest, in_flight)
            elif re.match(r"dst#\d+< 226", line):
                in_flight -= 1
        check(widest > 16, "at most %d files in flight at a 50 ms round trip: the window did not grow" % widest)
        notice = [l for l in trace if "block mode:" in l and "in flight" in l]
        check(notice, "no -v notice of the window: %s" % trace[-10:])
        said = re.search(r"up to (\d+) in flight \(round trip ([\d.]+) ms\)", notice[-1])
        check(said and int(said.group(1)) > 16, "notice: %s" % notice[-1])
        check(float(said.group(2)) >= 45, "round trip measured below the proxies' 50 ms: %s" % notice[-1])
        print("ok: %d files whole through a 50 ms round trip, %d in flight at most; %s" % (count, widest, notice[-1]))


def test_open(tmp):
    # A long round trip (300 ms) makes one login about four of them: one worker's logins after
    # another's would spread the USERs over seconds.
    with RsexecdServer(RSEXECD, "127.0.23.1", extra_args=FXP + ["--log-level", "warning"]) as src, \
            RsexecdServer(RSEXECD, "127.0.23.2", extra_args=FXP + ["--log-level", "warning"]) as dst, \
            DelayProxy(src, 150) as src_proxy, DelayProxy(dst, 150) as dst_proxy:
        workers = 4
        names = ["o%02d.bin" % i for i in range(4 * workers)]
        for name in names:
            write_random(src.path("set", name), 4096)
        os.makedirs(dst.path("out"))
        job = os.path.join(tmp, "open.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, src_proxy, "set/" + n), url(dst, dst_proxy, "out/")) for n in names)
        lines, stdout, status = run_timed(["batch", "-j", str(workers), "--no-journal", "--json", "-v", job])
        check(status == 0, "batch: exit %s: %s" % (status, "\n".join(l for _, l in lines[-30:])))
        for name in names:
            check(digest(dst.path("out", name)) == digest(src.path("set", name)), "%s differs" % name)
        users = {}
        logged_in = {}
        for at, line in lines:
            match = re.match(r"((?:src|dst)#\d+)([<>]) (\S+)", line)
            if not match:
                continue
            who, direction, word = match.groups()
            if direction == ">" and word == "USER":
                users.setdefault(who, at)
            if direction == "<" and word == "230":
                logged_in.setdefault(who, at)
        check(len(users) == 2 * workers, "expected %d sessions, saw USER from %s" % (2 * workers, sorted(users)))
        check(len(logged_in) == 2 * workers, "not every session logged in: %s" % sorted(logged_in))
        spread = max(users.values()) - min(users.values())
        one_login = min(logged_in[w] - users[w] for w in users)
        # Side by side: every USER within one login's time of the first (serially: 3 more logins).
        check(spread < one_login, "USERs spread over %.2f s, one login takes %.2f s: sessions opened one after "
              "another: %s" % (spread, one_login, sorted(users.items(), key=lambda kv: kv[1])))
        all_in = max(logged_in.values()) - min(users.values())
        check(all_in < 2 * one_login, "all %d sessions logged in after %.2f s, one login takes %.2f s"
              % (2 * workers, all_in, one_login))
        # rsexecd reads the login ahead: USER, PASS, FEAT and TYPE I in one write, before any reply.
        for who in users:
            dialogue = [l for _, l in lines if l.startswith(who + ">") or l.startswith(who + "<")]
            first = [l.split(" ", 1)[0] + " " + l.split(" ", 2)[1] for l in dialogue[1:5]]
            check(first == [who + "> USER", who + "> PASS", who + "> FEAT", who + "> TYPE"],
                  "%s: login not in one write: %s" % (who, dialogue[:6]))
        print("ok: %d sessions: USERs within %.2f s, all logged in %.2f s after the first USER (one login %.2f s)"
              % (2 * workers, spread, all_in, one_login))


def bursts(times, gap):
    """Send times grouped into writes: a gap of more than `gap` seconds starts the next one."""
    groups = []
    for at in sorted(times):
        if not groups or at - groups[-1][-1] > gap:
            groups.append([])
        groups[-1].append(at)
    return groups


def test_chain(tmp):
    delay_ms = 100  # each way: a 200 ms round trip, far above the trace's own jitter
    with RsexecdServer(RSEXECD, "127.0.23.1", extra_args=FXP + ["--log-level", "warning"]) as src, \
            RsexecdServer(RSEXECD, "127.0.23.2", extra_args=FXP + ["--log-level", "warning"]) as dst, \
            DelayProxy(src, delay_ms) as src_proxy, DelayProxy(dst, delay_ms) as dst_proxy:
        names = ["c%03d.bin" % i for i in range(120)]
        for i, name in enumerate(names):
            write_random(src.path("set", name), 4096 + i)
        os.makedirs(dst.path("out"))
        job = os.path.join(tmp, "chain.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, src_proxy, "set/" + n), url(dst, dst_proxy, "out/")) for n in names)
        lines, stdout, status = run_timed(["batch", "--no-journal", "--json", "-v", job])
        trace = [l for _, l in lines]
        check(status == 0, "batch: exit %s: %s" % (status, "\n".join(trace[-30:])))
        for name in names:
            check(digest(dst.path("out", name)) == digest(src.path("set", name)), "%s differs" % name)
        left = [n for n in os.listdir(dst.path("out")) if n not in names]
        check(not left, "files left besides the copies: %s" % left[:5])
        summary = [json.loads(l) for l in stdout.splitlines() if l.strip()][-1]
        check(summary.get("event") == "summary", "no summary: %s" % stdout[-300:])

        # Each worker's sends (both sessions), grouped into writes; a write is a round trip.
        sends = {}
        for at, line in lines:
            match = re.match(r"(?:src|dst)#(\d+)> (\S+)", line)
            if match:
                sends.setdefault(int(match.group(1)), []).append((at, match.group(2), line))
        check(1 in sends, "no trace of worker 1: %s" % trace[:20])
        gap = delay_ms / 1000.0  # half the round trip
        first = sends[1]
        writes = bursts([at for at, _, _ in first], gap)
        stor_at = min(at for at, verb, _ in first if verb == "STOR")
        before_stor = sum(1 for w in writes if w[0] <= stor_at)
        said = ["%.3f %s" % (at, line) for at, _, line in first[:40]]
        check(before_stor <= 3, "worker 1's first STOR goes out in write %d after the greeting, not the third "
              "(login; SIZE, MODE B, LSTN; SOCK and the transfers):\n%s" % (before_stor, "\n".join(said)))
        lstn = [at for at, verb, _ in first if verb == "LSTN"]
        mode = [at for at, verb, line in first if verb == "MODE" and line.endswith("MODE B")]
        check(lstn and mode and abs(lstn[0] - mode[0]) < gap, "LSTN not in the write of MODE B:\n%s" % "\n".join(said))
        pins = [line for _, verb, line in first if verb == "SOCK" and line.endswith(",0,0")]
        check(pins, "no host pin (SOCK h1,h2,h3,h4,0,0) behind LSTN:\n%s" % "\n".join(said))

        # -j auto in block mode: two pairs, no ramp measured step by step.
        auto = [l for l in trace if "-j auto" in l]
        check(summary.get("concurrency") == 2, "-j auto in block mode settled on %s pairs, not 2: %s\n%s"
              % (summary.get("concurrency"), summary, "\n".join(auto)))
        check(not any("trying" in l for l in auto), "-j auto ramped in block mode:\n%s" % "\n".join(auto))

        # QUIT is sent, its 221 not waited for.
        check(any(re.match(r"(?:src|dst)#\d+> QUIT", l) for l in trace), "no QUIT: %s" % trace[-10:])
        check(not any(re.match(r"(?:src|dst)#\d+< 221", l) for l in trace), "a 221 was waited for: %s" % trace[-10:])
        per_worker = {w: len(bursts([at for at, _, _ in s], gap)) for w, s in sorted(sends.items())}
        print("ok: %d files at a %d ms round trip in %.2f s; worker 1's first STOR in write %d; "
              "round trips (writes) per worker from login to QUIT: %s; %s"
              % (len(names), 2 * delay_ms, lines[-1][0] if lines else 0, before_stor, per_worker, auto))


GROUPS = {"window": test_window, "open": test_open, "chain": test_chain}

if __name__ == "__main__":
    chosen = sys.argv[4:] or list(GROUPS)
    for group in chosen:
        with tempfile.TemporaryDirectory(prefix="rsexec-rtt-test-") as tmp:
            GROUPS[group](tmp)
