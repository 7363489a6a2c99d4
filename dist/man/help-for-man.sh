#!/bin/sh
# help2man runs this in place of a program, as `help-for-man.sh PROGRAM "SUBCOMMAND..." --help`:
# it prints PROGRAM --help with its "Exit codes:" table as the page's EXIT STATUS section, then
# each SUBCOMMAND's --help as a section of its own ("*Name*" lines start a section in help2man).
# The subcommands' copies of the exit code table are left out; their "Examples:" stay with them.
set -eu
program=$1
subcommands=$2
shift 2
if [ "${1:-}" != --help ]; then
  echo "help-for-man.sh: only --help is answered" >&2
  exit 2
fi
name=$(basename "$program")

# The help text less its "Exit codes:" paragraph; the paragraph itself with --exit-codes.
without_exit_codes() { awk '/^Exit codes:$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip'; }
exit_codes() { awk '/^Exit codes:$/ { keep = 1; next } keep && /^$/ { exit } keep'; }

"$program" --help > "${TMPDIR:-/tmp}/help-for-man.$$"
trap 'rm -f "${TMPDIR:-/tmp}/help-for-man.$$"' EXIT
without_exit_codes < "${TMPDIR:-/tmp}/help-for-man.$$"
if grep -q '^Exit codes:$' "${TMPDIR:-/tmp}/help-for-man.$$"; then
  printf '\n*Exit status*\n\n'
  exit_codes < "${TMPDIR:-/tmp}/help-for-man.$$"
fi
for subcommand in $subcommands; do
  printf '\n*%s %s*\n\n' "$name" "$subcommand"
  # cxxopts indents its group headings (" Transfer options:"): at the margin help2man makes
  # them subsections. "Examples:" would become the page's EXAMPLES: it stays the command's.
  "$program" "$subcommand" --help | without_exit_codes |
    sed -e 's/^ \([A-Z][^:]*options\):$/\1:/' -e "s/^Examples:\$/Examples of $name $subcommand:/"
done
