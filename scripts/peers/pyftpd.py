#!/usr/bin/python3
"""A pyftpdlib server for the interop tests, started by scripts/peers.sh.

Run it with Debian's interpreter (/usr/bin/python3, package python3-pyftpdlib):

    /usr/bin/python3 scripts/peers/pyftpd.py --addr 127.0.0.5 --port 2121 --root /tmp/r \
        --user rsexec --password rsexec-test --pasv 30000-30049 [--no-fxp] [--run-as rsexec]

It binds, drops root privileges to --run-as (so files it writes belong to that user, like the
other servers'), prints "pyftpdlib listening on ADDR:PORT" and serves until SIGTERM.
"""

import argparse
import grp
import logging
import os
import pwd
import signal
import sys

from pyftpdlib import __ver__
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import ActiveDTP, FTPHandler
from pyftpdlib.servers import FTPServer


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--pasv", required=True, help="passive port range MIN-MAX")
    p.add_argument("--no-fxp", action="store_true",
                   help="refuse data connections to/from an address other than the client's")
    p.add_argument("--run-as", help="user to switch to after binding (when started as root)")
    p.add_argument("--stock-active-dtp", action="store_true",
                   help="keep pyftpdlib's own ActiveDTP, whose stale close stalls other sessions")
    return p.parse_args()


def drop_privileges(name):
    entry = pwd.getpwnam(name)
    os.setgroups([g.gr_gid for g in grp.getgrall() if name in g.gr_mem] + [entry.pw_gid])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.umask(0o022)


class HandedOverActiveDTP(ActiveDTP):
    """pyftpdlib 1.5.7's ActiveDTP without its stale file descriptor.

    Once connected, an ActiveDTP hands its socket to a DTPHandler but stays the session's
    `_dtp_connector`, still open in its own eyes. The session's next PORT/EPRT/PASV/EPSV, ABOR or
    QUIT closes it again (`_shutdown_connecting_dtp`): by then the DTPHandler has closed the socket
    and the kernel may have given its number to another session's socket in the same process,
    which that stale close removes from the event loop. That session then hears nothing (an EPRT
    unanswered, a passive socket never accepted) until its client gives up: the end-of-file stall
    of docs/INTEROP.md. Upstream: giampaolo/pyftpdlib pull request 657. Here the connector counts
    as closed once its socket is handed over, so the later close does nothing.
    """

    def handle_connect(self):
        super().handle_connect()
        # Still open after handle_connect: the socket went to a DTPHandler (every other way out
        # closes the connector or raises).
        if not self._closed:
            self._closed = True


def main():
    args = parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(message)s")

    authorizer = DummyAuthorizer()
    # e l r a d f m w M T: every permission, including APPE, MKD, RNFR/RNTO, SITE CHMOD, MFMT.
    authorizer.add_user(args.user, args.password, args.root, perm="elradfmwMT")

    handler = FTPHandler
    handler.authorizer = authorizer
    # FXP: accept PORT to another host, and a passive data connection from another host.
    handler.permit_foreign_addresses = not args.no_fxp
    if not args.stock_active_dtp:
        handler.active_dtp = HandedOverActiveDTP
    low, high = (int(x) for x in args.pasv.split("-"))
    handler.passive_ports = range(low, high + 1)
    handler.banner = "pyftpdlib %s ready." % __ver__

    server = FTPServer((args.addr, args.port), handler)
    if args.run_as and os.getuid() == 0:
        drop_privileges(args.run_as)
    if not os.access(args.root, os.R_OK | os.W_OK | os.X_OK):
        sys.exit("pyftpd: %s is not writable by uid %d" % (args.root, os.getuid()))

    # serve_forever(handle_exit=True) closes every session on SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    addr, port = server.socket.getsockname()[:2]
    print("pyftpdlib listening on %s:%d" % (addr, port), flush=True)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
