#!/usr/bin/env python3
"""The parts' boundaries that the include roots cannot hold (docs/ARCHITECTURE.md):
lib/ftp names no socket or Asio networking header, and rsexecd's link line has no SQLite or libpq
(the link command as the build wrote it: the linker's --as-needed hides them from ldd).
Usage: test_layout.py SOURCE_DIR BUILD_DIR RSEXECD"""
import pathlib
import re
import subprocess
import sys

# Asio's timer and coroutine headers are allowed (ftp/deadline.hpp), and as_tuple, the completion
# token that makes the timer's cancellation a value; its networking is not.
ALLOWED_ASIO = {"asio/awaitable.hpp", "asio/experimental/as_tuple.hpp", "asio/experimental/awaitable_operators.hpp",
                "asio/steady_timer.hpp", "asio/this_coro.hpp", "asio/use_awaitable.hpp"}
FORBIDDEN = re.compile(r"^(asio\.hpp|asio/|sys/socket\.h|netinet/|netdb\.h|openssl/)")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def ftp_includes_no_sockets(source_dir):
    found = []
    for path in sorted((source_dir / "lib" / "ftp").rglob("*")):
        if path.suffix not in (".hpp", ".cpp"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = INCLUDE.match(line)
            if match and FORBIDDEN.match(match.group(1)) and match.group(1) not in ALLOWED_ASIO:
                found.append(f"{path.relative_to(source_dir)}:{number}: {match.group(1)}")
    if found:
        raise AssertionError("lib/ftp includes socket-side headers:\n  " + "\n  ".join(found))


def rsexecd_link_line(build_dir):
    link_txt = build_dir / "app" / "CMakeFiles" / "rsexecd.dir" / "link.txt"  # Makefile generators
    if link_txt.exists():
        return link_txt.read_text()
    ninja = build_dir / "build.ninja"
    if ninja.exists():
        lines = ninja.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("build bin/rsexecd:"):
                return "\n".join(lines[i:i + 8])
    raise AssertionError(f"no link command for rsexecd found under {build_dir}")


def rsexecd_links_no_job_engine(build_dir, rsexecd):
    line = rsexecd_link_line(build_dir)
    linked = subprocess.run(["ldd", rsexecd], capture_output=True, text=True, timeout=30, check=True).stdout
    if "libc.so" not in linked or "rsexec_server" not in line:
        raise AssertionError(f"not rsexecd's link line or libraries:\n{line}\n{linked}")
    for library in ("sqlite3", "libpq", "rsexec_jobs", "rsexec_client"):
        if library in line or library in linked:
            raise AssertionError(f"rsexecd links {library}:\n{line}\n{linked}")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    ftp_includes_no_sockets(pathlib.Path(sys.argv[1]))
    rsexecd_links_no_job_engine(pathlib.Path(sys.argv[2]), sys.argv[3])
    print("layout: ok")


if __name__ == "__main__":
    main()
