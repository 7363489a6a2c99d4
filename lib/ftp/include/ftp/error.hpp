#pragma once
// The error model: a std::error_code in rsexec's own category, plus a sentence for people.
// FTP failures keep the side, the command and the server's reply so the CLI can say
// "dst: STOR x: 553 Could not create file".
#include <string>
#include <system_error>

namespace rsexec {

enum class Errc {
    malformed_reply = 1,   // not an RFC 959 4.2 reply
    reply_too_large,       // a line, the line count or the byte count over its bound
    bad_address,           // 227/229/255/PORT/EPRT/SOCK text that names no valid socket
    bad_url,
    bad_command,           // a verb or argument that must not be sent (CR, LF, NUL)
    bad_job,               // a job file line or a netrc entry that cannot be used
    resolve_failed,
    connect_failed,
    connection_closed,     // the peer closed the control connection
    timeout,
    login_failed,
    transient_reply,       // 4yz: the command may succeed later (RFC 959 4.2.1)
    permanent_reply,       // 5yz: it will not
    unexpected_reply,      // a reply out of sequence, e.g. 2yz where 1yz was needed
    pairing_refused,       // no dialect both servers accept
    verification_failed,
    transfer_failed,
    interrupted,
    tls_failed,            // TLS refused where required, a failed handshake or certificate check
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

// Which end of a server-to-server transfer a failure belongs to.
enum class Side { none, source, destination };
const char* side_name(Side side) noexcept; // "src", "dst"

struct Error {
    std::error_code code;
    std::string message;    // one sentence, never holding a password
    Side side = Side::none;
    int reply_code = 0;     // the FTP reply behind it, when there is one

    Error() = default;
    Error(Errc e, std::string text, Side s = Side::none, int reply = 0)
        : code(make_error_code(e)), message(std::move(text)), side(s), reply_code(reply) {}
    Error(std::error_code c, std::string text, Side s = Side::none)
        : code(c), message(std::move(text)), side(s) {}

    bool is(Errc e) const noexcept { return code == make_error_code(e); }
    // "dst: " + message, or message alone when no side is known.
    std::string describe() const;
};

} // namespace rsexec

template <>
struct std::is_error_code_enum<rsexec::Errc> : std::true_type {};
