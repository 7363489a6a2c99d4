"""The shared job queue: rsexec batch --submit, rsexec worker and rsexec status with a real
PostgreSQL server (postgres_fixture.py) and real rsexecd pairs; the SQLite journal beside it.

    /usr/bin/python3 test_queue.py RSEXEC RSEXECD [GROUP...]

GROUP is one of: workers, same-state, status, takeover, give-back (all when omitted).
  workers     1,000 small and 10 large files over two rsexecd pairs, submitted with
              --max-per-host 4, worked by 3 workers; one is SIGKILLed mid-job. Every file arrives
              whole and is renamed into place once; no server ever holds more than 4 control
              connections (sampled with ss); status accounts for every item and worker.
  same-state  one job with a missing source, run by rsexec batch with an SQLite journal and with
              the PostgreSQL queue: the same counts, bytes and destination trees; a second run
              skips what is done.
  status      human and JSON status output, a submitted job worked later, and a clear failure
              when no PostgreSQL server answers.
  takeover    a dead worker's items: its partial temporary resumes with REST, a file it renamed
              before its outcome reached the queue counts done without being sent again.
  give-back   a worker that starts a file too large for a pipeline gives back what it claimed
              and has not started: a second worker copies the rest while the first is stopped.

The servers listen on 127.0.0.101 .. 127.0.0.104, PostgreSQL on 127.0.0.1 (a free port); rsexec
connects from 127.0.0.1. The journal keeps no password: workers log in with the .netrc of a
HOME made for the test. Every process is stopped by its pid; every wait is bounded.
"""
import atexit
import collections
import contextlib
import json
import os
import random
import signal
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from postgres_fixture import PG_BIN, PostgresServer  # noqa: E402
from rsexecd_fixture import PASSWORD, USER, RsexecdServer, digest, write_random  # noqa: E402

RSEXEC, RSEXECD = sys.argv[1], sys.argv[2]
FXP = ["--fxp-peers", "127.0.0.0/8"]
ADDRESSES = ["127.0.0.101", "127.0.0.102", "127.0.0.103", "127.0.0.104"]
PARTIAL = 11
USAGE = 2
LEASE = 3          # seconds: a killed worker's items come back this long after its last renewal
CAP = 4            # --max-per-host of the workers group

_workers = []


def _kill_workers():
    for process in _workers:
        if process.poll() is None:
            process.kill()
            process.wait()


atexit.register(_kill_workers)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def url(server, path=""):
    return "ftp://%s:%s@%s:%d/%s" % (USER, PASSWORD, server.address, server.port, path)


def netrc_home(tmp):
    """A HOME whose .netrc logs in to every test server: the queue stores URLs without passwords."""
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, ".netrc")
    with open(path, "w") as f:
        for address in ADDRESSES:
            f.write("machine %s login %s password %s\n" % (address, USER, PASSWORD))
    os.chmod(path, 0o600)
    return home


def environment(home):
    env = dict(os.environ)
    env["HOME"] = home
    return env


def run(args, home, timeout=180, stdin=None):
    try:
        result = subprocess.run([RSEXEC] + args, capture_output=True, text=True, timeout=timeout, input=stdin,
                                env=environment(home))
    except subprocess.TimeoutExpired:
        raise AssertionError("rsexec %s did not finish in %d s" % (" ".join(args), timeout))
    check(PASSWORD not in result.stdout + result.stderr, "password leaked into the output of rsexec %s" % args[0])
    check(result.returncode >= 0, "rsexec %s died of signal %d: %s" % (args[0], -result.returncode, result.stderr[-2000:]))
    return result


def events(stdout):
    """Every stdout line must be one JSON object; the last one the summary."""
    parsed = []
    for line in stdout.splitlines():
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError("not a JSON line: %r" % line[:300])
    check(parsed and parsed[-1].get("event") == "summary", "no summary at the end: %s" % stdout[-500:])
    return parsed


def status(journal, job, home):
    result = run(["status", "--journal", journal, "--job", job, "--json"], home, timeout=60)
    check(result.returncode == 0, "status --json: exit %d: %s" % (result.returncode, result.stderr[-1000:]))
    lines = result.stdout.strip().splitlines()
    check(len(lines) == 1, "status --json printed %d lines, want one object: %s" % (len(lines), result.stdout[-1000:]))
    report = json.loads(lines[0])
    for key in ("job", "pending", "running", "done", "failed", "bytes", "rate", "workers"):
        check(key in report, "status --json lacks %r: %s" % (key, report))
    check(report["job"] == job, "status names job %r, want %r" % (report["job"], job))
    return report


def final_of(temporary):
    """'/in/.f.bin.rsexec-part' -> 'in/f.bin'; None for a name that is not a temporary."""
    folder, _, name = temporary.strip("/").rpartition("/")
    if not (name.startswith(".") and name.endswith(".rsexec-part")):
        return None
    final = name[1:-len(".rsexec-part")]
    return folder + "/" + final if folder else final


def writes_and_renames(server):
    """({final name: transfers into its temporary}, {final name: RNTO commands}, [direct writes])
    from the server's log; paths relative to its root."""
    writes, renames, direct = collections.Counter(), collections.Counter(), []
    for line in server.transfers():
        match = re.search(r" transfer (STOR|APPE) (\S+) bytes=", line)
        if not match:
            continue
        final = final_of(match.group(2))
        if final is None:
            direct.append(line)
        else:
            writes[final] += 1
    for line in server.log().splitlines():
        match = re.search(r" > RNTO (.+)$", line)
        if match:
            renames[match.group(1).strip().strip("/")] += 1
    return writes, renames, direct


def left_temporaries(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".rsexec-part")]


def tree(root):
    """{relative path: sha256} of every file under root."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = digest(path)
    return found


def no_password_in_database(pg):
    dump = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--data-only", "-h", "127.0.0.1", "-p", str(pg.port),
                           "-U", "rsexec", "postgres"], capture_output=True, text=True, timeout=60)
    check(dump.returncode == 0, "pg_dump failed: %s" % dump.stderr)
    check(PASSWORD not in dump.stdout, "the queue's database holds an FTP password")


# --- workers ---------------------------------------------------------------------------------

def name_of(src):
    """An event's item by its file name (unique within a job of this test)."""
    return (src or "").rsplit("/", 1)[-1]


class Crowd:
    """The worker processes, their events as they come (one reader thread each), and the kill
    of one of them at the first large file it starts once `arm()` is called."""

    def __init__(self, is_large):
        self.is_large = is_large
        self.changed = threading.Condition()
        self.workers = []
        self.armed = False
        self.victim = None
        self.kill_time = None

    def start(self, name, args, home, stderr_path):
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen([RSEXEC] + args, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                       env=environment(home))
        _workers.append(process)
        worker = {"name": name, "process": process, "stderr": stderr_path, "events": [], "bad": [],
                  "in_flight": {}, "started": set(), "done": [], "retried": set(), "eof": False}
        self.workers.append(worker)
        threading.Thread(target=self._read, args=(worker,), daemon=True).start()
        return worker

    def _read(self, worker):
        for line in worker["process"].stdout:
            try:
                event = json.loads(line)
            except ValueError:
                with self.changed:
                    worker["bad"].append(line)
                continue
            with self.changed:
                worker["events"].append(event)
                kind, item = event.get("event"), name_of(event.get("src"))
                if kind == "start":
                    worker["in_flight"][item] = event
                    worker["started"].add(item)
                    if self.armed and self.victim is None and self.is_large(item):
                        self._kill(worker)
                elif kind == "retry":
                    worker["retried"].add(item)
                elif kind in ("done", "skipped", "error", "interrupted"):
                    worker["in_flight"].pop(item, None)
                    if kind in ("done", "skipped"):
                        worker["done"].append(item)
                self.changed.notify_all()
        worker["process"].stdout.close()
        with self.changed:
            worker["eof"] = True
            self.changed.notify_all()

    def _kill(self, worker):
        worker["process"].kill()    # SIGKILL, by pid
        self.victim = worker
        self.kill_time = time.monotonic()
        worker["held_at_kill"] = dict(worker["in_flight"])

    def arm(self, timeout):
        """Kill the worker that starts a large file next (or already runs one); after `timeout`,
        the one holding the most items. Returns (victim, whether it ran a large file)."""
        with self.changed:
            self.armed = True
            for worker in self.workers:
                if worker["process"].poll() is None and any(self.is_large(i) for i in worker["in_flight"]):
                    self._kill(worker)
                    return worker, True
            self.changed.wait_for(lambda: self.victim is not None, timeout=timeout)
            if self.victim is not None:
                return self.victim, True
            live = [w for w in self.workers if w["process"].poll() is None]
            check(live, "every worker exited before one could be killed")
            self._kill(max(live, key=lambda w: len(w["in_flight"])))
            return self.victim, False

    def stop_all(self):
        for worker in self.workers:
            if worker["process"].poll() is None:
                worker["process"].kill()
            worker["process"].wait()


def test_workers(tmp):
    home = netrc_home(tmp)
    rng = random.Random(20240101)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(RsexecdServer(RSEXECD, address, extra_args=FXP)) for address in ADDRESSES]
        pg = stack.enter_context(PostgresServer())
        pairs = [(servers[0], servers[1]), (servers[2], servers[3])]
        for _, dst in pairs:
            os.makedirs(dst.path("in"))
        # 1,000 small files of 1-8 KiB and 10 of 24 MiB, the large ones spread through the job,
        # half of them between each pair.
        items = []   # (pair index, name, size)
        for i in range(1000):
            items.append((i % 2, "s%04d.bin" % i, rng.randint(1024, 8192)))
        for k in range(10):
            items.insert(50 + 101 * k, (k % 2, "big%02d.bin" % k, 24 << 20))
        started = time.monotonic()
        for pair, name, size in items:
            write_random(pairs[pair][0].path("data", name), size)
        total_bytes = sum(size for _, _, size in items)
        large = {name for _, name, size in items if size > 16 << 20}
        job = os.path.join(tmp, "crowd.job")
        with open(job, "w") as f:
            for pair, name, _ in items:
                src, dst = pairs[pair]
                f.write("%s %s\n" % (url(src, "data/" + name), url(dst, "in/")))
        print("ok: %d files (%.0f MiB) written in %.1f s" % (len(items), total_bytes / 2**20, time.monotonic() - started))

        result = run(["batch", "--journal", pg.url, "--job", "crowd", "--submit", "--max-per-host", str(CAP),
                      "--json", job], home, timeout=120)
        check(result.returncode == 0, "batch --submit: exit %d: %s" % (result.returncode, result.stderr[-2000:]))
        check(result.stdout.strip(), "batch --submit printed nothing")
        check(not any(s.transfers() for s in servers), "batch --submit transferred something")
        early = status(pg.url, "crowd", home)
        check((early["pending"], early["running"], early["done"], early["failed"]) == (len(items), 0, 0, 0),
              "after --submit: %s" % early)
        print("ok: %d items submitted, all pending" % len(items))

        sampler = ConnectionSampler(servers)
        sampler.start()
        crowd = Crowd(lambda item: item in large)
        stack.callback(crowd.stop_all)
        begin = time.monotonic()
        for n in (1, 2, 3):
            crowd.start("w%d" % n, ["worker", "--journal", pg.url, "--job", "crowd", "-j", "4", "--lease", str(LEASE),
                                    "--name", "w%d" % n, "--json"], home, os.path.join(tmp, "w%d.err" % n))
        try:
            # Once one worker has finished some files, kill one (the one on a large file if any).
            with crowd.changed:
                crowd.changed.wait_for(lambda: any(len(w["done"]) >= 20 for w in crowd.workers)
                                       or all(w["eof"] for w in crowd.workers), timeout=90)
                progressed = any(len(w["done"]) >= 20 for w in crowd.workers)
            check(progressed, "no worker reported 20 done items within 90 s\n%s" % diagnosis(crowd, pg, home))
            victim, on_large = crowd.arm(timeout=15)
            print("ok: SIGKILLed %s %s, holding %d item(s), %.1f s in" % (
                victim["name"], "as it started a large file" if on_large else "(no large file seen starting)",
                len(victim["held_at_kill"]), time.monotonic() - begin))
            survivors = [w for w in crowd.workers if w is not victim]
            deadline = time.monotonic() + 120
            for worker in survivors:
                try:
                    worker["process"].wait(timeout=max(1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise AssertionError("%s did not finish within 120 s of the kill\n%s" % (
                        worker["name"], diagnosis(crowd, pg, home, [n for _, n, _ in items])))
            victim["process"].wait(timeout=10)
            elapsed = time.monotonic() - begin
        finally:
            sampler.stop()
            crowd.stop_all()
        with crowd.changed:
            crowd.changed.wait_for(lambda: all(w["eof"] for w in crowd.workers), timeout=10)

        # The two others finished cleanly, with valid JSON.
        for worker in survivors:
            code = worker["process"].returncode
            check(code == 0, "%s exited %d\n%s" % (worker["name"], code, diagnosis(crowd, pg, home, [n for _, n, _ in items])))
            check(not worker["bad"], "%s printed non-JSON lines: %s" % (worker["name"], worker["bad"][:3]))
            summary = worker["events"][-1] if worker["events"] else {}
            check(summary.get("event") == "summary" and summary.get("failed") == 0,
                  "%s: last event %s" % (worker["name"], summary))
            check(not any(e.get("event") == "error" for e in worker["events"]), "%s reported errors" % worker["name"])
        print("ok: the other two workers exited 0, %.1f s after the workers started" % elapsed)

        # Every file there, whole, and nothing else.
        for pair, name, _ in items:
            src, dst = pairs[pair]
            final = dst.path("in", name)
            check(os.path.exists(final), "missing at the destination: %s" % name)
            check(digest(final) == digest(src.path("data", name)), "content differs: %s" % name)
        for index, (_, dst) in enumerate(pairs):
            want = sorted(n for p, n, _ in items if p == index)
            check(sorted(os.listdir(dst.path("in"))) == want,
                  "unexpected files in %s: %s" % (dst.address, set(os.listdir(dst.path("in"))) ^ set(want)))
            check(not left_temporaries(dst.root), "temporaries left: %s" % left_temporaries(dst.root))
        print("ok: all %d files byte-identical to their sources" % len(items))

        # Each file renamed into place exactly once. A second write of a temporary is allowed only
        # for the killed worker's unfinished items (and for retried ones).
        held = set(victim["started"]) - set(victim["done"])
        retried = set().union(*(w["retried"] for w in crowd.workers))
        redone = 0
        for index, (_, dst) in enumerate(pairs):
            writes, renames, direct = writes_and_renames(dst)
            check(not direct, "written under a final name directly: %s" % direct[:3])
            names = {n for p, n, _ in items if p == index}
            unexpected = {r for r in renames if not (r.startswith("in/") and r[3:] in names)}
            check(not unexpected, "renamed to unexpected names: %s" % sorted(unexpected)[:5])
            for name in sorted(names):
                count = renames["in/" + name]
                if count != 1:
                    why = ""
                    if name in held:
                        why = " (the killed worker had it in flight: renamed, then killed before the queue knew?)"
                    elif name in victim["done"]:
                        why = (" (the killed worker reported it done, then was killed before its outcome reached"
                               " the queue, and another worker copied it again)")
                    raise AssertionError("in/%s renamed into place %d times, want once%s" % (name, count, why))
                check(writes["in/" + name] >= 1, "no transfer into the temporary of in/%s" % name)
                if writes["in/" + name] > 1:
                    check(name in held or name in retried,
                          "in/%s written %d times, and neither the killed worker held it nor was it retried" % (
                              name, writes["in/" + name]))
                    redone += writes["in/" + name] - 1
        print("ok: every file renamed into place once; %d temporary rewritten after the kill" % redone)

        # Each item reported done once by the workers that lived; the killed one may have reported
        # an item whose outcome then never reached the queue (another worker took it over: it was
        # still renamed into place once, as checked above).
        done_by = collections.Counter(i for w in crowd.workers for i in w["done"])
        survivors_done = collections.Counter(i for w in survivors for i in w["done"])
        twice = sorted(i for i, n in survivors_done.items() if n > 1)
        taken_over = sorted(i for i in victim["done"] if survivors_done[i])
        check(not twice, "items reported done twice by the workers that lived: %s" % "; ".join(
            "%s: %s" % (i, ", ".join("%s %s" % (w["name"], e["event"]) for w in crowd.workers for e in w["events"]
                                     if e.get("event") in ("done", "skipped") and name_of(e.get("src")) == i))
            for i in twice[:5]))
        unreported = {n for _, n, _ in items} - set(done_by)
        check(unreported <= held, "items no worker reported done: %s" % sorted(unreported - held)[:5])
        if taken_over:
            print("ok: %d item(s) the killed worker reported done were taken over (its outcome was lost): %s" % (
                len(taken_over), taken_over[:5]))

        # The connection caps held across the three workers.
        check(sampler.failure is None, "ss failed: %s" % sampler.failure)
        check(sampler.samples >= 10, "only %d connection samples taken" % sampler.samples)
        for server in servers:
            peak = sampler.peak[(server.address, server.port)]
            check(peak >= 1, "never saw a connection to %s: is the sampler wrong?" % server.address)
            if peak > CAP:
                pids = {str(w["process"].pid): w["name"] for w in crowd.workers}
                whose = collections.Counter(pids.get(p, "pid " + p) for p in sampler.over.get((server.address, server.port), []))
                raise AssertionError("%s had %d control connections at once (cap %d); their client ends: %s"
                                     % (server.address, peak, CAP, dict(whose)))
        print("ok: control connections at once, per server: %s (cap %d; %d samples)" % (
            ", ".join("%s %d" % (s.address, sampler.peak[(s.address, s.port)]) for s in servers), CAP, sampler.samples))

        # The queue's own account.
        report = status(pg.url, "crowd", home)
        check((report["done"], report["failed"], report["pending"], report["running"]) == (len(items), 0, 0, 0),
              "status: %s" % {k: report[k] for k in ("done", "failed", "pending", "running")})
        resumed = sum(e.get("resumed_from", 0) for w in survivors for e in w["events"] if e.get("event") == "done")
        short = total_bytes - report["bytes"]
        check(short == 0, "status bytes %s, want %d, the sum of the files' sizes%s" % (
            report["bytes"], total_bytes,
            " (short by %d: exactly the resumed_from of resumed copies; a resumed item counts only what its last"
            " attempt moved)" % short if resumed and short == resumed else ""))
        check(isinstance(report["rate"], (int, float)) and report["rate"] > 0, "status rate %r" % report["rate"])
        by_name = {w.get("name"): w for w in report["workers"]}
        check({"w1", "w2", "w3"} <= set(by_name), "status lists workers %s" % sorted(by_name))
        for name, entry in by_name.items():
            for key in ("alive", "running", "done", "failed", "bytes"):
                check(key in entry, "status worker %s lacks %r: %s" % (name, key, entry))
            check(entry["running"] == 0 and entry["failed"] == 0, "status worker %s: %s" % (name, entry))
            check(isinstance(entry["alive"], bool), "status worker %s: alive %r" % (name, entry["alive"]))
        check(sum(by_name[n]["done"] for n in ("w1", "w2", "w3")) == len(items),
              "workers' done counts %s do not add up to %d" % ({n: by_name[n]["done"] for n in by_name}, len(items)))
        check(sum(by_name[n]["bytes"] for n in ("w1", "w2", "w3")) == total_bytes,
              "workers' bytes do not add up to %d: %s" % (total_bytes, report["workers"]))
        for worker in survivors:
            mine = len(worker["done"])
            check(by_name[worker["name"]]["done"] == mine,
                  "status says %s did %d, it reported %d" % (worker["name"], by_name[worker["name"]]["done"], mine))
        if time.monotonic() - crowd.kill_time > 2 * LEASE + 1:
            check(by_name[victim["name"]]["alive"] is False, "the killed worker is still alive: %s" % by_name[victim["name"]])
        no_password_in_database(pg)
        print("ok: status: %d done, 0 failed, 0 pending, 0 running, %d bytes; done per worker: %s" % (
            report["done"], report["bytes"], ", ".join("%s %d" % (n, by_name[n]["done"]) for n in sorted(by_name))))


def diagnosis(crowd, pg, home, items=()):
    """What the workers said last and about the items no worker reported done, what status says,
    and the queue's rows that are not done."""
    parts = [stderr_tails(crowd)]
    with crowd.changed:
        finished = {i for w in crowd.workers for i in w["done"]}
        unfinished = [i for i in items if i not in finished][:5]
        for worker in crowd.workers:
            parts.append("--- %s: %d events, %d done, in flight %s; last: %s" % (
                worker["name"], len(worker["events"]), len(worker["done"]), sorted(worker["in_flight"])[:8],
                [json.dumps(e) for e in worker["events"][-3:]]))
            unusual = [e for e in worker["events"] if e.get("event") not in ("start", "done", "progress", "summary")]
            if unusual:
                parts.append("    %s also said: %s" % (worker["name"], [json.dumps(e) for e in unusual[:6]]))
            for item in unfinished:
                said = ["%s(attempt %s)" % (e["event"], e.get("attempt")) for e in worker["events"]
                        if name_of(e.get("src")) == item]
                parts.append("    %s about %s: %s" % (worker["name"], item, ", ".join(said) or "nothing"))
    try:
        result = subprocess.run([RSEXEC, "status", "--journal", pg.url, "--job", "crowd", "--json"],
                                capture_output=True, text=True, timeout=30, env=environment(home))
        parts.append("--- status: %s%s" % (result.stdout.strip(), result.stderr.strip()[-500:]))
        parts.append("--- rows not done:\n" + "\n".join("|".join(r) for r in pg.psql(
            "SELECT * FROM rsexec_items WHERE state <> 'done' ORDER BY seq LIMIT 20")))
        parts.append("--- workers:\n" + "\n".join("|".join(r) for r in pg.psql(
            "SELECT *, now() FROM rsexec_workers")))
        parts.append("--- connections:\n" + "\n".join("|".join(r) for r in pg.psql(
            "SELECT * FROM rsexec_connections")))
    except Exception as e:  # a diagnosis must not hide the failure it explains
        parts.append("--- (diagnosis incomplete: %s)" % e)
    return "\n".join(parts)


def stderr_tails(crowd):
    parts = []
    for worker in crowd.workers:
        with open(worker["stderr"], "rb") as f:
            text = f.read().decode(errors="replace")
        text = "\n".join(l for l in text.splitlines() if not l.startswith("NOTICE:  relation"))
        parts.append("--- %s stderr (exit %s):\n%s" % (worker["name"], worker["process"].poll(), text[-1500:]))
    return "\n".join(parts)


class ConnectionSampler(threading.Thread):
    """Every 50 ms, the TCP connections to a server's control port that are established at both
    ends in one `ss` snapshot (data connections use other ports). A connection whose client has
    already closed its end still shows ESTABLISHED at the server's for a moment (its FIN not yet
    processed): the cap governs what clients hold open, so such a connection does not count.
    The first time a server has more than `cap`, the client ends are kept with their processes
    (`over`), to say whose they were."""

    def __init__(self, servers, cap=CAP):
        super().__init__(daemon=True)
        self.keys = {(s.address, s.port) for s in servers}
        self.peak = {key: 0 for key in self.keys}
        self.cap = cap
        self.over = {}
        self.samples = 0
        self.failure = None
        self._halt = threading.Event()
        ports = [s.port for s in servers]
        self._filter = "( " + " or ".join("sport = :%d or dport = :%d" % (p, p) for p in ports) + " )"

    @staticmethod
    def _endpoint(text):
        address, _, port = text.rpartition(":")
        return address.strip("[]"), int(port)

    def run(self):
        while not self._halt.is_set():
            try:
                out = subprocess.run(["ss", "-Htnp", "state", "established", self._filter],
                                     capture_output=True, text=True, timeout=10, check=True).stdout
            except (subprocess.SubprocessError, OSError) as e:
                self.failure = e
                return
            server_ends, client_ends = set(), {}
            for line in out.splitlines():
                fields = line.split()
                if len(fields) < 4:
                    continue
                local, peer = self._endpoint(fields[2]), self._endpoint(fields[3])
                if local in self.keys:
                    server_ends.add((local, peer))
                elif peer in self.keys:
                    client_ends[(peer, local)] = line
            counts = collections.Counter(server for server, client in server_ends if (server, client) in client_ends)
            for key, n in counts.items():
                self.peak[key] = max(self.peak[key], n)
                if n > self.cap and key not in self.over:
                    self.over[key] = sorted(re.findall(r"pid=(\d+)", "\n".join(
                        line for (server, _), line in client_ends.items() if server == key)))
            self.samples += 1
            self._halt.wait(0.05)

    def stop(self):
        self._halt.set()
        self.join(timeout=15)


# --- same-state ------------------------------------------------------------------------------

def test_same_state(tmp):
    home = netrc_home(tmp)
    rng = random.Random(7)
    with RsexecdServer(RSEXECD, ADDRESSES[0], extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, ADDRESSES[1], extra_args=FXP) as dst, PostgresServer() as pg:
        sizes = [0, 1, 65535, 65536, 3 << 20] + [rng.randint(100, 50000) for _ in range(44)]
        names = ["f%02d.bin" % i for i in range(len(sizes))]
        for name, size in zip(names, sizes):
            write_random(src.path("set", name), size)
        expected_bytes = sum(sizes)
        journals = {"sqlite": os.path.join(tmp, "state.sqlite"), "postgresql": pg.url}
        reports, summaries = {}, {}
        for kind, journal in journals.items():
            out = "out-" + kind
            # Some files into a subfolder; the missing source in the middle of the job.
            os.makedirs(dst.path(out, "deep"))
            lines = []
            for i, name in enumerate(names):
                if i == 20:
                    lines.append("%s %s" % (url(src, "set/missing.bin"), url(dst, out + "/")))
                lines.append("%s %s" % (url(src, "set/" + name), url(dst, out + ("/deep/" if i % 3 == 0 else "/"))))
            job = os.path.join(tmp, kind + ".job")
            with open(job, "w") as f:
                f.write("\n".join(lines) + "\n")
            result = run(["batch", "-j", "4", "--journal", journal, "--job", "same", "--json", job], home)
            check(result.returncode == PARTIAL, "%s: exit %d, want %d: %s" % (kind, result.returncode, PARTIAL, result.stderr[-2000:]))
            summary = events(result.stdout)[-1]
            check(summary["done"] == len(names) and summary["failed"] == 1, "%s: %s" % (kind, summary))
            summaries[kind] = summary
            reports[kind] = status(journal, "same", home)
            print("ok: %s journal: %d done, 1 failed (exit 11)" % (kind, summary["done"]))

        counts = ("done", "failed", "pending", "running", "bytes")
        a, b = ({k: reports[kind][k] for k in counts} for kind in ("sqlite", "postgresql"))
        check(a == b, "status differs: sqlite %s, postgresql %s" % (a, b))
        check(a == {"done": len(names), "failed": 1, "pending": 0, "running": 0, "bytes": expected_bytes},
              "status: %s (want %d done, 1 failed, %d bytes)" % (a, len(names), expected_bytes))
        print("ok: both journals' status agree: %s" % a)

        trees = {kind: tree(dst.path("out-" + kind)) for kind in journals}
        check(trees["sqlite"] == trees["postgresql"], "destination trees differ: %s" % (
            set(trees["sqlite"].items()) ^ set(trees["postgresql"].items())))
        want = {(("deep/" if i % 3 == 0 else "") + n): digest(src.path("set", n)) for i, n in enumerate(names)}
        check(trees["sqlite"] == want, "destination tree differs from the source: %s" % (
            set(trees["sqlite"].items()) ^ set(want.items())))
        check("missing.bin" not in trees["sqlite"], "missing source created at the destination")
        print("ok: destination trees equal (%d files)" % len(want))

        # Run again: what is done is skipped, the failed item is tried (and fails) again, the same
        # way with both journals; nothing is transferred.
        stores = len(dst.transfers())
        for kind, journal in journals.items():
            result = run(["batch", "-j", "4", "--journal", journal, "--job", "same", "--json",
                          os.path.join(tmp, kind + ".job")], home)
            check(result.returncode == PARTIAL, "%s again: exit %d: %s" % (kind, result.returncode, result.stderr[-2000:]))
            summary = events(result.stdout)[-1]
            check((summary["skipped"], summary["done"], summary["failed"]) == (len(names), 0, 1),
                  "%s again: %s" % (kind, summary))
            again = {k: status(journal, "same", home)[k] for k in counts}
            check(again == a, "%s again: status %s, want %s" % (kind, again, a))
        check(len(dst.transfers()) == stores, "the second runs transferred something")
        print("ok: second runs skip %d done items with both journals" % len(names))

        no_password_in_database(pg)
        for path in (journals["sqlite"], journals["sqlite"] + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    check(PASSWORD.encode() not in f.read(), "%s holds an FTP password" % os.path.basename(path))
        print("ok: neither journal holds a password")


# --- status ----------------------------------------------------------------------------------

def mentions(text, word, number):
    """`word` and `number` next to each other, either way round ('done: 7', '7 done', 'done=7')."""
    pattern = r"\b%s\b\W{0,3}%d\b|\b%d\W{0,3}(items? )?%s\b" % (word, number, number, word)
    return re.search(pattern, text, re.IGNORECASE) is not None


def test_status(tmp):
    home = netrc_home(tmp)
    with RsexecdServer(RSEXECD, ADDRESSES[2], extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, ADDRESSES[3], extra_args=FXP) as dst, PostgresServer() as pg:
        for i in range(12):
            write_random(src.path("s", "f%02d" % i), 1000 + i)
        for kind in ("nightly", "later"):
            os.makedirs(dst.path(kind))
        # "nightly": 7 files and 2 missing sources, run with the job file's name as the job's.
        nightly = os.path.join(tmp, "nightly")
        with open(nightly, "w") as f:
            for i in range(7):
                f.write("%s %s\n" % (url(src, "s/f%02d" % i), url(dst, "nightly/")))
            f.write("%s %s\n%s %s\n" % (url(src, "s/gone1"), url(dst, "nightly/"), url(src, "s/gone2"), url(dst, "nightly/")))
        sqlite = os.path.join(tmp, "nightly.sqlite")
        for journal in (pg.url, sqlite):
            if journal == sqlite:
                for i in range(7):
                    os.remove(dst.path("nightly", "f%02d" % i))
            result = run(["batch", "--journal", journal, "--json", nightly], home)
            check(result.returncode == PARTIAL, "nightly: exit %d: %s" % (result.returncode, result.stderr[-2000:]))
            report = status(journal, "nightly", home)   # the default job name: the job file's
            check((report["done"], report["failed"], report["pending"], report["running"]) == (7, 2, 0, 0), report)
            human = run(["status", "--journal", journal, "--job", "nightly"], home, timeout=60)
            check(human.returncode == 0, "status: exit %d: %s" % (human.returncode, human.stderr))
            text = human.stdout
            check("nightly" in text, "status does not name the job: %r" % text)
            for word, n in (("done", 7), ("failed", 2), ("pending", 0), ("running", 0)):
                # A zero may be left out; a count that is shown must be right.
                shown = re.search(r"\b%s\b" % word, text, re.IGNORECASE)
                check(mentions(text, word, n) or (n == 0 and not shown), "status does not say %s %d: %r" % (word, n, text))
            check(not text.lstrip().startswith("{"), "status without --json printed JSON: %r" % text)
            print("ok: %s status names the job and its counts:\n    %s" % (
                "postgresql" if journal == pg.url else "sqlite", text.strip().replace("\n", "\n    ")))
            # A job the journal does not hold: exit 2, naming the jobs it does hold; no counts.
            for extra in ([], ["--json"]):
                unknown = run(["status", "--journal", journal, "--job", "nosuch"] + extra, home, timeout=60)
                check(unknown.returncode == USAGE, "status --job nosuch %s: exit %d: %r"
                      % (extra, unknown.returncode, unknown.stdout))
                check("nosuch" in unknown.stderr and "nightly" in unknown.stderr,
                      "status --job nosuch does not name the jobs there are: %r" % unknown.stderr)
                check(not unknown.stdout.strip(), "status --job nosuch printed counts: %r" % unknown.stdout)
            print("ok: status of an unknown job: exit 2, %s" % unknown.stderr.strip())

        # "later": submitted now, worked later by a worker.
        later = os.path.join(tmp, "later.job")
        with open(later, "w") as f:
            for i in range(7, 12):
                f.write("%s %s\n" % (url(src, "s/f%02d" % i), url(dst, "later/")))
        transfers = len(dst.transfers())
        result = run(["batch", "--journal", pg.url, "--job", "later", "--submit", "--json", later], home)
        check(result.returncode == 0, "--submit: exit %d: %s" % (result.returncode, result.stderr))
        check(result.stdout.strip(), "--submit printed nothing")
        check(len(dst.transfers()) == transfers, "--submit transferred something")
        report = status(pg.url, "later", home)
        check((report["pending"], report["running"], report["done"], report["failed"], report["bytes"]) == (5, 0, 0, 0, 0),
              "after --submit: %s" % report)
        human = run(["status", "--journal", pg.url, "--job", "later"], home, timeout=60)
        check(human.returncode == 0 and "later" in human.stdout and mentions(human.stdout, "pending", 5),
              "status of a submitted job: exit %d: %r" % (human.returncode, human.stdout))
        check(status(pg.url, "nightly", home)["done"] == 7, "the other job changed")
        result = run(["worker", "--journal", pg.url, "--job", "later", "-j", "2", "--name", "late", "--json"], home)
        check(result.returncode == 0, "worker: exit %d: %s" % (result.returncode, result.stderr[-2000:]))
        summary = events(result.stdout)[-1]
        check(summary["done"] == 5 and summary["failed"] == 0, summary)
        report = status(pg.url, "later", home)
        check((report["pending"], report["running"], report["done"], report["failed"]) == (0, 0, 5, 0), report)
        check(report["bytes"] == sum(1000 + i for i in range(7, 12)), report)
        check([w["name"] for w in report["workers"]] == ["late"] and report["workers"][0]["done"] == 5,
              "workers: %s" % report["workers"])
        for i in range(7, 12):
            check(digest(dst.path("later", "f%02d" % i)) == digest(src.path("s", "f%02d" % i)), "f%02d differs" % i)
        print("ok: a submitted job waits (5 pending), a worker does it later, status follows")

    # No server behind the URL: a clear message and a non-zero exit, quickly, from every command.
    nowhere = "postgresql://rsexec@127.0.0.1:1/x"
    job = os.path.join(tmp, "later.job")
    for args in (["status", "--journal", nowhere],
                 ["status", "--journal", nowhere, "--json", "--job", "later"],
                 ["worker", "--journal", nowhere, "--job", "later"],
                 ["batch", "--journal", nowhere, "--submit", job]):
        started = time.monotonic()
        result = run(args, home, timeout=30)
        label = " ".join(a for a in args if a != nowhere)
        # README's exit code 3: cannot reach a server (the journal's, here).
        check(result.returncode == 3, "%s with nothing listening: exit %d, not 3" % (label, result.returncode))
        message = result.stderr.strip()
        check(message, "%s: no message" % label)
        check("terminate called" not in message and "Aborted" not in message, "%s crashed: %s" % (label, message))
        check("127.0.0.1" in message and re.search(r"connect|refused", message, re.IGNORECASE),
              "%s: message does not say which server it could not reach: %r" % (label, message))
        check(len(message.splitlines()) <= 4, "%s: a long message: %r" % (label, message))
        print("ok: %s: exit %d in %.1f s: %s" % (label, result.returncode, time.monotonic() - started,
                                                 message.splitlines()[0]))


def test_takeover(tmp):
    """What a worker finds of a dead worker's items: a partial temporary resumes with REST, a final
    file already renamed (the rename went through, the outcome never reached the queue) is done."""
    home = netrc_home(tmp)
    with RsexecdServer(RSEXECD, ADDRESSES[0], extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, ADDRESSES[1], extra_args=FXP) as dst, PostgresServer() as pg:
        size = 8 * 1024 * 1024
        for name in ("partial.bin", "renamed.bin", "untouched.bin"):
            write_random(src.path(name), size)
        job = os.path.join(tmp, "takeover.job")
        with open(job, "w") as f:
            for name in ("partial.bin", "renamed.bin", "untouched.bin"):
                f.write("%s %s\n" % (url(src, name), url(dst, "")))
        result = run(["batch", "--journal", pg.url, "--job", "takeover", "--submit", job], home)
        check(result.returncode == 0, "--submit: exit %d: %s" % (result.returncode, result.stderr))
        # A worker "ghost" claimed the first two and died: its lease ran out a minute ago. It left
        # the first half of partial.bin under the temporary name, and renamed.bin complete.
        with open(src.path("partial.bin"), "rb") as f:
            head = f.read(size // 2)
        with open(dst.path(".partial.bin.rsexec-part"), "wb") as f:
            f.write(head)
        with open(src.path("renamed.bin"), "rb") as f, open(dst.path("renamed.bin"), "wb") as out:
            out.write(f.read())
        pg.psql("INSERT INTO rsexec_workers (name, job, lease_until) VALUES ('ghost', 'takeover', now() - interval '1 minute');"
                "UPDATE rsexec_items SET state = 'running', worker = 'ghost', claims = 1"
                " WHERE job = 'takeover' AND src NOT LIKE '%untouched%'")
        check(status(pg.url, "takeover", home)["running"] == 2, "the ghost's items are not running")
        stores_before = len(dst.transfers("STOR")) + len(dst.transfers("APPE"))
        result = run(["worker", "--journal", pg.url, "--job", "takeover", "-j", "2", "--name", "heir", "--json"], home)
        check(result.returncode == 0, "worker: exit %d: %s" % (result.returncode, result.stderr[-2000:]))
        done = {e["src"].rsplit("/", 1)[1]: e for e in events(result.stdout) if e["event"] == "done"}
        check(sorted(done) == ["partial.bin", "renamed.bin", "untouched.bin"], "done: %s" % sorted(done))
        check(done["partial.bin"].get("resumed_from") == size // 2, "partial.bin did not resume: %s" % done["partial.bin"])
        check(done["renamed.bin"].get("found_complete") is True, "renamed.bin was copied again: %s" % done["renamed.bin"])
        check("resumed_from" not in done["untouched.bin"], done["untouched.bin"])
        for name in ("partial.bin", "renamed.bin", "untouched.bin"):
            check(digest(dst.path(name)) == digest(src.path(name)), name + " differs")
        writes = dst.transfers("STOR")[stores_before:] + dst.transfers("APPE")
        check(not any("renamed.bin" in line for line in writes), "renamed.bin was written again: %s" % writes)
        report = status(pg.url, "takeover", home)
        check((report["done"], report["running"], report["pending"]) == (3, 0, 0), report)
        check(report["bytes"] == 3 * size, "status bytes %d, want the files' sizes %d" % (report["bytes"], 3 * size))
        print("ok: a dead worker's partial file resumed at byte %d, its renamed file counted done, nothing sent twice"
              % (size // 2))


def test_give_back(tmp):
    """A worker that starts a file too large for a pipeline gives back the items it claimed and
    has not started: a second worker, started while the first is stopped (SIGSTOP) inside its
    first large copy, copies all the others. Leases are long: a loaded machine must not turn the
    stop into a takeover, which is another group's test."""
    home = netrc_home(tmp)
    with RsexecdServer(RSEXECD, ADDRESSES[0], extra_args=FXP) as src, \
            RsexecdServer(RSEXECD, ADDRESSES[1], extra_args=FXP) as dst, PostgresServer() as pg:
        names = ["large%d.bin" % i for i in range(6)]
        for name in names:
            write_random(src.path(name), 17 << 20)  # above the pipeline's 16 MiB
        job = os.path.join(tmp, "give-back.job")
        with open(job, "w") as f:
            f.writelines("%s %s\n" % (url(src, n), url(dst, "")) for n in names)
        result = run(["batch", "--journal", pg.url, "--job", "give-back", "--submit", job], home)
        check(result.returncode == 0, "--submit: exit %d: %s" % (result.returncode, result.stderr))

        first_err = os.path.join(tmp, "first.err")
        with open(first_err, "wb") as stderr:
            first = subprocess.Popen([RSEXEC, "worker", "--journal", pg.url, "--job", "give-back", "-j", "1",
                                      "--lease", "600", "--name", "first", "--json", "-v"], stdout=subprocess.PIPE, stderr=stderr,
                                     text=True, env=environment(home))
        _workers.append(first)
        try:
            # Its first STOR is out once it has handed the file back and released the rest.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and first.poll() is None:
                with open(first_err) as f:
                    if re.search(r"^dst#1> STOR ", f.read(), re.M):
                        break
                time.sleep(0.02)
            first.send_signal(signal.SIGSTOP)
            check(first.poll() is None, "the first worker ended before its first STOR")
            second_process = subprocess.Popen([RSEXEC, "worker", "--journal", pg.url, "--job", "give-back", "-j", "1",
                                               "--lease", "600", "--name", "second", "--json"], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True, env=environment(home))
            _workers.append(second_process)
            # The second copies the five the first gave back, then waits for the first's item.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and status(pg.url, "give-back", home)["done"] < 5:
                time.sleep(0.1)
            report = status(pg.url, "give-back", home)
            first.send_signal(signal.SIGCONT)
            first_out, _ = first.communicate(timeout=60)
            second_out, second_err = second_process.communicate(timeout=60)
        finally:
            for process in _workers:
                if process.poll() is None:
                    process.send_signal(signal.SIGCONT)
                    process.kill()
                    process.wait()
        check(report["done"] == 5 and report["running"] == 1, "while the first was stopped: %s" % report)
        check(first.returncode == 0 and second_process.returncode == 0,
              "exits %d, %d: %s\n%s" % (first.returncode, second_process.returncode, first_out[-3000:],
                                        second_err[-2000:]))
        done_by = {w: [name_of(e["src"]) for e in events(out) if e["event"] == "done"]
                   for w, out in (("first", first_out), ("second", second_out))}
        check(len(done_by["first"]) == 1 and len(done_by["second"]) == 5, "done: %s" % done_by)
        for name in names:
            check(digest(dst.path(name)) == digest(src.path(name)), name + " differs")
        report = status(pg.url, "give-back", home)
        check((report["done"], report["running"], report["pending"]) == (6, 0, 0), report)
        print("ok: a worker inside a large copy gave back 5 items; the second worker copied them")


GROUPS = {"workers": test_workers, "same-state": test_same_state, "status": test_status, "takeover": test_takeover,
          "give-back": test_give_back}

if __name__ == "__main__":
    chosen = sys.argv[3:] or list(GROUPS)
    for group in chosen:
        if group not in GROUPS:
            sys.exit("unknown group %r (one of: %s)" % (group, ", ".join(GROUPS)))
    for group in chosen:
        with tempfile.TemporaryDirectory(prefix="rsexec-queue-test-") as tmp:
            started = time.monotonic()
            GROUPS[group](tmp)
            print("ok: group %s in %.1f s" % (group, time.monotonic() - started))
