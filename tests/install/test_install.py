"""What a Debian system installs (issue 19): --version, rsexecd --config, bash completion, the man
pages, the systemd unit.
Run: /usr/bin/python3 test_install.py RSEXEC RSEXECD SOURCE_DIR MAN_DIR GROUP...
GROUP is one of version, config, completion, man, unit. rsexecd listens on 127.0.19.1-9,
addresses no other test file uses.
"""
import ftplib
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
    RSEXEC, RSEXECD, SOURCE_DIR, MAN_DIR = (os.path.abspath(a) for a in sys.argv[1:5])
    GROUPS = sys.argv[5:]
    del sys.argv[1:]
RUN_LIMIT = 30


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=RUN_LIMIT, **kwargs)


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        match = re.search(r"project\(\s*rsexec\s+VERSION\s+(\d+\.\d+\.\d+)", f.read())
    if not match:
        raise AssertionError("no project(rsexec VERSION X.Y.Z) in CMakeLists.txt")
    return match.group(1)


def help_long_options(*command):
    """The long options a cxxopts --help lists: {name: takes_value}."""
    out = run(list(command) + ["--help"]).stdout
    return {m.group(2): bool(m.group(3)) for m in
            re.finditer(r"(?m)^(  -\w, |      )--([\w][-\w]*)( arg)?", out)}


class Version(unittest.TestCase):
    def check(self, binary, name):
        result = run([binary, "--version"])
        self.assertEqual(result.returncode, 0, result.stderr)
        line = result.stdout.strip()
        match = re.fullmatch(r"(\S+) (\d+\.\d+\.\d+)(?: \((\S+)\))?", line)
        if not match:
            raise AssertionError("%s --version printed %r, not 'NAME X.Y.Z [(COMMIT)]'" % (name, line))
        self.assertEqual(match.group(1), name)
        self.assertEqual(match.group(2), project_version())
        in_checkout = os.path.exists(os.path.join(SOURCE_DIR, ".git")) and shutil.which("git")
        if in_checkout:
            commit = match.group(3)
            if not commit:
                raise AssertionError("built from a git checkout, but %s --version names no commit: %r" % (name, line))
            # `git describe --always --dirty`: [TAG-N-g]HASH[-dirty]
            hash_ = re.sub(r"-dirty$", "", commit).split("-g")[-1]
            exists = run(["git", "-C", SOURCE_DIR, "cat-file", "-e", hash_ + "^{commit}"])
            self.assertEqual(exists.returncode, 0, "%r is not a commit of %s" % (hash_, SOURCE_DIR))

    def test_rsexec_prints_the_project_version_and_commit(self):
        self.check(RSEXEC, "rsexec")

    def test_rsexecd_prints_the_project_version_and_commit(self):
        self.check(RSEXECD, "rsexecd")


class Config(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="rsexecd-config-")
        self.addCleanup(shutil.rmtree, self.scratch, True)
        self.root = os.path.join(self.scratch, "root")
        os.makedirs(self.root)

    def conf(self, text, name="rsexecd.conf"):
        path = os.path.join(self.scratch, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def login(self, server, user, password):
        ftp = ftplib.FTP()
        ftp.connect(server.address, server.port, timeout=10)
        try:
            return ftp.login(user, password)
        finally:
            ftp.close()

    def test_the_file_sets_options_list_keys_repeat_and_the_command_line_wins(self):
        path = self.conf("# test configuration\n"
                         "root = %s\n"
                         "bind 127.0.19.9\n"
                         "port = 0\n"
                         "user = alice:first-secret\n"
                         "user = bob:second secret with spaces\n"
                         "anonymous = ro\n"
                         "login-delay = 0.1\n" % self.root)
        with open(os.path.join(self.root, "hello.txt"), "w") as f:
            f.write("hello\n")
        # The fixture's --bind 127.0.19.1 on the command line replaces the file's 127.0.19.9.
        server = RsexecdServer(RSEXECD, "127.0.19.1", root=self.root, user=None,
                               extra_args=["--config", path])
        with server:
            self.assertEqual(server.address, "127.0.19.1")
            self.assertTrue(self.login(server, "alice", "first-secret").startswith("230"))
            self.assertTrue(self.login(server, "bob", "second secret with spaces").startswith("230"))
            ftp = ftplib.FTP()
            ftp.connect(server.address, server.port, timeout=10)
            ftp.login("anonymous", "x@")
            lines = []
            ftp.retrlines("RETR hello.txt", lines.append)
            ftp.close()
            self.assertEqual(lines, ["hello"])

    def test_user_on_the_command_line_replaces_every_user_line_of_the_file(self):
        path = self.conf("user = alice:first-secret\nlogin-delay = 0\n")
        with RsexecdServer(RSEXECD, "127.0.19.2", root=self.root, user=("carol", "third"),
                           extra_args=["--config", path]) as server:
            self.assertTrue(self.login(server, "carol", "third").startswith("230"))
            with self.assertRaises(ftplib.error_perm):
                self.login(server, "alice", "first-secret")

    def test_every_bad_line_is_reported_with_its_number_and_nothing_starts(self):
        path = self.conf("root = /tmp\nbogus = 1\n# fine\nroot = /srv\nimplicit-tls = maybe\nport\n", "bad.conf")
        result = run([RSEXECD, "--config", path, "--port", "0", "--bind", "127.0.19.3"])
        self.assertEqual(result.returncode, 2, result.stderr)
        for expected in ("bad.conf:2: unknown key 'bogus'", "bad.conf:4: 'root' is already set on line 1",
                         "bad.conf:5: 'implicit-tls' is a flag", "bad.conf:6: 'port' needs a value"):
            self.assertIn(expected, result.stderr)
        self.assertNotIn("listening", result.stdout)

    def test_a_missing_file_is_a_usage_error(self):
        result = run([RSEXECD, "--config", os.path.join(self.scratch, "absent.conf"), "--root", self.root])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("absent.conf: No such file or directory", result.stderr)

    def test_a_value_the_option_refuses_is_refused_as_on_the_command_line(self):
        path = self.conf("root = %s\nanonymous = sometimes\n" % self.root)
        result = run([RSEXECD, "--config", path, "--port", "0", "--bind", "127.0.19.4"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--anonymous must be off, ro or rw", result.stderr)

    def test_the_shipped_file_is_read_and_every_key_it_mentions_is_an_option(self):
        shipped = os.path.join(SOURCE_DIR, "dist", "rsexecd.conf")
        with RsexecdServer(RSEXECD, "127.0.19.5", root=self.root, extra_args=["--config", shipped]) as server:
            self.assertIsNotNone(server.port)
        options = help_long_options(RSEXECD)
        with open(shipped) as f:
            keys = re.findall(r"(?m)^#?([a-z][-a-z]*) ?= ", f.read())
        if len(keys) < 10:
            raise AssertionError("the shipped rsexecd.conf mentions only %r" % keys)
        for key in keys:
            self.assertIn(key, options, "dist/rsexecd.conf mentions %r, which rsexecd --help does not list" % key)

    def test_every_option_but_config_help_and_version_is_a_key(self):
        # An option added to rsexecd is a key with no list to update: each one, with a value
        # rsexecd then refuses or accepts, is never "unknown key".
        for option, takes_value in help_long_options(RSEXECD).items():
            if option in ("config", "help", "version"):
                continue
            path = self.conf("%s%s\n" % (option, " = 1" if takes_value else ""), "one.conf")
            result = run([RSEXECD, "--config", path, "--help"])
            self.assertEqual(result.returncode, 0, "%s: %s" % (option, result.stderr))
            self.assertNotIn("unknown key", result.stderr)


COMPLETE = r'''
source "$1"
shift
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    # bash splits --option=value at "=" (COMP_WORDBREAKS) into three words.
    read -ra COMP_WORDS <<<"${COMP_LINE//=/ = }"
    if [[ $COMP_LINE == *" " ]]; then COMP_WORDS+=(""); fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    local spec
    spec=$(complete -p "${COMP_WORDS[0]}") || { echo "no completion for ${COMP_WORDS[0]}" >&2; return 1; }
    local function=${spec#*-F }
    "${function%% *}"
    printf '%s\n' "${COMPREPLY[@]}"
}
complete_line "$1"
'''


class Completion(unittest.TestCase):
    def complete(self, line, script="rsexec"):
        path = os.path.join(SOURCE_DIR, "dist", "bash-completion", script)
        env = dict(os.environ, PATH=os.path.dirname(RSEXEC) + os.pathsep + os.path.dirname(RSEXECD)
                   + os.pathsep + os.environ.get("PATH", ""))
        result = run(["bash", "-c", COMPLETE, "complete", path, line], env=env, cwd=tempfile.gettempdir())
        self.assertEqual(result.returncode, 0, result.stderr)
        return [l for l in result.stdout.splitlines() if l]

    def test_the_first_word_completes_to_a_command(self):
        self.assertEqual(self.complete("rsexec co"), ["copy"])
        self.assertTrue({"copy", "batch", "mirror", "worker", "status", "ls"} <= set(self.complete("rsexec ")))
        self.assertEqual(set(self.complete("rsexec ls --")), {"--" + o for o in help_long_options(RSEXEC, "ls")})
        self.assertIn("--recursive", self.complete("rsexec ls --rec"))
        self.assertEqual(sorted(self.complete("rsexec copy --mk")), ["--mkdirs"])

    def test_options_are_the_ones_the_command_help_lists(self):
        self.assertEqual(sorted(self.complete("rsexec copy --ver")), ["--verbose", "--verify"])
        self.assertIn("--pipeline", self.complete("rsexec batch --"))
        self.assertNotIn("--pipeline", self.complete("rsexec copy --"))
        self.assertEqual(set(self.complete("rsexec copy --")), {"--" + o for o in help_long_options(RSEXEC, "copy")})
        self.assertEqual(self.complete("rsexecd --con", "rsexecd"), ["--config"])

    def test_option_values_are_listed_and_each_is_one_the_help_names(self):
        cases = [
            ("rsexec copy --verify ", ["size", "checksum", "checksum-if-available", "none"]),
            ("rsexec copy --dialect ", ["auto", "rfc438", "pasv", "epsv"]),
            ("rsexec mirror --passive ", ["src", "dst"]),
            ("rsexec batch --pipeline ", ["block", "commands", "off"]),
            ("rsexec copy --tls ", ["required", "optional", "off"]),
            ("rsexecd --anonymous ", ["off", "ro", "rw"]),
            ("rsexecd --tls ", ["optional", "required"]),
            ("rsexecd --log-level ", ["error", "warning", "info", "debug"]),
        ]
        for line, values in cases:
            words = line.split()
            script = "rsexecd" if words[0] == "rsexecd" else "rsexec"
            self.assertEqual(sorted(self.complete(line, script)), sorted(values), line)
            command = [RSEXECD] if script == "rsexecd" else [RSEXEC, words[1]]
            help_text = run(command + ["--help"]).stdout
            for value in values:
                self.assertRegex(help_text, r"\b%s\b" % re.escape(value), "%s: %r not in --help" % (line, value))
        self.assertEqual(self.complete("rsexec copy --verify=ch"), ["checksum", "checksum-if-available"])
        self.assertEqual(self.complete("rsexec copy --dialect r"), ["rfc438"])


class Man(unittest.TestCase):
    def page(self, name):
        path = os.path.join(MAN_DIR, name)
        if not os.path.isfile(path):
            raise AssertionError("%s was not generated (help2man at build time)" % path)
        return path

    def test_man_renders_both_pages_without_a_warning(self):
        for name in ("rsexec.1", "rsexecd.8"):
            path = self.page(name)
            result = run(["man", "-l", "--warnings", path], env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "", name)
            groff = run(["groff", "-man", "-ww", "-z", path])
            self.assertEqual((groff.returncode, groff.stderr), (0, ""), name)

    def rendered(self, name):
        result = run(["man", "--nh", "--nj", "-l", self.page(name)], env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
        return re.sub(r".\x08", "", result.stdout)

    def test_the_pages_have_the_sections_a_man_page_has(self):
        for name, sections in (("rsexec.1", ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS",
                                             "RSEXEC COPY", "RSEXEC BATCH", "RSEXEC MIRROR", "RSEXEC WORKER",
                                             "RSEXEC STATUS", "RSEXEC LS", "FILES", "EXAMPLES", "SEE ALSO"]),
                               ("rsexecd.8", ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "FILES",
                                              "EXAMPLES", "SEE ALSO"])):
            text = self.rendered(name)
            headings = re.findall(r"(?m)^([A-Z][A-Z ]+)$", text)
            for section in sections:
                self.assertIn(section, headings, "%s has no %s section: %r" % (name, section, headings))

    def test_each_command_is_a_term_of_its_own_in_rsexec_1(self):
        # help2man needs two blanks between a term and its text in --help's lists.
        text = self.rendered("rsexec.1")
        for term in ("copy SRC_URL... DST_URL", "batch JOBFILE|-", "mirror SRC_DIR DST_DIR", "worker --journal URI",
                     "status --journal WHERE", "ls [-lhR] [--json] URL"):
            self.assertRegex(text, r"(?m)^ {7}%s$" % re.escape(term))

    def test_every_option_of_help_is_in_the_page(self):
        rsexec_page = self.rendered("rsexec.1")
        for command in ("copy", "batch", "mirror", "worker", "status", "ls"):
            for option in help_long_options(RSEXEC, command):
                self.assertIn("--" + option, rsexec_page, "rsexec %s --%s" % (command, option))
        rsexecd_page = self.rendered("rsexecd.8")
        for option in help_long_options(RSEXECD):
            self.assertIn("--" + option, rsexecd_page, "rsexecd --%s" % option)

    def test_the_exit_status_table_is_the_readme_one(self):
        with open(os.path.join(SOURCE_DIR, "README.md")) as f:
            readme = f.read()
        table = re.search(r"## Exit codes\n\n\| code \| meaning \|\n\|---\|---\|\n((?:\|.*\n)+)", readme)
        if not table:
            raise AssertionError("README.md has no exit code table")
        codes = re.findall(r"(?m)^\| (\d+) \|", table.group(1))
        page = self.rendered("rsexec.1")
        status = page[page.index("\nEXIT STATUS\n"):]
        status = status[:re.search(r"\n[A-Z][A-Z ]+\n", status[1:]).start() + 1]
        self.assertEqual(re.findall(r"(?m)^ +(\d+) ", status), codes)


class Unit(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(SOURCE_DIR, "dist", "rsexecd.service")) as f:
            self.text = f.read()

    def test_the_unit_has_a_network_daemons_sandbox(self):
        settings = {}
        for line in self.text.splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
        expected = {
            "ExecStart": "/usr/sbin/rsexecd --config /etc/rsexecd.conf",
            "ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
            "PrivateDevices": "yes", "ReadWritePaths": "/srv/ftp", "User": "rsexecd",
            "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        }
        for key, value in expected.items():
            self.assertIn(value, settings.get(key, []), "%s=%s missing from rsexecd.service" % (key, value))
        self.assertIn("@system-service", settings.get("SystemCallFilter", []))

    def test_systemd_analyze_verifies_the_unit_and_rates_its_exposure_low(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            raise AssertionError("systemd-analyze is missing (scripts/setup.sh installs systemd)")
        scratch = tempfile.mkdtemp(prefix="rsexecd-unit-")
        self.addCleanup(shutil.rmtree, scratch, True)
        # The unit names /usr/sbin/rsexecd, which verify wants to exist: the built one stands in.
        unit = os.path.join(scratch, "rsexecd.service")
        with open(unit, "w") as f:
            f.write(self.text.replace("/usr/sbin/rsexecd", os.path.abspath(RSEXECD)))
        verify = run([analyze, "verify", "--man=no", unit])
        self.assertEqual((verify.returncode, verify.stderr.strip()), (0, ""))
        security = run([analyze, "security", "--offline=yes", unit])
        match = re.search(r"Overall exposure level for rsexecd.service: (\d+\.\d+)", security.stdout)
        if not match:
            raise AssertionError("no exposure level: %s%s" % (security.stdout[-500:], security.stderr))
        # 0 is fully sandboxed, 10 not at all; "OK" is below 2.
        self.assertLess(float(match.group(1)), 2.0, security.stdout)


GROUP_CLASSES = {"version": Version, "config": Config, "completion": Completion, "man": Man, "unit": Unit}


def main():
    unknown = [g for g in GROUPS if g not in GROUP_CLASSES]
    if unknown or not GROUPS:
        print("unknown or no group(s): %s; known: %s" % (", ".join(unknown), ", ".join(GROUP_CLASSES)))
        return 2
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(GROUP_CLASSES[g]) for g in GROUPS)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
