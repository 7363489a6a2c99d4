#include "ftp/address_refusal.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

namespace rsexec {
namespace {

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Phrases, in lower case, that name the peer's address as the reason. Each is specific to an
// address check: a plain "425 Can't open data connection" is not among them (a closed port, a
// full backlog), which the transfer judges by whether data moved.
constexpr std::array<std::string_view, 10> address_phrases{
    "bad ip connecting",                // vsftpd, passive connection from another host
    "foreign address",                  // pyftpdlib, both directions
    "foreign ip",                       // proftpd's own log wording, some forks reply with it
    "addresses do not match",           // "550 Remote addresses do not match"
    "address mismatch",                 // proftpd: "Refused PORT ... (address mismatch)"
    "won't open a connection to",       // pure-ftpd without -w
    "illegal port command",             // vsftpd, proftpd: PORT to another host
    "illegal eprt command",             // vsftpd: EPRT to another host
    "is not the client and not in",     // rsexecd: "504 EPRT refused: that host is not the client ..."
    // proftpd's passive check; a bare "Operation not permitted" is a file's EPERM, not this.
    "data connection: operation not permitted",
};

} // namespace

bool refuses_peer_address(const Reply& reply) {
    if (!reply.transient_negative() && !reply.permanent_negative()) return false;
    const std::string text = lowercase(reply.text());
    return std::any_of(address_phrases.begin(), address_phrases.end(),
                       [&](std::string_view phrase) { return text.find(phrase) != std::string::npos; });
}

} // namespace rsexec
