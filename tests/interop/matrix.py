#!/usr/bin/python3
"""rsexec copy between real FTP servers: the pairing matrix and the refusal cases.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/matrix.py --part matrix|refusals|nofxp
        [--rsexec build/bin/rsexec] [--rsexecd build/bin/rsexecd] [--out build]
        [--kinds vsftpd,proftpd,pure-ftpd,pyftpdlib,rsexecd] [--jobs 2] [--big-mib 64]

Parts:
  matrix    every ordered pair of kinds (same kind too: two servers of it), all with FXP on.
            For each pair `rsexec copy --dialect auto` of 0 B, 1 MiB and a big file (64 MiB),
            and each explicit dialect the pair supports (pasv, epsv; rfc438 only between two
            rsexecd) with 0 B and 1 MiB. Every copy is checked by sha256 at the destination;
            the dialect auto chose is read from rsexec's one-line result.
  refusals  a server with its default (no FXP) settings paired with an FXP-enabled server of
            another kind, on each side of the copy: vsftpd must be refused (exit 7); pure-ftpd
            without -w never answers, so rsexec must end by itself (exit 7, 8 or 10); proftpd
            without AllowForeignAddress checks only PORT, so the copy passes with proftpd
            listening. Never a final file that is not the whole source.
  nofxp     every ordered pair of kinds, both servers with their defaults (FXP off: no
            promiscuous flags, no AllowForeignAddress, no -w, pyftpdlib's default, rsexecd without
            --fxp-peers), 1 MiB with `rsexec copy`. Without a relay in rsexec, every pair must be
            refused as a pairing refusal (exit 7) with no file under the final name. Once
            `rsexec copy` has --relay: every pair must copy (relayed, sha256 checked) and
            `--relay never` must still end with exit 7.

Writes OUT/interop-PART.md (a Markdown table) and, with RSEXEC_UPDATE_DOCS=1, also the section
between <!-- PART:begin --> and <!-- PART:end --> in docs/INTEROP.md; without it, a row of that
section that claims another result than this run's (speeds and times aside) fails the run, so the
document says what CI proves. Exits 0 when every case
behaves as expected, 1 otherwise; a peer that cannot start is a failure, never a skip. Every
server is stopped by pid when the run ends, pass or fail.
"""

import argparse
import concurrent.futures
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import KINDS, REPO, Peer, version  # noqa: E402


def check(condition, message):
    """An explicit check: unlike assert, it is not turned off by python3 -O."""
    if not condition:
        raise AssertionError(message)


TIMEOUT = 10          # rsexec --timeout: seconds for any one server reply
HARD_LIMIT = 90       # a copy still running after this is a hang
MIB = 1024 * 1024

# "copied SRC -> DST: N bytes in S s (R MB/s), DIALECT with SIDE listening"
RESULT = re.compile(r"^copied .*: (\d+) bytes in ([\d.]+) s \(([\d.]+) MB/s\), "
                    r"(\w+) with (src|dst) listening$", re.M)

print_lock = threading.Lock()


def say(line):
    with print_lock:
        print(line, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


class Copy:
    """One `rsexec copy` run and what it left at the destination."""

    def __init__(self, rsexec, src, dst, name, dialect, want_sha, extra=()):
        self.dialect = dialect
        # --relay never unless asked otherwise: the matrix is of the servers' own transfers; a relayed
        # copy would hide a refusal.
        relay = [] if "--relay" in extra else ["--relay", "never"]
        args = [rsexec, "copy"] + relay + ["--timeout", str(TIMEOUT), "--dialect", dialect] + list(extra) + \
            [src.url(name), dst.url(dst_name(src, name, dialect))]
        self.target = dst.path(dst_name(src, name, dialect))
        started = time.monotonic()
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=HARD_LIMIT,
                                  stdin=subprocess.DEVNULL)
            self.rc, self.out, self.err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            self.rc, self.out, self.err = None, e.stdout or "", e.stderr or ""
            if isinstance(self.out, bytes):
                self.out, self.err = self.out.decode(errors="replace"), self.err.decode(errors="replace")
        self.elapsed = time.monotonic() - started
        m = RESULT.search(self.out)
        self.chose = (m.group(4), m.group(5)) if m else None
        self.mbps = float(m.group(3)) if m else None
        self.exists = os.path.exists(self.target)
        self.intact = self.exists and want_sha is not None and sha256(self.target) == want_sha
        part = os.path.join(os.path.dirname(self.target),
                            "." + os.path.basename(self.target) + ".rsexec-part")
        self.part_left = os.path.exists(part)

    def message(self):
        lines = [l for l in self.err.strip().splitlines() if l.startswith("rsexec:")]
        return lines[-1] if lines else (self.err.strip().splitlines() or [""])[-1]

    def exit_text(self):
        return "hang (killed after %d s)" % HARD_LIMIT if self.rc is None else "exit %d" % self.rc


def dst_name(src, name, dialect):
    return "from-%s-%s-%s" % (src.kind, dialect, name)


# --- the matrix ---------------------------------------------------------------------------------

def dialects(a, b):
    both = a.kind == "rsexecd" and b.kind == "rsexecd"
    return ["pasv", "epsv"] + (["rfc438"] if both else [])


def run_pair(rsexec, a, b, files, shas):
    """All copies from a to b. Returns {dialect: cell} and a list of failure descriptions."""
    cells, failures = {}, []
    plan = [("auto", n) for n in files] + \
        [(d, n) for d in dialects(a, b) for n in files if n != "big.bin"]
    results = {}
    for dialect, name in plan:
        c = Copy(rsexec, a, b, name, dialect, shas[name])
        ok = c.rc == 0 and c.intact
        results.setdefault(dialect, []).append((name, c, ok))
        say("%s %s -> %s %s %s: %s%s" % (
            "PASS" if ok else "FAIL", a.kind, b.kind, dialect, name, c.exit_text(),
            (", %s with %s listening" % c.chose) if c.chose else ""))
        if not ok:
            failures.append("%s -> %s --dialect %s %s: %s, %s; %s" % (
                a.kind, b.kind, dialect, name, c.exit_text(),
                "intact" if c.intact else ("corrupt" if c.exists else "no file"), c.message()))
        if ok and name == "big.bin":
            os.unlink(c.target)     # keeps the disk small; it was checked
    for dialect, runs in results.items():
        bad = [(n, c) for n, c, ok in runs if not ok]
        if not bad:
            chose = sorted({"%s, %s listening" % c.chose for n, c, ok in runs if c.chose})
            cell = "pass"
            if dialect == "auto":
                cell += " (%s)" % "; ".join(chose)
                big = [c for n, c, ok in runs if n == "big.bin"]
                if big and big[0].mbps:
                    cell += ", %.0f MB/s" % big[0].mbps
        elif all(c.rc == 7 for n, c in bad):
            cell = "refused (exit 7)"
        else:
            cell = "fails (%s)" % ", ".join("%s: %s" % (n, c.exit_text()) for n, c in bad)
        cells[dialect] = cell
    return cells, failures


def part_matrix(args, work, kinds):
    files = {"empty.bin": 0, "1mib.bin": MIB, "big.bin": args.big_mib * MIB}
    data = os.path.join(work, "data")
    os.makedirs(data)
    shas = {}
    for name, size in files.items():
        with open(os.path.join(data, name), "wb") as f:
            left = size
            while left:
                n = min(left, 4 * MIB)
                f.write(os.urandom(n))
                left -= n
        shas[name] = sha256(os.path.join(data, name))
    # Two servers of each kind, so that a pair of the same kind has two hosts: sources A (with
    # the files, hard links of one copy) and destinations B.
    sources, dests = [], []
    for i, kind in enumerate(kinds):
        for side, group, host in (("src", sources, 10 + i), ("dst", dests, 30 + i)):
            root = os.path.join(work, "%s-%s" % (side, kind))
            os.makedirs(root)
            if side == "src":
                for name in files:
                    os.link(os.path.join(data, name), os.path.join(root, name))
            group.append(Peer(kind, "%s.%d" % (args.net, host), root))
    peers = sources + dests
    table, failures = {}, []
    try:
        start_all(peers)
        pairs = [(a, b) for a in sources for b in dests]
        # A server serves one pair at a time: pyftpdlib 1.5.7 now and then stalls its whole
        # event loop for seconds when sessions overlap, enough to trip --timeout on a busy host.
        busy, cond = set(), threading.Condition()

        def exclusive(a, b):
            with cond:
                cond.wait_for(lambda: a not in busy and b not in busy)
                busy.update((a, b))
            try:
                return run_pair(args.rsexec, a, b, files, shas)
            finally:
                with cond:
                    busy.difference_update((a, b))
                    cond.notify_all()

        # Rounds in which every source and every destination appears once, so that the workers
        # find disjoint pairs to take.
        n = len(kinds)
        order = [(sources[i], dests[(i + r) % n]) for r in range(n) for i in range(n)]
        check(sorted(map(id, sum(order, ()))) == sorted(map(id, sum(pairs, ()))), 'failed: sorted(map(id, sum(order, ()))) == sorted(map(id, sum(pairs, ())))')
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(exclusive, a, b): (a.kind, b.kind) for a, b in order}
            for f in concurrent.futures.as_completed(futures):
                cells, bad = f.result()
                table[futures[f]] = cells
                failures += bad
    finally:
        for p in peers:
            p.stop(check=False)

    cols = ["auto", "pasv", "epsv", "rfc438"]
    lines = [
        "`rsexec copy --timeout %d --dialect D` from the first server to the second, both with "
        "FXP on; each dialect copies 0 B and 1 MiB, `auto` also %d MiB (its speed on loopback "
        "is shown), each checked by sha256 at the destination. `auto`'s choice is what rsexec "
        "printed; `-`: the dialect is not offered by the pair (RFC 438 `LSTN`/`SOCK` is "
        "rsexecd's)." % (TIMEOUT, args.big_mib),
        "",
        "| source → destination | %s |" % " | ".join(cols),
        "|---|%s" % ("---|" * len(cols)),
    ]
    for a in kinds:
        for b in kinds:
            cells = table.get((a, b), {})
            lines.append("| %s → %s | %s |" % (a, b, " | ".join(cells.get(c, "-") for c in cols)))
    passed = sum(1 for cells in table.values() for v in cells.values() if v.startswith("pass"))
    total = sum(len(cells) for cells in table.values())
    lines += ["", "%d of %d pair × dialect cells pass." % (passed, total)]
    return lines, failures


# --- the refusal cases --------------------------------------------------------------------------

# kind without FXP -> (its FXP-enabled partner, what must happen)
REFUSAL_CASES = {
    "vsftpd": "proftpd",
    "pure-ftpd": "vsftpd",
    "proftpd": "vsftpd",
}


def judge(kind, side, c):
    """(ok, outcome) for one refusal case."""
    no_final = not c.exists
    if c.rc == 0 and c.intact:
        how = "%s with %s listening" % c.chose if c.chose else "?"
        swapped = c.chose and c.chose[1] != "dst"
        outcome = "passes%s (%s)" % (" via role swap" if swapped else "", how)
    elif c.rc == 7:
        outcome = "refused by policy (exit 7)"
    elif c.rc == 10:
        outcome = "times out (exit 10)"
    else:
        outcome = "fails (%s)" % c.exit_text()
    if c.part_left:
        outcome += "; leaves its temporary `.NAME.rsexec-part`"
    if c.rc is not None and c.rc != 0 and c.exists:
        outcome += "; **a file under the final name**"
    if kind == "vsftpd":
        ok = c.rc == 7 and no_final and "FXP" in c.message()
    elif kind == "pure-ftpd":
        # It never answers: rsexec must give up on its own, within one timeout per side it
        # waits on (the stalled reply, then the ABOR), and say so. Listening, pure-ftpd may say
        # 150 before it drops the foreign connection: both sides started, so the partner's 426
        # is a transfer that failed (exit 8), which is true too.
        ok = c.rc in (7, 8, 10) and no_final and c.elapsed <= 2 * TIMEOUT + 5 and c.message()
    else:
        # proftpd's AllowForeignAddress off checks only PORT/EPRT: proftpd listening works.
        ok = c.rc == 0 and c.intact and c.chose is not None and \
            c.chose[1] == ("dst" if side == "dst" else "src")
    return ok, outcome


def part_refusals(args, work, kinds):
    payload = os.path.join(work, "1mib.bin")
    with open(payload, "wb") as f:
        f.write(os.urandom(MIB))
    want = sha256(payload)
    peers, cases = [], []
    host = 10
    for kind, partner in REFUSAL_CASES.items():
        if kind not in kinds or partner not in kinds:
            continue
        for side in ("dst", "src"):
            strict = Peer(kind, "%s.%d" % (args.net, host), os.path.join(work, "nofxp-%s-%s" % (kind, side)),
                          fxp=False)
            other = Peer(partner, "%s.%d" % (args.net, host + 1),
                         os.path.join(work, "fxp-%s-for-%s-%s" % (partner, kind, side)))
            host += 2
            src, dst = (other, strict) if side == "dst" else (strict, other)
            os.makedirs(src.root)
            os.link(payload, src.path("1mib.bin"))
            peers += [strict, other]
            for dialect in ("auto", "pasv", "epsv"):
                cases.append((kind, side, partner, src, dst, dialect))
    rows, failures = [], []
    try:
        start_all(peers)

        def one(case):
            kind, side, partner, src, dst, dialect = case
            c = Copy(args.rsexec, src, dst, "1mib.bin", dialect, want)
            ok, outcome = judge(kind, side, c)
            say("%s %s no-fxp as %s, %s: %s in %.1f s: %s" % (
                "PASS" if ok else "FAIL", kind, side, dialect, c.exit_text(), c.elapsed,
                c.message() if c.rc else c.out.strip()))
            return case, c, ok, outcome

        with concurrent.futures.ThreadPoolExecutor(args.jobs * 3) as pool:
            results = list(pool.map(one, cases))
    finally:
        for p in peers:
            p.stop(check=False)

    lines = [
        "A server with its default settings (FXP off: `scripts/peers.sh start ... --no-fxp`) "
        "paired with an FXP-enabled server of another kind, 1 MiB, `rsexec copy --timeout %d`. "
        "Expected: vsftpd refused with exit 7; pure-ftpd (never answers) ended by rsexec itself "
        "with exit 7, 8 or 10 within %d s; proftpd passes with proftpd listening. "
        "Never a file under the final name unless it is the whole source." % (TIMEOUT, 2 * TIMEOUT + 5),
        "",
        "| FXP off | as | partner | dialect | result | time | as expected | rsexec says |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (kind, side, partner, src, dst, dialect), c, ok, outcome in results:
        msg = c.message() if c.rc else ""
        if len(msg) > 160:
            msg = msg[:157] + "..."
        lines.append("| %s | %s | %s | %s | %s | %.1f s | %s | %s |" % (
            kind, side, partner, dialect, outcome, c.elapsed, "yes" if ok else "**no**",
            msg.replace("|", "\\|").replace("`", "'")))
        if not ok:
            failures.append("%s no-fxp as %s (partner %s), --dialect %s: %s, %s in %.1f s; %s" % (
                kind, side, partner, dialect, outcome, c.exit_text(), c.elapsed, c.message()))
    return lines, failures


# --- both servers with FXP off ----------------------------------------------------------------

def has_relay(rsexec):
    """Whether `rsexec copy` can copy through itself (--relay); decides what nofxp expects."""
    done = subprocess.run([rsexec, "copy", "--help"], capture_output=True, text=True, timeout=30)
    return "--relay" in done.stdout + done.stderr


def part_nofxp(args, work, kinds):
    payload = os.path.join(work, "1mib.bin")
    with open(payload, "wb") as f:
        f.write(os.urandom(MIB))
    want = sha256(payload)
    relay = has_relay(args.rsexec)
    sources, dests = [], []
    for i, kind in enumerate(kinds):
        for side, group, host in (("src", sources, 10 + i), ("dst", dests, 30 + i)):
            root = os.path.join(work, "%s-%s" % (side, kind))
            os.makedirs(root)
            if side == "src":
                os.link(payload, os.path.join(root, "1mib.bin"))
            group.append(Peer(kind, "%s.%d" % (args.net, host), root, fxp=False))
    peers = sources + dests
    results = {}

    def one(a, b, relay_option):
        # Without an option, the default (auto) is named: Copy adds --relay never otherwise.
        option = relay_option if relay_option or not relay else ["--relay", "auto"]
        c = Copy(args.rsexec, a, b, "1mib.bin", "auto", want, extra=option)
        if relay and not relay_option:
            ok = c.rc == 0 and c.intact and "relay" in c.err
            outcome = "copies, relayed, sha256 equal" if ok else "fails (%s)" % c.exit_text()
        else:
            ok = c.rc == 7 and not c.exists and "refused every way" in c.message()
            outcome = "refused (exit 7)" if c.rc == 7 else "fails (%s)" % c.exit_text()
            if c.exists:
                outcome += "; **a file under the final name**"
        say("%s nofxp %s -> %s%s: %s in %.1f s: %s" % ("PASS" if ok else "FAIL", a.kind, b.kind,
                                                       " " + " ".join(relay_option) if relay_option else "",
                                                       c.exit_text(), c.elapsed, c.message() if c.rc else ""))
        return c, ok, outcome

    try:
        start_all(peers)
        busy, cond = set(), threading.Condition()

        def exclusive(a, b):
            with cond:
                cond.wait_for(lambda: a not in busy and b not in busy)
                busy.update((a, b))
            try:
                runs = [one(a, b, [])]
                if relay:
                    # The relayed copy's file goes, so that the refusal's "nothing under the
                    # final name" is about this run alone.
                    if os.path.exists(runs[0][0].target):
                        os.remove(runs[0][0].target)
                    runs.append(one(a, b, ["--relay", "never"]))
                return runs
            finally:
                with cond:
                    busy.difference_update((a, b))
                    cond.notify_all()

        n = len(kinds)
        order = [(sources[i], dests[(i + r) % n]) for r in range(n) for i in range(n)]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(exclusive, a, b): (a.kind, b.kind) for a, b in order}
            for f in concurrent.futures.as_completed(futures):
                results[futures[f]] = f.result()
    finally:
        for p in peers:
            p.stop(check=False)

    if relay:
        expected = ("every pair copies through rsexec (relayed, checked by sha256 at the destination), "
                    "and `--relay never` still ends with exit 7")
        cols = ["result", "`--relay never`", "time", "as expected", "rsexec says"]
    else:
        expected = ("every pair refused as a pairing refusal (exit 7, `the servers refused every way to "
                    "pair them`), nothing under the final name; a copy through rsexec (`--relay`) is "
                    "not in this rsexec yet")
        cols = ["result", "time", "as expected", "rsexec says"]
    lines = [
        "Both servers with their default settings (FXP off: `scripts/peers.sh start ... --no-fxp`; "
        "rsexecd without `--fxp-peers`), `rsexec copy --timeout %d` of 1 MiB from the first to the "
        "second. Expected: %s." % (TIMEOUT, expected),
        "",
        "| source → destination (FXP off) | %s |" % " | ".join(cols),
        "|---|%s" % ("---|" * len(cols)),
    ]
    failures = []
    for a in kinds:
        for b in kinds:
            runs = results.get((a, b))
            if not runs:
                failures.append("nofxp %s -> %s: not run" % (a, b))
                continue
            c, ok, outcome = runs[0]
            cells = [outcome]
            if relay:
                never = runs[1] if len(runs) > 1 else None
                cells.append(never[2] if never else "not run")
                ok = ok and never is not None and never[1]
            msg = c.message() if c.rc else ""
            if len(msg) > 160:
                msg = msg[:157] + "..."
            cells += ["%.1f s" % c.elapsed, "yes" if ok else "**no**", msg.replace("|", "\\|").replace("`", "'")]
            lines.append("| %s → %s | %s |" % (a, b, " | ".join(cells)))
            if not ok:
                failures.append("nofxp %s -> %s: %s, %s in %.1f s; %s" % (a, b, outcome, c.exit_text(), c.elapsed,
                                                                        c.message()))
    return lines, failures


# --- running ------------------------------------------------------------------------------------

def start_all(peers):
    """Starts every peer at once; any that fails to start fails the run."""
    with concurrent.futures.ThreadPoolExecutor(len(peers)) as pool:
        errors = [e for e in pool.map(try_start, peers) if e]
    if errors:
        raise RuntimeError("peers did not start:\n" + "\n".join(errors))


def try_start(p):
    try:
        p.start()
        return None
    except Exception as e:  # reported by start_all; the caller stops every peer
        return "%s: %s" % (p.kind, e)


def verdicts(part, text):
    """{row key: what the row claims} of a generated table, without what changes from run to run
    (speeds, times, rsexec's wording): the claims docs/INTEROP.md must agree with."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or set(line) <= set("|-") or \
                cells[0] in ("source → destination", "FXP off", "source → destination (FXP off)"):
            continue
        if part == "nofxp":
            # The outcomes and whether as expected (the cells around the time), not the time nor
            # rsexec's wording, which may hold escaped '|'.
            at = next((i for i, c in enumerate(cells) if re.fullmatch(r"[\d.]+ s", c)), len(cells))
            rows[cells[0]] = tuple(cells[1:at]) + (cells[at + 1] if at + 1 < len(cells) else "?",)
        elif part == "matrix":
            rows[cells[0]] = tuple(re.sub(r", [\d.]+ MB/s", "", c) for c in cells[1:])
        else:
            # Which server refused, and whether as expected (pure-ftpd's exit code is a race).
            rows[" | ".join(cells[:4])] = cells[6] if len(cells) > 6 else "?"
    return rows


def check_documented(part, lines):
    """Failures where docs/INTEROP.md's section for `part` claims other results than this run's."""
    doc = os.path.join(REPO, "docs", "INTEROP.md")
    with open(doc) as f:
        text = f.read()
    begin, end = "<!-- %s:begin -->" % part, "<!-- %s:end -->" % part
    if begin not in text or end not in text:
        return ["%s has no %s ... %s section" % (doc, begin, end)]
    documented = verdicts(part, text.split(begin, 1)[1].split(end, 1)[0])
    measured = verdicts(part, "\n".join(lines))
    failures = []
    for key in sorted(set(documented) | set(measured)):
        if documented.get(key) != measured.get(key):
            failures.append("docs/INTEROP.md %s row %r says %s, this run %s (RSEXEC_UPDATE_DOCS=1 rewrites it)"
                            % (part, key, documented.get(key, "nothing"), measured.get(key, "nothing")))
    if not measured:
        failures.append("the %s run produced no table rows" % part)
    return failures


def write_section(part, lines, out):
    text = "\n".join(lines) + "\n"
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "interop-%s.md" % part)
    with open(path, "w") as f:
        f.write(text)
    print("wrote " + path)
    if os.environ.get("RSEXEC_UPDATE_DOCS") == "1":
        doc = os.path.join(REPO, "docs", "INTEROP.md")
        with open(doc) as f:
            old = f.read()
        begin, end = "<!-- %s:begin -->" % part, "<!-- %s:end -->" % part
        if begin not in old or end not in old:
            raise RuntimeError("%s has no %s ... %s section" % (doc, begin, end))
        head, rest = old.split(begin, 1)
        _, tail = rest.split(end, 1)
        with open(doc, "w") as f:
            f.write(head + begin + "\n" + text + end + tail)
        print("updated " + doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("matrix", "refusals", "nofxp"), required=True)
    ap.add_argument("--rsexec", default=os.path.join(REPO, "build", "bin", "rsexec"))
    ap.add_argument("--rsexecd", default=None, help="rsexecd for scripts/peers.sh (RSEXECD)")
    ap.add_argument("--out", default=os.path.join(REPO, "build"))
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--jobs", type=int, default=2, help="pairs copied at once")
    ap.add_argument("--big-mib", type=int, default=64)
    ap.add_argument("--net", default=None, help="first three octets of the loopback addresses")
    args = ap.parse_args()
    args.rsexec = os.path.abspath(args.rsexec)
    if args.rsexecd:
        os.environ["RSEXECD"] = os.path.abspath(args.rsexecd)
    if args.net is None:
        args.net = {"matrix": "127.0.5", "refusals": "127.0.6", "nofxp": "127.0.10"}[args.part]
    # A runner's SIGTERM (ctest --timeout) must still reach the finally blocks that stop servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    kinds = [k for k in args.kinds.split(",") if k]

    versions = [version(k) for k in kinds]
    for v in versions:
        print("version: " + v, flush=True)

    work = tempfile.mkdtemp(prefix="rsexec-%s-" % args.part)
    os.chmod(work, 0o755)   # pyftpdlib runs as the test user: it must reach its root
    started = time.monotonic()
    try:
        part = {"matrix": part_matrix, "refusals": part_refusals, "nofxp": part_nofxp}[args.part]
        lines, failures = part(args, work, kinds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    lines = ["Generated by `tests/interop/matrix.py --part %s` (ctest label `interop`); "
             "servers: %s." % (args.part, ", ".join(versions)), ""] + lines
    write_section(args.part, lines, args.out)
    # The tables in docs/INTEROP.md are what this run proves: a row they claim otherwise fails.
    if os.environ.get("RSEXEC_UPDATE_DOCS") != "1" and args.kinds == ",".join(KINDS):
        failures += check_documented(args.part, lines)
    print("\n%s: %d failed, %.1f s" % (args.part, len(failures), elapsed))
    for f in failures:
        print("  failed: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
