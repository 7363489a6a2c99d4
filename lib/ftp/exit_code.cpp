#include "ftp/exit_code.hpp"

namespace rsexec {

ExitCode exit_code_for(const Error& error) {
    if (error.code.category() != error_category()) return ExitCode::connect;
    switch (static_cast<Errc>(error.code.value())) {
    case Errc::bad_url:
    case Errc::bad_command:
    case Errc::bad_job: return ExitCode::usage;
    case Errc::resolve_failed:
    case Errc::connect_failed:
    case Errc::connection_closed: return ExitCode::connect;
    case Errc::login_failed: return ExitCode::login;
    case Errc::pairing_refused: return ExitCode::pairing_refused;
    case Errc::transfer_failed: return ExitCode::transfer;
    case Errc::verification_failed: return ExitCode::verification;
    case Errc::timeout: return ExitCode::timeout;
    case Errc::interrupted: return ExitCode::interrupted;
    case Errc::tls_failed: return ExitCode::tls;
    case Errc::malformed_reply:
    case Errc::reply_too_large:
    case Errc::bad_address:
    case Errc::transient_reply:
    case Errc::permanent_reply:
    case Errc::unexpected_reply: break;
    }
    switch (error.side) {
    case Side::source: return ExitCode::source;
    case Side::destination: return ExitCode::destination;
    case Side::none: break;
    }
    return ExitCode::transfer;
}

} // namespace rsexec
