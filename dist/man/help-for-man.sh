#!/bin/sh
# help2man runs this in place of a program, as `help-for-man.sh PROGRAM "SUBCOMMAND..." --help`
# (dist/CMakeLists.txt): it prints PROGRAM --help with its "Exit codes:" table as the page's EXIT
# STATUS section, then each SUBCOMMAND's --help as a section of its own ("*Name*" lines start a
# section in help2man). The subcommands' copies of the exit code table are left out; their
# "Examples:" stay with them. Nothing is added to the programs' words: only their layout is
# changed where help2man reads cxxopts' differently from GNU's.
set -eu
program=$1
subcommands=$2
shift 2
if [ "${1:-}" != --help ]; then
  echo "help-for-man.sh: only --help is answered" >&2
  exit 2
fi
name=$(basename "$program")

# The help text less its "Exit codes:" paragraph; the paragraph itself with exit_codes.
without_exit_codes() { awk '/^Exit codes:$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip'; }
exit_codes() { awk '/^Exit codes:$/ { keep = 1; next } keep && /^$/ { exit } keep'; }
# cxxopts prints "Usage:" and the usage on the next line: help2man wants "Usage: PROGRAM ...",
# a paragraph of its own, to make the SYNOPSIS. Indented command lines of an example get help2man's
# "$ " mark, which keeps them verbatim.
usage_on_one_line() {
  awk '/^Usage:$/ { getline usage; sub(/^ +/, "", usage); print ""; print "Usage: " usage; next } { print }'
}
example_commands_verbatim() { sed -E 's/^  (rsexec|rsexecd|openssl) /  $ \1 /'; }
# The program's own "Examples:" block, up to the next paragraph at the margin: the page's EXAMPLES
# come from the include file, in roff that keeps their lines. Its option list gets an "Options:"
# heading, which help2man makes the OPTIONS section.
main_help() {
  awk '/^Examples:$/ { skip = 1; next }
       skip && /^[^ ]/ { skip = 0 }
       skip { next }
       /^(  -[[:alnum:]], |      )--/ && !options { print "Options:"; options = 1 }
       { print }'
}

help=${TMPDIR:-/tmp}/help-for-man.$$
trap 'rm -f "$help"' EXIT
"$program" --help > "$help"
if grep -q '^Options:$' "$help"; then
  without_exit_codes < "$help" | usage_on_one_line
else
  without_exit_codes < "$help" | usage_on_one_line | main_help
fi
if grep -q '^Exit codes:$' "$help"; then
  printf '\n*Exit status*\n\n'
  exit_codes < "$help"
fi
for subcommand in $subcommands; do
  printf '\n*%s %s*\n\n' "$name" "$subcommand"
  # cxxopts indents its group headings (" Transfer options:"): at the margin help2man makes
  # them subsections. "Examples:" would become the page's EXAMPLES: it stays the command's.
  "$program" "$subcommand" --help | without_exit_codes | usage_on_one_line | example_commands_verbatim |
    sed -e 's/^ \([A-Z][^:]*options\):$/\1:/' -e "s/^Examples:\$/Examples of $name $subcommand:\\n/"
done
