"""rsexecd with everyday FTP clients: lftp and curl (Debian packages).

Run: /usr/bin/python3 test_clients.py path/to/rsexecd
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from rsexecd_fixture import PASSWORD, USER, RsexecdServer

BINARY = sys.argv.pop(1) if __name__ == "__main__" else os.environ.get("RSEXECD")


def run(args, cwd=None):
    result = subprocess.run(args, cwd=cwd, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (args[0], result.returncode, result.stderr.decode(errors="replace")))
    return result.stdout.decode(errors="replace")


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # scripts/setup.sh installs both: without them nothing here would be checked, which is a
        # failure, not a pass.
        missing = [tool for tool in ("curl", "lftp") if shutil.which(tool) is None]
        if missing:
            raise AssertionError("%s not installed (scripts/setup.sh installs them)" % " and ".join(missing))
        cls.server = RsexecdServer(BINARY, "127.0.0.1").start()
        cls.url = "ftp://127.0.0.1:%d/" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="rsexecd-client-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.data = os.urandom(2 * 1024 * 1024 + 5)
        with open(os.path.join(self.work, "upload.bin"), "wb") as f:
            f.write(self.data)

    def stored(self, name):
        with open(self.server.path(name), "rb") as f:
            return f.read()

    def test_curl_uploads_downloads_and_lists(self):
        user = "%s:%s" % (USER, PASSWORD)
        for mode, extra in (("passive", []), ("active", ["--ftp-port", "127.0.0.1"])):
            with self.subTest(mode=mode):
                name = "curl-%s.bin" % mode
                run(["curl", "-sS", "--user", user, *extra, "-T", os.path.join(self.work, "upload.bin"),
                     self.url + name])
                self.assertEqual(self.stored(name), self.data)
                out = os.path.join(self.work, "down-" + name)
                run(["curl", "-sS", "--user", user, *extra, "-o", out, self.url + name])
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), self.data)
        listing = run(["curl", "-sS", "--user", user, self.url])
        self.assertIn("curl-passive.bin", listing)
        names = run(["curl", "-sS", "--user", user, "--list-only", self.url]).split()
        self.assertIn("curl-active.bin", names)
        # curl resumes with REST (-C -): only the missing tail comes over.
        partial = os.path.join(self.work, "partial.bin")
        with open(partial, "wb") as f:
            f.write(self.data[:1000000])
        run(["curl", "-sS", "--user", user, "-C", "-", "-o", partial, self.url + "curl-passive.bin"])
        with open(partial, "rb") as f:
            self.assertEqual(f.read(), self.data)

    def test_lftp_mirrors_a_tree_up_and_down(self):
        tree = os.path.join(self.work, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        shutil.copy(os.path.join(self.work, "upload.bin"), os.path.join(tree, "sub", "deep.bin"))
        with open(os.path.join(tree, "top.txt"), "w") as f:
            f.write("top\n")
        script = ("set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; "
                  "mirror -R tree remote-tree; cls -1 remote-tree; mirror remote-tree back; "
                  "put upload.bin -o lftp.bin; get lftp.bin -o lftp-back.bin; bye")
        listing = run(["lftp", "-u", "%s,%s" % (USER, PASSWORD), "-p", str(self.server.port), "-e", script,
                       "127.0.0.1"], cwd=self.work)
        self.assertIn("top.txt", listing)
        self.assertIn("sub", listing)
        self.assertEqual(self.stored(os.path.join("remote-tree", "sub", "deep.bin")), self.data)
        with open(os.path.join(self.work, "back", "sub", "deep.bin"), "rb") as f:
            self.assertEqual(f.read(), self.data)
        with open(os.path.join(self.work, "back", "top.txt")) as f:
            self.assertEqual(f.read(), "top\n")
        with open(os.path.join(self.work, "lftp-back.bin"), "rb") as f:
            self.assertEqual(f.read(), self.data)


class LftpFxp(unittest.TestCase):
    """lftp's own server-to-server copy (FXP: PASV on one rsexecd, PORT on the other)."""

    def test_lftp_fxp_between_two_rsexecd_in_both_orientations(self):
        fxp = ["--fxp-peers", "127.0.0.0/8"]
        with RsexecdServer(BINARY, "127.0.0.31", extra_args=fxp) as a, \
                RsexecdServer(BINARY, "127.0.0.32", extra_args=fxp) as b:
            data = os.urandom(3 * 1024 * 1024 + 7)
            with open(a.path("src.bin"), "wb") as f:
                f.write(data)
            creds = "%s:%s" % (USER, PASSWORD)
            for passive_source in ("yes", "no"):
                with self.subTest(passive_source=passive_source):
                    name = "fxp-%s.bin" % passive_source
                    # fxp-force: fail rather than relay the bytes through lftp.
                    run(["lftp", "-c",
                         "set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; "
                         "set ftp:use-fxp yes; set ftp:fxp-force yes; "
                         "set ftp:fxp-passive-source %s; "
                         "get ftp://%s@127.0.0.31:%d/src.bin -o ftp://%s@127.0.0.32:%d/%s"
                         % (passive_source, creds, a.port, creds, b.port, name)])
                    with open(b.path(name), "rb") as f:
                        self.assertEqual(f.read(), data)
                    # Both servers saw a data connection from the other one, not from lftp.
                    self.assertTrue(a.transfers("RETR"), a.log())
                    self.assertTrue(b.transfers("STOR"), b.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
