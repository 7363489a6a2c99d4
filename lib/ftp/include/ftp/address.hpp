#pragma once
// Data-socket address codecs: how FTP writes a host and port in text.
//   RFC 959:  PORT h1,h2,h3,h4,p1,p2        227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)
//   RFC 2428: EPRT |1|132.235.1.2|6275|      229 Entering Extended Passive Mode (|||6446|)
//   RFC 438 over TCP, as rsexec maps it (docs/PROTOCOL.md): the argument of SOCK and of the
//   "255 SOCK ..." reply is the PORT form for IPv4 and the EPRT form |2|addr|port| for IPv6.
// Pure text in, address out; nothing here touches a socket. The socket side turns a HostPort
// into its own endpoint type (client/endpoint.hpp, server/endpoint.hpp).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/expected.hpp"

namespace rsexec {

// An IPv4 or IPv6 address as bytes in network order: RFC 959's h1..h4, RFC 2428's net-addr.
class IpAddress {
public:
    using V4Bytes = std::array<std::uint8_t, 4>;
    using V6Bytes = std::array<std::uint8_t, 16>;

    IpAddress() = default;  // 0.0.0.0
    explicit IpAddress(const V4Bytes& bytes);
    explicit IpAddress(const V6Bytes& bytes);
    // Numeric text only ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"): no names, no zone.
    static std::optional<IpAddress> parse(std::string_view text);

    bool is_v4() const noexcept { return !v6_; }
    bool is_v6() const noexcept { return v6_; }
    V4Bytes v4_bytes() const noexcept;  // the first four bytes of an IPv6 address
    const V6Bytes& v6_bytes() const noexcept { return bytes_; }
    // An IPv4-mapped IPv6 address (RFC 4291 2.5.5.2, ::ffff:a.b.c.d) as the IPv4 address it
    // names; any other address as it is.
    IpAddress plain() const;
    // inet_ntop's form: "192.0.2.1", "2001:db8::1".
    std::string to_string() const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;

private:
    bool v6_ = false;
    V6Bytes bytes_{};  // an IPv4 address in the first four, the rest zero
};

// RFC 959's host-port: where a data connection is to be made.
struct HostPort {
    IpAddress address;
    std::uint16_t port = 0;

    friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Finds h1,h2,h3,h4,p1,p2 anywhere in a 227 reply's text, with or without parentheses.
Expected<HostPort> parse_pasv_reply(std::string_view text);
// Finds (<d><d><d>port<d>) in a 229 reply's text; only the port is announced.
Expected<std::uint16_t> parse_epsv_reply(std::string_view text);
// Finds the socket in "255 SOCK <socket>"; the port must not be 0 here.
Expected<HostPort> parse_sock_reply(std::string_view text);

// Command arguments, as a server reads them. PORT and EPRT need a port of 1-65535.
Expected<HostPort> parse_port_argument(std::string_view argument);
Expected<HostPort> parse_eprt_argument(std::string_view argument);
// SOCK accepts both forms; port 0 means "any port of that host".
Expected<HostPort> parse_sock_argument(std::string_view argument);

// "h1,h2,h3,h4,p1,p2"; IPv4 (or IPv4-mapped IPv6) only.
Expected<std::string> format_port_argument(const HostPort& endpoint);
// "|1|addr|port|" or "|2|addr|port|".
std::string format_eprt_argument(const HostPort& endpoint);
// The PORT form for IPv4, |2|addr|port| for IPv6.
std::string format_sock_argument(const HostPort& endpoint);
// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" and friends, for servers.
std::string format_pasv_reply_text(const HostPort& endpoint);
std::string format_epsv_reply_text(std::uint16_t port);

} // namespace rsexec
