#pragma once
// The process exit codes rsexec documents (README and --help), one per kind of failure, so a
// script can tell "the source file is missing" from "the servers refuse FXP".
#include "ftp/error.hpp"

namespace rsexec {

enum class ExitCode : int {
    ok = 0,
    usage = 2,            // bad arguments, URL or job file
    connect = 3,          // name resolution, connection, lost control connection
    login = 4,            // USER/PASS/ACCT refused
    source = 5,           // the source server refused (e.g. 550 no such file)
    destination = 6,      // the destination server refused (e.g. 553 cannot create)
    pairing_refused = 7,  // no dialect or role both servers accept (FXP disabled)
    transfer = 8,         // the transfer started and then failed
    verification = 9,     // sizes or checksums differ
    timeout = 10,         // a server stopped answering
    partial = 11,         // a batch in which some items failed
    interrupted = 12,     // stopped by a signal
    tls = 13,             // TLS refused where required, a failed handshake or certificate check
};

ExitCode exit_code_for(const Error& error);

} // namespace rsexec
