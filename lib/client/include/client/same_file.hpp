#pragma once
// Whether two URLs name one file (or one directory tree) on one server: a copy onto itself
// would truncate the file (STOR opens it for writing before RETR reads it) or double it (APPE),
// so it is refused before any command that changes a file. Pure functions of the URLs and the
// addresses their host names resolved to; nothing here talks to a server.
#include <optional>
#include <string>
#include <string_view>

#include <asio/ip/address.hpp>

#include "ftp/url.hpp"

namespace rsexec {

// A path in a normal form for comparison: repeated '/' and "." segments dropped, ".." taken
// back lexically (never above the start), no trailing '/'; a leading '/' (absolute) is kept.
// "a/./b//c/" -> "a/b/c", "//x/../y" -> "/y", "" and "." -> "" (the login directory).
std::string normal_path(std::string_view path);

// One server: the same port, and the same host name (case-insensitive) or the same address
// (an IP literal in the URL, or what the name resolved to when the caller knows it).
bool same_server(const FtpUrl& a, const FtpUrl& b, std::optional<asio::ip::address> address_a = std::nullopt,
                 std::optional<asio::ip::address> address_b = std::nullopt);

// Whether `path_a` on a's server and `path_b` on b's are one file. A relative path is relative
// to the login directory (RFC 1738 3.2.2), which differs between users: relative paths are one
// file only when the users are the same or one of them is not known (it may come from netrc).
// An absolute and a relative path are taken as different (the login directory is not known).
bool same_file(const FtpUrl& a, std::string_view path_a, const FtpUrl& b, std::string_view path_b,
               std::optional<asio::ip::address> address_a = std::nullopt,
               std::optional<asio::ip::address> address_b = std::nullopt);

// Whether one of two directories is the other or lies inside it, on one server: a mirror
// between them would read what it writes.
bool same_or_nested_directories(const FtpUrl& a, const FtpUrl& b,
                                std::optional<asio::ip::address> address_a = std::nullopt,
                                std::optional<asio::ip::address> address_b = std::nullopt);

} // namespace rsexec
