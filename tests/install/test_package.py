"""The .deb (issue 19): cpack builds rsexec_VERSION_amd64.deb from the build tree, dpkg -x unpacks it
into a scratch root, and the programs run from there: --version, two rsexecd started with the
package's /etc/rsexecd.conf on 127.0.19.11 and 127.0.19.12 (--port 0), and an rsexec copy between
them. The man pages, completion, unit, conffile and the Depends dpkg-shlibdeps computed are checked.
Run: /usr/bin/python3 test_package.py BUILD_DIR SOURCE_DIR
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from rsexecd_fixture import RsexecdServer  # noqa: E402

if __name__ == "__main__":
    BUILD_DIR, SOURCE_DIR = (os.path.abspath(a) for a in sys.argv[1:3])
    del sys.argv[1:]
CPACK_LIMIT = 240   # seconds: cpack installs, strips and compresses both programs
RUN_LIMIT = 30
USER, PASSWORD = "packager", "Pw-deb-7fQ2"


def run(args, limit=RUN_LIMIT, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=limit, **kwargs)


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        match = re.search(r"project\(\s*rsexec\s+VERSION\s+(\d+\.\d+\.\d+)", f.read())
    if not match:
        raise AssertionError("no project(rsexec VERSION X.Y.Z) in CMakeLists.txt")
    return match.group(1)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="rsexec-deb-")
        cls.addClassCleanup(shutil.rmtree, cls.scratch, True)
        out = os.path.join(cls.scratch, "out")
        built = run(["cpack", "-G", "DEB", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"), "-B", out],
                    limit=CPACK_LIMIT)
        if built.returncode != 0:
            raise AssertionError("cpack failed:\n%s%s" % (built.stdout[-3000:], built.stderr[-3000:]))
        cls.deb = os.path.join(out, "rsexec_%s_amd64.deb" % project_version())
        if not os.path.isfile(cls.deb):
            raise AssertionError("no %s; cpack made %r" % (cls.deb, os.listdir(out)))
        cls.root = os.path.join(cls.scratch, "root")
        unpacked = run(["dpkg", "-x", cls.deb, cls.root])
        if unpacked.returncode != 0:
            raise AssertionError("dpkg -x: %s" % unpacked.stderr)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def field(self, name):
        result = run(["dpkg-deb", "-f", self.deb, name])
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip()

    def test_control_fields_and_the_libraries_dpkg_shlibdeps_found(self):
        self.assertEqual(self.field("Package"), "rsexec")
        self.assertEqual(self.field("Version"), project_version())
        self.assertEqual(self.field("Architecture"), "amd64")
        self.assertEqual(self.field("Section"), "net")
        self.assertIn("@", self.field("Maintainer"))
        self.assertIn("FTP", self.field("Description"))
        depends = self.field("Depends")
        for library in ("libc6", "libstdc++6", "libssl3", "libsqlite3-0", "libpq5", "libfmt9"):
            self.assertRegex(depends, r"(^|, )%s( \(|,|$)" % re.escape(library), "Depends: %s" % depends)

    def test_rsexecd_conf_is_a_conffile_and_the_maintainer_scripts_are_there(self):
        control = os.path.join(self.scratch, "control")
        result = run(["dpkg-deb", "-e", self.deb, control])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/rsexecd.conf"])
        for script in ("postinst", "postrm"):
            self.assertTrue(os.access(os.path.join(control, script), os.X_OK), script)
        with open(os.path.join(control, "postinst")) as f:
            self.assertIn("rsexecd", f.read())

    def test_files_are_where_a_debian_system_looks(self):
        for relative in ("usr/bin/rsexec", "usr/sbin/rsexecd"):
            self.assertTrue(os.access(self.path(relative), os.X_OK), relative)
        for relative in ("usr/share/bash-completion/completions/rsexec",
                         "usr/share/bash-completion/completions/rsexecd",
                         "usr/lib/systemd/system/rsexecd.service", "usr/lib/sysusers.d/rsexecd.conf",
                         "usr/lib/tmpfiles.d/rsexecd.conf"):
            self.assertTrue(os.path.isfile(self.path(relative)), relative)
        conf = self.path("etc", "rsexecd.conf")
        self.assertEqual(os.stat(conf).st_mode & 0o777, 0o640)
        with open(conf) as f, open(os.path.join(SOURCE_DIR, "dist", "rsexecd.conf")) as shipped:
            self.assertEqual(f.read(), shipped.read())
        for page, heading in (("usr/share/man/man1/rsexec.1.gz", '.TH RSEXEC "1"'),
                              ("usr/share/man/man8/rsexecd.8.gz", '.TH RSEXECD "8"')):
            with gzip.open(self.path(page), "rt") as f:
                self.assertIn(heading, f.read(), page)
            rendered = run(["man", "-l", "--warnings", self.path(page)], env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
            self.assertEqual((rendered.returncode, rendered.stderr), (0, ""), page)
        with open(self.path("usr/lib/systemd/system/rsexecd.service")) as f:
            self.assertIn("ExecStart=/usr/sbin/rsexecd --config /etc/rsexecd.conf", f.read())

    def test_the_unit_verifies_inside_the_unpacked_tree(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            raise AssertionError("systemd-analyze is missing (scripts/setup.sh installs systemd)")
        # verify wants /usr/sbin/rsexecd to exist: the unpacked one stands in for it (a --root of
        # the unpacked tree alone lacks systemd's own units).
        with open(self.path("usr/lib/systemd/system/rsexecd.service")) as f:
            text = f.read()
        unit = os.path.join(self.scratch, "rsexecd.service")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/rsexecd", self.path("usr/sbin/rsexecd")))
        verify = run([analyze, "verify", "--man=no", unit])
        self.assertEqual((verify.returncode, verify.stderr.strip()), (0, ""))

    def test_the_unpacked_programs_run_and_copy_between_two_servers(self):
        rsexec, rsexecd = self.path("usr/bin/rsexec"), self.path("usr/sbin/rsexecd")
        for binary, name in ((rsexec, "rsexec"), (rsexecd, "rsexecd")):
            version = run([binary, "--version"])
            self.assertEqual(version.returncode, 0, version.stderr)
            self.assertRegex(version.stdout, r"^%s %s( \(\S+\))?\n$" % (name, re.escape(project_version())))
        data = os.urandom(256 * 1024 + 3)
        # The package's own /etc/rsexecd.conf, the command line replacing its root, bind and port.
        conf = ["--config", self.path("etc", "rsexecd.conf"), "--fxp-peers", "127.0.0.0/8", "--login-delay", "0"]
        with RsexecdServer(rsexecd, "127.0.19.11", extra_args=conf, user=(USER, PASSWORD)) as src, \
                RsexecdServer(rsexecd, "127.0.19.12", extra_args=conf, user=(USER, PASSWORD)) as dst:
            with open(src.path("f.bin"), "wb") as f:
                f.write(data)
            copy = run([rsexec, "copy", "ftp://%s:%s@%s:%d/f.bin" % (USER, PASSWORD, src.address, src.port),
                        "ftp://%s:%s@%s:%d/g.bin" % (USER, PASSWORD, dst.address, dst.port)])
            self.assertEqual(copy.returncode, 0, copy.stdout + copy.stderr)
            with open(dst.path("g.bin"), "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertEqual(len(dst.transfers("STOR")), 1, dst.log())


def main():
    suite = unittest.TestLoader().loadTestsFromTestCase(Package)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
