#!/usr/bin/python3
"""rsexecd's jail against symlinks that leave the root, and names that could forge replies.

    test_jail.py RSEXECD [SymlinkEscape|ControlCharacterNames]

SymlinkEscape: links planted in the root (as another local user could) and a link moved by
RNFR/RNTO so that it points outside; no command may read, write, list, create, rename or delete
anything outside through them, dangling or not, while a relative link that stays inside works.
ControlCharacterNames: names holding CR, LF or other control characters, made on disk by other
means, are listed without them (a reply or a listing line cannot be forged), and no command
creates such a name (553).

Every scratch directory comes from tempfile.mkdtemp; every wait is bounded by socket timeouts.
"""
import os
import re
import shutil
import socket
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from rsexecd_fixture import Control, RsexecdServer  # noqa: E402

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")

SECRET = b"outside the root\n"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def with_data(ctl, address, command, payload=None):
    """Runs a data command over EPSV: (final code, final text, bytes received or None)."""
    code, text = ctl.cmd("EPSV")
    check(code == 229, "EPSV: " + text)
    port = int(re.search(r"\(\|\|\|(\d+)\|\)", text).group(1))
    conn = socket.create_connection((address, port), timeout=10)
    try:
        ctl.send(command)
        code, text = ctl.reply()
        if code != 150:
            return code, text, None
        received = b""
        if payload is not None:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
        else:
            while chunk := conn.recv(65536):
                received += chunk
    finally:
        conn.close()
    code, text = ctl.reply()
    return code, text, received


def read(path):
    with open(path, "rb") as f:
        return f.read()


class SymlinkEscape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = RsexecdServer(BINARY, "127.0.0.1").start()
        cls.outside = tempfile.mkdtemp(prefix="rsexecd-jail-outside-")
        with open(os.path.join(cls.outside, "secret.txt"), "wb") as f:
            f.write(SECRET)
        os.makedirs(os.path.join(cls.outside, "subdir"))
        root = cls.server.root
        os.symlink(cls.outside, os.path.join(root, "out"))
        os.symlink(os.path.join(cls.outside, "secret.txt"), os.path.join(root, "out-file"))
        os.symlink(os.path.join(cls.outside, "missing.txt"), os.path.join(root, "out-dangling"))
        os.symlink(os.path.join(cls.outside, "nodir"), os.path.join(root, "out-dangling-dir"))
        os.makedirs(os.path.join(root, "data"))
        with open(os.path.join(root, "data", "inner.txt"), "wb") as f:
            f.write(b"inside\n")
        os.symlink("data/inner.txt", os.path.join(root, "inner-link"))
        os.symlink("data", os.path.join(root, "inner-dir"))

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()
        shutil.rmtree(cls.outside, ignore_errors=True)

    def setUp(self):
        self.ctl = Control(self.server.address, self.server.port)
        self.addCleanup(self.ctl.close)
        self.ctl.login()

    def outside_path(self, *parts):
        return os.path.join(self.outside, *parts)

    def check_outside_untouched(self):
        check(sorted(os.listdir(self.outside)) == ["secret.txt", "subdir"],
              "the outside directory changed: %s" % sorted(os.listdir(self.outside)))
        check(read(self.outside_path("secret.txt")) == SECRET, "the outside file changed")

    def test_stor_onto_a_dangling_link_leaving_the_root_creates_nothing_outside(self):
        target = self.outside_path("new.txt")
        os.symlink(target, self.server.path("dangling"))
        for verb in ("STOR", "APPE"):
            code, text, _ = with_data(self.ctl, self.server.address, verb + " dangling", b"written through\n")
            check(code in (550, 553), "%s dangling: %s" % (verb, text))
            check(not os.path.lexists(target), "%s dangling created %s" % (verb, target))
        check(os.path.islink(self.server.path("dangling")), "the link itself was replaced")

    def test_a_link_renamed_to_point_outside_is_not_followed(self):
        # sub/rel -> ../f.txt points at root/f.txt; moved to the root by RNFR/RNTO it points at
        # the directory holding the root. Once with a file there, once dangling.
        scratch = os.path.dirname(self.server.root)
        for name, existing in (("f.txt", True), ("g.txt", False)):
            outside_file = os.path.join(scratch, name)
            if existing:
                with open(outside_file, "wb") as f:
                    f.write(SECRET)
            os.makedirs(self.server.path("sub"), exist_ok=True)
            with open(self.server.path(name), "wb") as f:
                f.write(b"inside\n")
            link = "rel-" + name
            os.symlink("../" + name, self.server.path("sub", link))
            check(self.ctl.cmd("RNFR sub/" + link)[0] == 350, "RNFR of the inside link refused")
            code, text = self.ctl.cmd("RNTO " + link)
            check(code == 250, "RNTO: " + text)
            code, text, received = with_data(self.ctl, self.server.address, "RETR " + link)
            check(received is None and code == 550, "RETR of the moved link: %s %r" % (text, received))
            for verb in ("STOR", "APPE"):
                code, text, _ = with_data(self.ctl, self.server.address, "%s %s" % (verb, link), b"escaped\n")
                check(code in (550, 553), "%s of the moved link: %s" % (verb, text))
            if existing:
                check(read(outside_file) == SECRET, "the file outside the root was overwritten")
            else:
                check(not os.path.lexists(outside_file), "a file was created outside the root")
            for command in ("SIZE " + link, "MDTM " + link, "HASH " + link, "MLST " + link):
                code, text = self.ctl.cmd(command)
                check(code == 550, "%s: %s" % (command, text))

    def test_no_command_follows_a_link_leaving_the_root(self):
        refused = ("SIZE out-file", "SIZE out/secret.txt", "MDTM out-file", "MDTM out/secret.txt",
                   "HASH out-file", "HASH out/secret.txt", "XSHA256 out-file", "MLST out-file", "MLST out",
                   "CWD out", "CWD out/subdir", "CWD out-dangling-dir", "DELE out/secret.txt", "RMD out/subdir",
                   "MKD out/newdir", "MKD out-dangling-dir", "MKD out-dangling-dir/x", "RNFR out/secret.txt",
                   "SIZE out-dangling")
        for command in refused:
            code, text = self.ctl.cmd(command)
            check(code == 550, "%s: %s" % (command, text))
        code, text = self.ctl.cmd("STAT out")
        check(code == 550 and "secret" not in text, "STAT out: " + text)
        for command in ("RETR out-file", "RETR out/secret.txt", "RETR out-dangling", "LIST out", "LIST out/",
                        "NLST out", "MLSD out", "LIST out-file", "MLSD out-dangling-dir"):
            code, text, received = with_data(self.ctl, self.server.address, command)
            check(received is None and code in (501, 550), "%s: %s %r" % (command, text, received))
        for command in ("STOR out/new.txt", "APPE out/secret.txt", "STOR out-dangling", "APPE out-dangling",
                        "STOR out-dangling-dir/new.txt", "STOR out-file"):
            code, text, _ = with_data(self.ctl, self.server.address, command, b"escaped\n")
            check(code in (550, 553), "%s: %s" % (command, text))
        # RNTO into a directory outside.
        with open(self.server.path("to-move.txt"), "wb") as f:
            f.write(b"inside\n")
        check(self.ctl.cmd("RNFR to-move.txt")[0] == 350, "RNFR of an inside file refused")
        code, text = self.ctl.cmd("RNTO out/moved.txt")
        check(code == 550, "RNTO out/moved.txt: " + text)
        check(os.path.exists(self.server.path("to-move.txt")), "the inside file was moved")
        self.check_outside_untouched()
        check(self.ctl.cmd("PWD")[1] == '257 "/" is the current directory', "the current directory changed")

    def test_mfmt_never_sets_a_time_through_a_link_leaving_the_root(self):
        # MFMT writes metadata: through out-file it would date a file outside the root.
        outside = [self.outside_path("secret.txt"), self.outside_path("subdir"), self.outside]
        before = [os.stat(path).st_mtime_ns for path in outside]
        links = [os.lstat(self.server.path(name)).st_mtime_ns
                 for name in ("out", "out-file", "out-dangling", "out-dangling-dir")]
        for target in ("out-file", "out/secret.txt", "out", "out/subdir", "out-dangling", "out-dangling-dir",
                       "out-dangling-dir/x", "../outside.txt", "/../out-file"):
            code, text = self.ctl.cmd("MFMT 20000101000000 " + target)
            check(code == 550, "MFMT through %s: %s" % (target, text))
        check([os.stat(path).st_mtime_ns for path in outside] == before, "a time outside the root changed")
        check([os.lstat(self.server.path(name)).st_mtime_ns
               for name in ("out", "out-file", "out-dangling", "out-dangling-dir")] == links,
              "the links' own times changed")
        # A link moved by RNFR/RNTO so that it points outside is not followed either.
        os.makedirs(self.server.path("mfmt-sub"), exist_ok=True)
        with open(os.path.join(os.path.dirname(self.server.root), "mfmt-out.txt"), "wb") as f:
            f.write(SECRET)
        moved_target = os.path.join(os.path.dirname(self.server.root), "mfmt-out.txt")
        target_before = os.stat(moved_target).st_mtime_ns
        with open(self.server.path("mfmt-out.txt"), "wb") as f:
            f.write(b"inside\n")
        os.symlink("../mfmt-out.txt", self.server.path("mfmt-sub", "rel"))
        check(self.ctl.cmd("RNFR mfmt-sub/rel")[0] == 350, "RNFR of the inside link refused")
        check(self.ctl.cmd("RNTO mfmt-rel")[0] == 250, "RNTO of the inside link refused")
        code, text = self.ctl.cmd("MFMT 20000101000000 mfmt-rel")
        check(code == 550, "MFMT through the moved link: " + text)
        check(os.stat(moved_target).st_mtime_ns == target_before, "the file outside the root was dated")
        self.check_outside_untouched()

    def test_mfmt_through_a_link_that_stays_inside_dates_its_target(self):
        code, text = self.ctl.cmd("MFMT 20010203040506 inner-link")
        check(code == 213 and text == "213 Modify=20010203040506; inner-link", "MFMT inner-link: " + text)
        check(os.stat(self.server.path("data", "inner.txt")).st_mtime == 981173106, "the link's target not dated")

    def test_a_link_that_stays_inside_still_works(self):
        code, text, received = with_data(self.ctl, self.server.address, "RETR inner-link")
        check(code == 226 and received == b"inside\n", "RETR inner-link: %s %r" % (text, received))
        check(self.ctl.cmd("SIZE inner-link") == (213, "213 7"), "SIZE inner-link")
        code, text = self.ctl.cmd("HASH inner-link")
        check(code == 213, "HASH inner-link: " + text)
        code, text, received = with_data(self.ctl, self.server.address, "NLST inner-dir")
        check(code == 226 and received == b"inner.txt\r\n", "NLST inner-dir: %s %r" % (text, received))
        check(self.ctl.cmd("CWD inner-dir")[0] == 250, "CWD inner-dir")
        code, text, received = with_data(self.ctl, self.server.address, "RETR inner.txt")
        check(code == 226 and received == b"inside\n", "RETR in inner-dir: %s %r" % (text, received))
        check(self.ctl.cmd("CWD /")[0] == 250, "CWD /")
        # The links themselves are entries of the root: listed as links, deleted as names.
        code, text, received = with_data(self.ctl, self.server.address, "LIST")
        check(code == 226 and re.search(rb"^l.* out-file\r$", received, re.M), "LIST: %r" % received)
        os.symlink(self.outside_path("secret.txt"), self.server.path("to-delete"))
        check(self.ctl.cmd("DELE to-delete")[0] == 250, "DELE of a link refused")
        check(not os.path.lexists(self.server.path("to-delete")), "DELE left the link")
        self.check_outside_untouched()


class ControlCharacterNames(unittest.TestCase):
    NAMES = ("a\r\n213 forged", "b\n226 forged", "c\x1b[31mred", "plain.txt")

    @classmethod
    def setUpClass(cls):
        cls.server = RsexecdServer(BINARY, "127.0.0.1").start()
        for name in cls.NAMES:
            with open(os.path.join(cls.server.root, name), "wb") as f:
                f.write(b"x")
        os.makedirs(os.path.join(cls.server.root, "d\r\n250 forged"))
        os.makedirs(os.path.join(cls.server.root, "e\x1bdir"))

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def setUp(self):
        self.ctl = Control(self.server.address, self.server.port)
        self.addCleanup(self.ctl.close)
        self.ctl.login()

    def check_in_step(self):
        """The next command's reply is its own: nothing forged was left in the stream."""
        code, text = self.ctl.cmd("NOOP")
        check(code == 200, "after the listing, NOOP got: " + text)

    def check_listing(self, data, entries):
        lines = data.split(b"\r\n")
        check(lines[-1] == b"", "the listing does not end with CRLF: %r" % data)
        lines = lines[:-1]
        check(len(lines) == entries, "%d lines for %d entries: %r" % (len(lines), entries, data))
        for line in lines:
            check(b"\r" not in line and b"\n" not in line and b"\x1b" not in line, "control byte in %r" % line)

    def test_stat_lists_such_names_without_control_characters(self):
        code, text = self.ctl.cmd("STAT /")
        check(code == 213, "STAT /: " + text)
        lines = text.split("\n")
        check(lines[-1] == "213 End of status", "STAT's reply ended early: %r" % text)
        check(len(lines) == 2 + len(os.listdir(self.server.root)), "one line per entry: %r" % text)
        check("\x1b" not in text, "ESC in the reply: %r" % text)
        self.check_in_step()

    def test_data_listings_keep_one_entry_per_line(self):
        for verb in ("LIST", "NLST", "MLSD"):
            code, text, data = with_data(self.ctl, self.server.address, verb)
            check(code == 226, "%s: %s" % (verb, text))
            self.check_listing(data, len(os.listdir(self.server.root)))
        self.check_in_step()

    def test_pwd_and_stat_replies_hold_no_control_characters(self):
        # ESC can reach a command line (CR and LF cannot): a directory made with it on disk.
        check(self.ctl.cmd("CWD e\x1bdir")[0] == 250, "CWD into the directory named with ESC")
        code, text = self.ctl.cmd("PWD")
        check(code == 257 and "\x1b" not in text, "PWD: %r" % text)
        code, text = self.ctl.cmd("STAT .")
        check(code == 213 and "\x1b" not in text, "STAT .: %r" % text)
        check(self.ctl.cmd("CWD /")[0] == 250, "CWD /")
        self.check_in_step()

    def test_names_with_control_characters_are_not_created(self):
        with open(self.server.path("plain-source"), "wb") as f:
            f.write(b"x")
        for verb, name in (("STOR", "new\x1bname"), ("APPE", "app\x07name"), ("STOR", "tab\tname")):
            code, text, _ = with_data(self.ctl, self.server.address, "%s %s" % (verb, name), b"data\n")
            check(code == 553, "%s %r: %s" % (verb, name, text))
            check(not os.path.lexists(self.server.path(name)), "%s created %r" % (verb, name))
        code, text = self.ctl.cmd("MKD dir\x1bname")
        check(code == 553, "MKD: " + text)
        check(not os.path.lexists(self.server.path("dir\x1bname")), "MKD created the name")
        check(self.ctl.cmd("RNFR plain-source")[0] == 350, "RNFR plain-source")
        code, text = self.ctl.cmd("RNTO renamed\x0bname")
        check(code == 553, "RNTO: " + text)
        check(os.path.exists(self.server.path("plain-source")), "RNTO moved the file")
        # A CR inside a command line is dropped by the framer, never part of a name.
        code, text, _ = with_data(self.ctl, self.server.address, "STOR cr\rname", b"data\n")
        check(not os.path.lexists(self.server.path("cr\rname")), "STOR created a name holding CR")
        self.check_in_step()


if __name__ == "__main__":
    names = sys.argv[1:]
    sys.argv[1:] = []
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for case in (names or ["SymlinkEscape", "ControlCharacterNames"]):
        suite.addTests(loader.loadTestsFromTestCase(globals()[case]))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
