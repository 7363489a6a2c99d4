#!/usr/bin/python3
"""A scripted FTP server that misbehaves on purpose, for rsexec's fault tests (issue 7).

    hostile_server.py --host 127.0.0.3 --script NAME [--root DIR] [--log FILE]

Listens on HOST with a port the kernel chooses and prints that port on stdout. Standard library
only. Every script starts from a small, well-behaved FTP server (RFC 959: USER, PASS, FEAT, TYPE,
SIZE, REST, PASV, EPSV, PORT, EPRT, RFC 438's LSTN and SOCK as docs/PROTOCOL.md maps them to TCP,
RETR, STOR, APPE, DELE, RNFR, RNTO, ABOR, QUIT; PWD and CWD, but no MLST) that serves the
files under --root and accepts data connections to and from any address (FXP allowed); the
scripts change one thing:

    well-behaved        nothing: the normal server on the other side of a test
    endless-multiline   the greeting is a multi-line reply that never ends (RFC 959 4.2)
    slow-multiline      the same, one continuation line every 0.2 s
    huge-line           the greeting is one 100 MiB line
    garbage-code        the greeting is "abc hello"
    close-mid-reply     the reply to USER stops in the middle and the connection closes
    no-greeting         accepts the connection and never says anything
    pasv-third-party    227 names another host (--announce-host): the FTP bounce attack
    epsv-third-party    229 also names another host, in the form EPRT uses
    sock-third-party    LSTN's 255 SOCK names another host
    hang-after-150      RETR/STOR answer 150 and then nothing, ever (ABOR ignored)
    refuse-port         PORT, EPRT, LSTN and SOCK answer 500
    data-from-loopback  PORT/EPRT data connections come from 127.0.0.1, not the control connection's
                        address: a listener pinned to this host by SOCK drops them

Scripts whose passive side refuses a data connection from a host other than the client's (FXP
off for passive mode), each the way a server in the field does; PORT/EPRT to another host work:

    sticky-pasv         the transfer gets "425 Security: Bad IP connecting." (vsftpd) and the
                        passive socket stays open, ABOR or not; while it is open, PORT and EPRT
                        get "550 PORT refused: passive mode is still set"
    foreign-data-550    the transfer gets "550 Remote addresses do not match"
    foreign-data-after-150
                        pyftpdlib's default: RETR/STOR answer 150 at once, a foreign connection
                        gets "425 Rejected data connection from foreign address A:P." (its
                        listener stays open); and PORT/EPRT to another host get "501 Rejected
                        data connection to foreign address A:P."

Scripts that fail the first --fail-first N RETRs of each file (counted per path, across
connections) and then serve it, for rsexec's retries; and two that lie about a file's size:

    retr-421            RETR answers 421 and the control connection closes (RFC 959 4.2)
    retr-425            RETR answers 425 Cannot open data connection
    retr-450            RETR answers 450 File unavailable
    retr-drop-control   RETR: the control connection closes without a reply
    retr-drop-data      RETR: 150, half the file, the data connection closes, 426
    retr-550            RETR answers 550 (permanent: must not be retried)
    size-liar           SIZE says 4096 bytes more than RETR sends (every time)
    short-226           RETR sends half the file, closes the data connection and says 226
    slow-retr           RETR sends 256 KiB/s (a transfer long enough for progress events)

Scripts about digests (--verify checksum):

    digest-liar         FEAT offers XSHA256, whose "250 <hex>" is the SHA-256 of other bytes
    corrupt-store       STOR/APPE store the data with its first byte changed (no digest offered)

Scripts for what rsexec records of a server's words:

    echo-password       PASS answers "530 Login incorrect for USER:PASSWORD (ftp://USER:PASSWORD@HOST/)":
                        a server that quotes the password back in its refusal
    fractional-modify   MLSD (RFC 3659 7) and MDTM give modification times with a fraction,
                        "modify=YYYYMMDDHHMMSS.123": the file's time, whole seconds, plus .123

--log appends every command line the server receives ("PORT 127,0,0,3,195,80"), so that a test
can check what rsexec told this server.
"""

import argparse
import hashlib
import os
import posixpath
import socket
import socketserver
import sys
import threading
import time

SCRIPTS = (
    "well-behaved", "endless-multiline", "slow-multiline", "huge-line", "garbage-code",
    "close-mid-reply", "no-greeting", "pasv-third-party", "epsv-third-party", "sock-third-party",
    "hang-after-150",
    "refuse-port", "data-from-loopback",
    "sticky-pasv", "foreign-data-550", "foreign-data-after-150",
    "retr-421", "retr-425", "retr-450", "retr-drop-control", "retr-drop-data", "retr-550",
    "size-liar", "short-226", "slow-retr",
    "digest-liar", "corrupt-store",
    "echo-password", "fractional-modify",
)


class Session:
    """One control connection of the well-behaved server; scripts override single steps."""

    def __init__(self, server, sock):
        self.server = server
        self.options = server.options
        self.sock = sock
        self.host = sock.getsockname()[0]
        self.reader = sock.makefile("rb")
        self.write_lock = threading.Lock()
        self.passive = None        # listening data socket after PASV/EPSV
        self.active = None         # (host, port) after PORT/EPRT/SOCK
        self.bound = None          # the socket SOCK (without LSTN) will connect from
        self.transfer = None       # the thread moving data, while one runs
        self.data = None           # its data connection
        self.aborted = threading.Event()
        self.rename_from = None
        self.cwd = "/"             # PWD/CWD; other paths are relative to it
        self.restart = 0           # REST offset for the next RETR (RFC 3659 5)

    # --- plumbing ---------------------------------------------------------------------------
    def reply(self, text):
        with self.write_lock:
            self.sock.sendall(text.encode("latin-1") + b"\r\n")

    def log(self, line):
        if self.options.log:
            with self.server.log_lock, open(self.options.log, "a", encoding="latin-1") as out:
                out.write(line + "\n")

    def path(self, name):
        parts = [p for p in posixpath.join(self.cwd, name).split("/") if p not in ("", ".")]
        if ".." in parts:
            return None
        return os.path.join(self.options.root, *parts)

    def run(self):
        if not self.greet():
            return
        for raw in self.reader:
            line = raw.decode("latin-1").rstrip("\r\n")
            self.log(line)
            verb, _, argument = line.partition(" ")
            verb = verb.upper()
            if verb == "ABOR":
                self.abort()
                continue
            self.finish_transfer()
            handler = getattr(self, "cmd_" + verb, None)
            if handler is None:
                self.reply("502 Command not implemented")
            elif handler(argument) == "quit":
                return

    def greet(self):
        self.reply("220 hostile_server ready")
        return True

    # --- commands ---------------------------------------------------------------------------
    def cmd_USER(self, argument):
        self.reply("331 Password required")

    def cmd_PASS(self, argument):
        self.reply("230 Logged in")

    def cmd_ACCT(self, argument):
        self.reply("230 Logged in")

    features = ("SIZE", "EPSV", "EPRT")

    def cmd_FEAT(self, argument):
        self.reply("211-Features:\r\n" + "".join(" %s\r\n" % f for f in self.features) + "211 End")

    def cmd_TYPE(self, argument):
        self.reply("200 Type set")

    def cmd_NOOP(self, argument):
        self.reply("200 OK")

    def cmd_SYST(self, argument):
        self.reply("215 UNIX Type: L8")

    def cmd_QUIT(self, argument):
        self.reply("221 Bye")
        return "quit"

    def cmd_PWD(self, argument):
        self.reply('257 "%s" is the current directory' % self.cwd.replace('"', '""'))

    def cmd_CWD(self, argument):
        target = posixpath.normpath(posixpath.join(self.cwd, argument))
        path = self.path(target)
        if path is None or not os.path.isdir(path):
            self.reply("550 No such directory")
        else:
            self.cwd = "/" + target.lstrip("/")
            self.reply("250 Directory changed")

    def cmd_SIZE(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
        else:
            self.reply("213 %d" % os.path.getsize(path))

    def cmd_DELE(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
        else:
            os.unlink(path)
            self.reply("250 Deleted")

    def cmd_REST(self, argument):
        if not argument.isdigit():
            self.reply("501 Bad REST argument")
            return
        self.restart = int(argument)
        self.reply("350 Restarting at %d" % self.restart)

    def cmd_RNFR(self, argument):
        path = self.path(argument)
        if path is None or not os.path.exists(path):
            self.reply("550 No such file")
        else:
            self.rename_from = path
            self.reply("350 Ready for RNTO")

    def cmd_RNTO(self, argument):
        path = self.path(argument)
        if path is None or self.rename_from is None:
            self.reply("503 RNFR first")
        else:
            os.replace(self.rename_from, path)
            self.rename_from = None
            self.reply("250 Renamed")

    def listen(self):
        self.close_passive()
        self.active = None
        self.passive = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.passive.bind((self.host, 0))
        self.passive.listen(1)
        return self.passive.getsockname()[1]

    def cmd_PASV(self, argument):
        port = self.listen()
        self.reply("227 Entering Passive Mode (%s)" % pasv_text(self.host, port))

    def cmd_EPSV(self, argument):
        port = self.listen()
        self.reply("229 Entering Extended Passive Mode (|||%d|)" % port)

    def cmd_PORT(self, argument):
        numbers = argument.split(",")
        if len(numbers) != 6 or not all(n.isdigit() for n in numbers):
            self.reply("501 Bad PORT argument")
            return
        self.close_passive()
        self.active = (".".join(numbers[:4]), int(numbers[4]) * 256 + int(numbers[5]))
        self.reply("200 PORT OK")

    def cmd_EPRT(self, argument):
        fields = argument[1:-1].split(argument[:1]) if argument else []
        if len(fields) != 3 or fields[0] not in ("1", "2") or not fields[2].isdigit():
            self.reply("501 Bad EPRT argument")
            return
        self.close_passive()
        self.active = (fields[1], int(fields[2]))
        self.reply("200 EPRT OK")

    def cmd_LSTN(self, argument):
        port = self.listen()
        self.reply("255 SOCK %s" % pasv_text(self.announced_host(), port))

    def announced_host(self):
        return self.host

    def cmd_SOCK(self, argument):
        fields = argument[1:-1].split(argument[:1]) if argument[:1] == "|" else []
        numbers = argument.split(",")
        if len(fields) == 3 and fields[2].isdigit():
            target = (fields[1], int(fields[2]))
        elif len(numbers) == 6 and all(n.isdigit() for n in numbers):
            target = (".".join(numbers[:4]), int(numbers[4]) * 256 + int(numbers[5]))
        else:
            self.reply("501 Bad SOCK argument")
            return
        if self.passive is not None:
            # After LSTN (RFC 438 rule 2): the peer that will connect; not enforced here.
            self.reply("200 Only %s:%d may connect" % target)
            return
        # Without LSTN: connect to target later, from a socket bound now and announced.
        self.bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.bound.bind((self.host, 0))
        self.active = target
        self.reply("255 SOCK %s" % pasv_text(self.host, self.bound.getsockname()[1]))

    def cmd_RETR(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
            return
        offset, self.restart = self.restart, 0
        self.start_transfer(lambda data: self.send_file(data, path, offset))

    def cmd_STOR(self, argument):
        self.store(argument, "wb")

    def cmd_APPE(self, argument):
        self.store(argument, "ab")

    def store(self, argument, mode):
        path = self.path(argument)
        if path is None:
            self.reply("553 Bad file name")
            return
        self.start_transfer(lambda data: self.receive_file(data, path, mode))

    # --- data transfers ---------------------------------------------------------------------
    def start_transfer(self, move):
        if self.passive is None and self.active is None:
            self.reply("425 Use PORT or PASV first")
            return
        self.aborted.clear()
        self.transfer = threading.Thread(target=self.run_transfer, args=(move,), daemon=True)
        self.transfer.start()

    def run_transfer(self, move):
        # 150 only once the data connection is open, as vsftpd does in passive mode.
        try:
            self.data = self.open_data()
        except OSError as error:
            self.refuse_data(error)
            return
        self.opened_data()
        try:
            self.data.settimeout(self.options.data_timeout)
            move(self.data)
            ok = not self.aborted.is_set()
        except OSError:
            ok = False
        finally:
            self.data.close()
            self.data = None
        self.reply("226 Transfer complete" if ok else "426 Connection closed; transfer aborted")

    def refuse_data(self, error):
        self.close_passive()
        self.reply("426 Aborted" if self.aborted.is_set() else "425 Cannot open data connection: %s" % error)

    def opened_data(self):
        self.reply("150 Opening BINARY mode data connection")

    def open_data(self):
        if self.passive is not None:
            # The listener stays in self.passive while it waits, so that ABOR can shut it.
            self.passive.settimeout(self.options.data_timeout)
            try:
                connection, _ = self.passive.accept()
            finally:
                self.close_passive()
            return connection
        target, self.active = self.active, None
        if self.bound is not None:
            connection, self.bound = self.bound, None
            connection.settimeout(self.options.data_timeout)
            connection.connect(target)
            return connection
        # From the control connection's own address, as a real server's data connection comes:
        # a listener pinned by SOCK to this host (docs/PROTOCOL.md) refuses any other.
        return socket.create_connection(target, timeout=self.options.data_timeout,
                                        source_address=(self.data_source_host(), 0))

    def data_source_host(self):
        return self.host

    def send_file(self, data, path, offset=0):
        with open(path, "rb") as source:
            source.seek(offset)
            while chunk := source.read(65536):
                data.sendall(chunk)

    def receive_file(self, data, path, mode):
        with open(path, mode) as target:
            while chunk := data.recv(65536):
                target.write(chunk)

    def finish_transfer(self):
        # RFC 959: commands other than ABOR wait until the transfer has ended.
        if self.transfer is not None:
            self.transfer.join()
            self.transfer = None

    def abort(self):
        # RFC 959 4.1.3: 426 for the aborted transfer (sent by its thread), then 226.
        if self.transfer is not None:
            self.aborted.set()
            self.close_passive()
            if self.data is not None:
                try:
                    self.data.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.finish_transfer()
        self.reply("226 ABOR command successful")

    def close_passive(self):
        if self.passive is not None:
            listener, self.passive = self.passive, None
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()


def pasv_text(host, port):
    return "%s,%d,%d" % (host.replace(".", ","), port >> 8, port & 255)


def wait_until_closed(session):
    """Reads (and logs) whatever the client sends until it hangs up."""
    for raw in session.reader:
        session.log(raw.decode("latin-1").rstrip("\r\n"))


class EndlessMultiline(Session):
    def greet(self):
        self.reply("220-Welcome; this reply goes on and on")
        number = 0
        slow = self.options.script == "slow-multiline"
        while True:
            lines = []
            for _ in range(1 if slow else 100):
                number += 1
                # Lines that look like an end but are not (RFC 959 4.2): "220-", "221 ", " 220 ".
                lines.append(("220-line %d", " 220 line %d", "221 line %d", "continuation %d")[number % 4] % number)
            self.reply("\r\n".join(lines))
            if slow:
                time.sleep(0.2)


class HugeLine(Session):
    def greet(self):
        chunk = b"A" * 65536
        self.sock.sendall(b"220 ")
        for _ in range(100 * 16):  # 100 MiB in 64 KiB pieces: the server itself stays small
            self.sock.sendall(chunk)
        self.sock.sendall(b"\r\n")
        wait_until_closed(self)
        return False


class GarbageCode(Session):
    def greet(self):
        self.reply("abc hello")
        wait_until_closed(self)
        return False


class CloseMidReply(Session):
    def cmd_USER(self, argument):
        with self.write_lock:
            self.sock.sendall(b"331-Password required for this\r\n331-user, and the rest of this rep")
        self.sock.shutdown(socket.SHUT_RDWR)
        return "quit"


class NoGreeting(Session):
    def greet(self):
        wait_until_closed(self)
        return False


class PasvThirdParty(Session):
    def cmd_PASV(self, argument):
        # Listens on its own address but names another host: a client that forwards this lets
        # the other server connect wherever this one wants (the FTP bounce attack).
        port = self.listen()
        self.reply("227 Entering Passive Mode (%s)" % pasv_text(self.options.announce_host, port))


class EpsvThirdParty(Session):
    def cmd_EPSV(self, argument):
        port = self.listen()
        self.reply("229 Entering Extended Passive Mode (|1|%s|%d|) (|||%d|)"
                   % (self.options.announce_host, port, port))


class SockThirdParty(Session):
    def announced_host(self):
        return self.options.announce_host


class HangAfter150(Session):
    def start_transfer(self, move):
        self.reply("150 Opening BINARY mode data connection")
        wait_until_closed(self)
        raise ConnectionAbortedError


class RefusePort(Session):
    def refuse(self, argument):
        self.reply("500 Active mode and server-to-server transfers are refused here")

    cmd_PORT = cmd_EPRT = cmd_LSTN = cmd_SOCK = refuse


class ForeignPeer(OSError):
    """A data connection from a host other than the client's, refused."""

    def __init__(self, peer):
        super().__init__("foreign address %s:%d" % peer[:2])
        self.peer = peer


class PassiveFromClientOnly(Session):
    """Passive data connections only from the client's own host; refusals as subclasses word them."""

    def open_data(self):
        if self.passive is None:
            return super().open_data()
        self.passive.settimeout(self.options.data_timeout)
        connection, peer = self.passive.accept()
        if peer[0] != self.sock.getpeername()[0]:
            connection.close()
            raise ForeignPeer(peer)
        self.close_passive()
        return connection


class StickyPasv(PassiveFromClientOnly):
    def refuse_data(self, error):
        if not isinstance(error, ForeignPeer):
            return super().refuse_data(error)
        # The listener is kept: the right peer might still come.
        self.reply("425 Security: Bad IP connecting.")

    def abort(self):
        # ABOR ends a transfer, not the passive socket the server still keeps.
        if self.transfer is not None:
            self.aborted.set()
            if self.data is not None:
                try:
                    self.data.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.finish_transfer()
        self.reply("226 ABOR command successful")

    def refuse_while_passive(handler):
        def refuse(self, argument):
            if self.passive is not None:
                self.reply("550 PORT refused: passive mode is still set")
                return
            handler(self, argument)
        return refuse

    cmd_PORT = refuse_while_passive(Session.cmd_PORT)
    cmd_EPRT = refuse_while_passive(Session.cmd_EPRT)


class ForeignData550(PassiveFromClientOnly):
    def refuse_data(self, error):
        if not isinstance(error, ForeignPeer):
            return super().refuse_data(error)
        self.close_passive()
        self.reply("550 Remote addresses do not match")


class ForeignDataAfter150(PassiveFromClientOnly):
    def start_transfer(self, move):
        self.said_150 = self.passive is not None
        if self.said_150:
            self.reply("150 File status okay. About to open data connection.")
        super().start_transfer(move)

    def opened_data(self):
        if not self.said_150:
            super().opened_data()

    def open_data(self):
        try:
            return super().open_data()
        except ForeignPeer as refused:
            # From pyftpdlib's event loop, a moment after the connection: the other server has
            # said its 150 by then, so both transfers have started when the refusal comes.
            time.sleep(0.5)
            self.reply("425 Rejected data connection from foreign address %s:%d." % refused.peer[:2])
            raise

    def refuse_data(self, error):
        # The 425 is said; pyftpdlib keeps the listener and leaves the transfer pending.
        if not isinstance(error, ForeignPeer):
            super().refuse_data(error)

    def refuse_active(handler, verb):
        def refuse(self, argument):
            if verb == "PORT":
                numbers = argument.split(",")
                host = ".".join(numbers[:4])
                port = int(numbers[4]) * 256 + int(numbers[5]) if len(numbers) == 6 and all(
                    n.isdigit() for n in numbers) else 0
            else:
                fields = argument[1:-1].split(argument[:1]) if argument else []
                host, port = (fields[1], int(fields[2])) if len(fields) == 3 and fields[2].isdigit() else ("", 0)
            if host and host != self.sock.getpeername()[0]:
                self.reply("501 Rejected data connection to foreign address %s:%d." % (host, port))
                return
            handler(self, argument)
        return refuse

    cmd_PORT = refuse_active(Session.cmd_PORT, "PORT")
    cmd_EPRT = refuse_active(Session.cmd_EPRT, "EPRT")


class DataFromLoopback(Session):
    def data_source_host(self):
        return "127.0.0.1"


class FailFirst(Session):
    """Fails the first --fail-first RETRs of each path the script's way, then serves it."""

    features = Session.features + ("REST STREAM",)  # RFC 3659 5: a retry may resume

    def cmd_RETR(self, argument):
        with self.server.log_lock:
            count = self.server.retr_counts.get(argument, 0) + 1
            self.server.retr_counts[argument] = count
        if count > self.options.fail_first:
            return Session.cmd_RETR(self, argument)
        script = self.options.script
        if script == "retr-421":
            self.reply("421 Service not available, closing control connection")
            self.sock.shutdown(socket.SHUT_RDWR)
            return "quit"
        if script == "retr-drop-control":
            self.sock.shutdown(socket.SHUT_RDWR)
            return "quit"
        if script == "retr-drop-data":
            path = self.path(argument)
            if path is None or not os.path.isfile(path):
                self.reply("550 No such file")
                return None
            self.start_transfer(lambda data: send_half(data, path, aborted=True))
            return None
        self.reply({"retr-425": "425 Cannot open data connection",
                    "retr-450": "450 File unavailable, try again later",
                    "retr-550": "550 Permission denied"}[script])
        self.close_passive()
        self.active = None
        return None


class AbortedTransfer(OSError):
    """Raised by a data mover that closed the connection on purpose: the reply is 426."""


def send_half(data, path, aborted):
    with open(path, "rb") as source:
        data.sendall(source.read(max(1, os.path.getsize(path) // 2)))
    if aborted:
        raise AbortedTransfer("data connection dropped on purpose")


class SizeLiar(Session):
    def cmd_SIZE(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
        else:
            self.reply("213 %d" % (os.path.getsize(path) + 4096))


class Short226(Session):
    def cmd_RETR(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
            return
        self.start_transfer(lambda data: send_half(data, path, aborted=False))


class SlowRetr(Session):
    features = Session.features + ("REST STREAM",)

    def send_file(self, data, path, offset=0):
        with open(path, "rb") as source:
            source.seek(offset)
            while chunk := source.read(16384):
                data.sendall(chunk)
                time.sleep(16384 / (256 * 1024))


class DigestLiar(Session):
    features = Session.features + ("XSHA256",)

    def cmd_XSHA256(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
            return
        with open(path, "rb") as f:
            self.reply("250 %s" % hashlib.sha256(f.read() + b"not these bytes").hexdigest())


class CorruptStore(Session):
    def receive_file(self, data, path, mode):
        first = True
        with open(path, mode) as target:
            while chunk := data.recv(65536):
                if first:
                    chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                    first = False
                target.write(chunk)


class EchoPassword(Session):
    def cmd_USER(self, argument):
        self.user = argument
        self.reply("331 Password required")

    def cmd_PASS(self, argument):
        user = getattr(self, "user", "")
        self.reply("530 Login incorrect for %s:%s (ftp://%s:%s@%s/)" % (user, argument, user, argument, self.host))


class FractionalModify(Session):
    features = Session.features + ("MDTM", "MLST type*;size*;modify*;")

    @staticmethod
    def modify(path):
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(int(os.stat(path).st_mtime))) + ".123"

    def cmd_MDTM(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isfile(path):
            self.reply("550 No such file")
        else:
            self.reply("213 " + self.modify(path))

    def cmd_MLSD(self, argument):
        path = self.path(argument)
        if path is None or not os.path.isdir(path):
            self.reply("550 No such directory")
            return

        def send(data):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                kind = "dir" if os.path.isdir(full) else "file"
                data.sendall(("type=%s;size=%d;modify=%s; %s\r\n"
                              % (kind, os.path.getsize(full), self.modify(full), name)).encode("utf-8"))
        self.start_transfer(send)


SESSIONS = {
    "endless-multiline": EndlessMultiline,
    "slow-multiline": EndlessMultiline,
    "huge-line": HugeLine,
    "garbage-code": GarbageCode,
    "close-mid-reply": CloseMidReply,
    "no-greeting": NoGreeting,
    "pasv-third-party": PasvThirdParty,
    "epsv-third-party": EpsvThirdParty,
    "sock-third-party": SockThirdParty,
    "hang-after-150": HangAfter150,
    "refuse-port": RefusePort,
    "data-from-loopback": DataFromLoopback,
    "sticky-pasv": StickyPasv,
    "foreign-data-550": ForeignData550,
    "foreign-data-after-150": ForeignDataAfter150,
    "retr-421": FailFirst,
    "retr-425": FailFirst,
    "retr-450": FailFirst,
    "retr-drop-control": FailFirst,
    "retr-drop-data": FailFirst,
    "retr-550": FailFirst,
    "size-liar": SizeLiar,
    "short-226": Short226,
    "slow-retr": SlowRetr,
    "digest-liar": DigestLiar,
    "corrupt-store": CorruptStore,

    "echo-password": EchoPassword,
    "fractional-modify": FractionalModify,
}


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        session = SESSIONS.get(self.server.options.script, Session)(self.server, self.request)
        try:
            session.run()
        except OSError:
            pass  # the client hung up: that is how most scripts end
        finally:
            session.close_passive()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options):
        self.options = options
        self.log_lock = threading.Lock()
        self.retr_counts = {}  # path -> RETRs seen, for the retr-* scripts
        super().__init__((options.host, 0), Handler)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--script", choices=SCRIPTS, default="well-behaved")
    parser.add_argument("--root", default=".")
    parser.add_argument("--log")
    parser.add_argument("--announce-host", default="127.0.0.99")
    parser.add_argument("--data-timeout", type=float, default=30.0)
    parser.add_argument("--fail-first", type=int, default=1,
                        help="retr-* scripts: how many RETRs of each path fail before one is served")
    options = parser.parse_args()
    server = Server(options)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
