#pragma once
// ftp:// URLs (RFC 1738 3.2, RFC 3986): ftp://[user[:password]@]host[:port]/path
// and, for rsexec copy, local files: file:///abs/path (RFC 8089) or a plain absolute path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/expected.hpp"

namespace rsexec {

struct FtpUrl {
    std::string scheme = "ftp";          // "ftp", or "ftps" for implicit TLS; "file" for a local file
    std::optional<std::string> user;     // percent-decoded
    std::optional<std::string> password; // percent-decoded
    std::string host;                    // a name, IPv4 text, or IPv6 text without brackets
    std::uint16_t port = 21;
    // Percent-decoded path after the authority's '/': relative to the login directory
    // (RFC 1738), so "ftp://h/a/b" is "a/b" and "ftp://h//srv/b" is "/srv/b".
    std::string path;

    // A local file (file:// or a plain absolute path): `path` is absolute, `host` empty.
    bool is_local() const noexcept { return scheme == "file"; }
    // An empty path, or one ending in '/', names a directory.
    bool names_directory() const noexcept { return path.empty() || path.back() == '/'; }
    // ftps://: TLS from the first byte (RFC 4217 calls it implicit), whatever --tls says.
    bool implicit_tls() const noexcept { return scheme == "ftps"; }
    // The last path segment ("b" of "a/b"); empty for a directory.
    std::string file_name() const;
    // "host:port", IPv6 in brackets.
    std::string authority() const;
    // The URL as it may be shown: never the password.
    std::string display() const;
};

Expected<FtpUrl> parse_ftp_url(std::string_view text);
// parse_ftp_url, and local files: "file:///abs/path" (RFC 8089 2: an empty host or
// "localhost", the path percent-decoded) or "/abs/path" taken as it is.
Expected<FtpUrl> parse_url(std::string_view text);

// RFC 3986 2.1; bytes that may not travel in an FTP command (CR, LF, NUL) are refused.
Expected<std::string> percent_decode(std::string_view text);
std::string percent_encode_path(std::string_view path);

} // namespace rsexec
