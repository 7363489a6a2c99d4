#include "ftp/error.hpp"

namespace rsexec {
namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "rsexec"; }
    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
        case Errc::malformed_reply: return "malformed reply";
        case Errc::reply_too_large: return "reply too large";
        case Errc::bad_address: return "bad data socket address";
        case Errc::bad_url: return "bad URL";
        case Errc::bad_command: return "command refused before sending";
        case Errc::bad_job: return "bad job description";
        case Errc::resolve_failed: return "name resolution failed";
        case Errc::connect_failed: return "connection failed";
        case Errc::connection_closed: return "connection closed by peer";
        case Errc::timeout: return "timed out";
        case Errc::login_failed: return "login failed";
        case Errc::transient_reply: return "transient negative reply";
        case Errc::permanent_reply: return "permanent negative reply";
        case Errc::unexpected_reply: return "unexpected reply";
        case Errc::pairing_refused: return "servers refused every pairing";
        case Errc::verification_failed: return "verification failed";
        case Errc::transfer_failed: return "transfer failed";
        case Errc::interrupted: return "interrupted";
        case Errc::tls_failed: return "TLS failed";
        }
        return "unknown rsexec error";
    }
};

} // namespace

const std::error_category& error_category() noexcept {
    static const Category category;
    return category;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), error_category()}; }

const char* side_name(Side side) noexcept {
    switch (side) {
    case Side::source: return "src";
    case Side::destination: return "dst";
    case Side::none: break;
    }
    return "";
}

std::string Error::describe() const {
    if (side == Side::none) return message;
    return std::string(side_name(side)) + ": " + message;
}

} // namespace rsexec
