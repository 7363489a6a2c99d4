#pragma once
// The exit code table, shown by --help and kept in step with README.md.
namespace rsexec::cli {

inline constexpr const char* exit_codes_help =
    "Exit codes:\n"
    "   0  success: also when --overwrite skipped files\n"
    "   2  usage: bad option, URL, pattern or job file; a copy onto itself; several sources\n"
    "      into what is not a directory\n"
    "   3  connect: cannot resolve or reach a server (or timed out connecting), or it dropped\n"
    "      the control connection\n"
    "   4  login: a server refused USER/PASS, or a URL's user has no password and stdin is\n"
    "      not a terminal to ask on\n"
    "   5  source: the source server refused (e.g. 550 no such file); a pattern matching\n"
    "      nothing\n"
    "   6  destination: the destination server refused (e.g. 553 cannot create)\n"
    "   7  pairing refused: the servers refuse every way to connect to each other (FXP off)\n"
    "      and --relay never forbids copying through rsexec\n"
    "   8  transfer: the transfer started, then failed\n"
    "   9  verification: the copy's size or checksum differs from the source\n"
    "  10  timeout: a server stopped answering\n"
    "  11  partial: some batch items failed, the others were done; when none succeeded, the\n"
    "      first failed item's code instead\n"
    "  12  interrupted by a signal\n"
    "  13  TLS: refused where required, a failed handshake or certificate check\n";

} // namespace rsexec::cli
