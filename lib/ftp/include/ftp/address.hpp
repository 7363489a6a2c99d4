#pragma once
// Data-socket address codecs: how FTP writes a host and port in text.
//   RFC 959:  PORT h1,h2,h3,h4,p1,p2        227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)
//   RFC 2428: EPRT |1|132.235.1.2|6275|      229 Entering Extended Passive Mode (|||6446|)
//   RFC 438 over TCP, as rsexec maps it (docs/PROTOCOL.md): the argument of SOCK and of the
//   "255 SOCK ..." reply is the PORT form for IPv4 and the EPRT form |2|addr|port| for IPv6.
// Pure text in, endpoint out; nothing here touches a socket.
#include <cstdint>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>

#include "ftp/expected.hpp"

namespace rsexec {

using Endpoint = asio::ip::tcp::endpoint;

// Finds h1,h2,h3,h4,p1,p2 anywhere in a 227 reply's text, with or without parentheses.
Expected<Endpoint> parse_pasv_reply(std::string_view text);
// Finds (<d><d><d>port<d>) in a 229 reply's text; only the port is announced.
Expected<std::uint16_t> parse_epsv_reply(std::string_view text);
// Finds the socket in "255 SOCK <socket>"; the port must not be 0 here.
Expected<Endpoint> parse_sock_reply(std::string_view text);

// Command arguments, as a server reads them. PORT and EPRT need a port of 1-65535.
Expected<Endpoint> parse_port_argument(std::string_view argument);
Expected<Endpoint> parse_eprt_argument(std::string_view argument);
// SOCK accepts both forms; port 0 means "any port of that host".
Expected<Endpoint> parse_sock_argument(std::string_view argument);

// "h1,h2,h3,h4,p1,p2"; IPv4 (or IPv4-mapped IPv6) only.
Expected<std::string> format_port_argument(const Endpoint& endpoint);
// "|1|addr|port|" or "|2|addr|port|".
std::string format_eprt_argument(const Endpoint& endpoint);
// The PORT form for IPv4, |2|addr|port| for IPv6.
std::string format_sock_argument(const Endpoint& endpoint);
// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" and friends, for servers.
std::string format_pasv_reply_text(const Endpoint& endpoint);
std::string format_epsv_reply_text(std::uint16_t port);

} // namespace rsexec
