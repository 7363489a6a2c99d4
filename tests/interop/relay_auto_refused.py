#!/usr/bin/python3
"""rsexec batch --relay auto (the default) between two vsftpd that refuse server-to-server transfer.

Command line, as root, after scripts/setup-interop.sh:

    /usr/bin/python3 tests/interop/relay_auto_refused.py [--rsexec build/bin/rsexec]
        [--rsexecd build/bin/rsexecd] [--net 127.0.16]

Two vsftpd as shipped (no pasv_promiscuous/port_promiscuous), with accept_timeout at 600 s: a
transfer command a server received before the other one refused the pairing would hold that
server's session (and vsftpd's upload lock on the temporary name) for ten minutes, far beyond
this test's bound of HARD_LIMIT seconds a run. One job of FILES small files, run with -j 1, -j 4
and -j auto. Asserts for each run: exit 0, every file done on its first attempt, relayed, and
byte-identical (sha256) at the destination, no temporary `.rsexec-part` file left, the relay said
once. The first item alone pays the refused direct attempt: with -j 4 and -j auto no more
PORT/EPRT commands go out than with -j 1, and no worker logs in more than once a side beyond the
first item's extra login. Every server is stopped by pid at the end; every run is bounded.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import Peer, run_every_kind  # noqa: E402

HARD_LIMIT = 60    # seconds a run may take; the servers would hold a stuck transfer for ACCEPT_TIMEOUT
ACCEPT_TIMEOUT = 600
FILES = 16
LOGIN = re.compile(r"(?m)^(src|dst)#\d+> USER ")
PAIRING = re.compile(r"(?m)^(src|dst)#\d+> (PORT|EPRT) ")
SAID = "relaying: the servers refuse to connect to each other"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def left_temporaries(root):
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(".rsexec-part")]


def run_batch(args, src, dst, names, folder, jobs, work):
    """One run; returns (problems, figures)."""
    job = os.path.join(work, folder + ".job")
    with open(job, "w") as f:
        f.writelines("%s %s\n" % (src.url("set/" + n), dst.url(folder + "/")) for n in names)
    label = "-j %s" % jobs
    started = time.monotonic()
    try:
        done = subprocess.run([args.rsexec, "batch", "-v", "-j", jobs, "--no-journal", "--json", "--timeout", "30",
                               job], capture_output=True, text=True, timeout=HARD_LIMIT)
    except subprocess.TimeoutExpired:
        return ["%s: still running after %d s (a session waiting out vsftpd's accept_timeout?)"
                % (label, HARD_LIMIT)], {}
    seconds = time.monotonic() - started
    problems = []
    if done.returncode != 0:
        problems.append("exit %d: %s" % (done.returncode, done.stderr[-1500:]))
    events = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
    summary = events[-1] if events else {}
    finished = [e for e in events if e.get("event") == "done"]
    if summary.get("done") != len(names) or len(finished) != len(names):
        errors = [e.get("error") for e in events if e.get("error")]
        problems.append("summary %s; errors %s" % (summary, errors[:3]))
    if not all(e.get("relay") is True for e in finished):
        problems.append("done events without \"relay\": true: %s" % [e for e in finished if e.get("relay") is not True][:2])
    retried = [e for e in events if e.get("attempt", 1) != 1]
    if retried:
        problems.append("items tried more than once: %s" % retried[:2])
    if done.stderr.count(SAID) != 1:
        problems.append("the relay said %d times, not once" % done.stderr.count(SAID))
    for name in names:
        copy = dst.path(folder + "/" + name)
        if not os.path.exists(copy) or sha256(copy) != sha256(src.path("set/" + name)):
            problems.append(name + " missing or different")
            break
    left = left_temporaries(dst.path(folder))
    if left:
        problems.append("temporary files left: %s" % left[:3])
    figures = {"seconds": seconds, "logins": len(LOGIN.findall(done.stderr)),
               "pairings": len(PAIRING.findall(done.stderr)),
               "pairs": len(set(re.findall(r"(?m)^src#(\d+)> USER ", done.stderr)))}
    return ["%s: %s" % (label, p) for p in problems], figures


def run_kind(args, kind, index, work):
    if kind != "vsftpd":
        return ["%s: this test is about vsftpd's upload lock; run it with --kinds vsftpd" % kind]
    src_root, dst_root = os.path.join(work, "src"), os.path.join(work, "dst")
    names = ["a%02d.bin" % i for i in range(FILES)]
    os.makedirs(os.path.join(src_root, "set"))
    for i, name in enumerate(names):
        with open(os.path.join(src_root, "set", name), "wb") as f:
            f.write(os.urandom(1000 * i + 7))
    runs = [("1", "one"), ("4", "four"), ("auto", "auto")]
    # Made before the servers start: peers.sh hands the roots to the servers' user.
    for _, folder in runs:
        os.makedirs(os.path.join(dst_root, folder))
    os.environ["RSEXEC_PEERS_VSFTPD_ACCEPT_TIMEOUT"] = str(ACCEPT_TIMEOUT)
    problems = []
    with Peer(kind, "%s.1" % args.net, src_root, fxp=False) as src, \
            Peer(kind, "%s.2" % args.net, dst_root, fxp=False) as dst:
        first = None
        for jobs, folder in runs:
            found, figures = run_batch(args, src, dst, names, folder, jobs, work)
            problems += found
            if found:
                print("FAIL -j %s: %s" % (jobs, "; ".join(found)), flush=True)
                continue
            print("ok   -j %s: %d files in %.2f s, %d logins, %d PORT/EPRT, %s pairs"
                  % (jobs, len(names), figures["seconds"], figures["logins"], figures["pairings"], figures["pairs"]),
                  flush=True)
            if jobs == "1":
                first = figures
                if figures["pairings"] == 0:
                    problems.append("-j 1: no direct attempt at all (--relay auto pairs the servers first)")
                continue
            if first is None:
                problems.append("-j %s: not compared, the -j 1 run failed" % jobs)
                continue
            # Only the first item pays the refused pairing: the other workers relay right away.
            if figures["pairings"] > first["pairings"]:
                problems.append("-j %s: %d PORT/EPRT sent, -j 1 sent %d: workers tried the refusing pair again"
                                % (jobs, figures["pairings"], first["pairings"]))
            # One login a side per worker, plus the first item's extra login.
            allowed = first["logins"] + 2 * (figures["pairs"] - 1)
            if figures["logins"] > allowed:
                problems.append("-j %s: %d logins with %s pairs, at most %d expected"
                                % (jobs, figures["logins"], figures["pairs"], allowed))
    return problems


def main():
    sys.argv += [] if any(a.startswith("--kinds") for a in sys.argv) else ["--kinds", "vsftpd"]
    return run_every_kind(__doc__.split("\n")[0], "relay-auto", "RSEXEC_INTEROP_RELAY_AUTO_NET", "127.0.16", run_kind,
                          "--relay auto relayed every batch, the refusal paid once")


if __name__ == "__main__":
    sys.exit(main())
