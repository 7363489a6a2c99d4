#include "ftp/url.hpp"

#include <cctype>
#include <algorithm>
#include <charconv>

#include "ftp/address.hpp"

namespace rsexec {
namespace {

Error bad(std::string what, std::string_view url) {
    // The text may hold a password: show only the part before any userinfo.
    const auto at = url.find('@');
    const std::string shown = at == std::string_view::npos ? std::string(url.substr(0, 120)) : "...";
    return Error(Errc::bad_url, what + (shown == "..." ? "" : ": '" + shown + "'"));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

Expected<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size() || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0)
                return Error(Errc::bad_url, "bad percent escape in '" + std::string(text.substr(0, 120)) + "'");
            c = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        }
        if (c == '\r' || c == '\n' || c == '\0')
            return Error(Errc::bad_url, "URL holds CR, LF or NUL, which FTP cannot carry");
        out += c;
    }
    return out;
}

std::string percent_encode_path(std::string_view path) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : path) {
        const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

Expected<FtpUrl> parse_ftp_url(std::string_view text) {
    FtpUrl url;
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return bad("not a URL (want ftp://host/path)", text);
    const auto written_scheme = text.substr(0, scheme_end);
    std::string scheme(written_scheme);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "ftp" && scheme != "ftps") {
        // Quote only what can be a scheme (RFC 3986 3.1): text before "://" that is not one may
        // hold anything, the password of a mistyped URL included.
        const bool plausible = !scheme.empty() && scheme.size() <= 16 &&
            scheme.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+-.") == std::string::npos;
        return bad(plausible ? "unsupported scheme '" + std::string(written_scheme) + "' (want ftp or ftps)"
                             : std::string("not an ftp:// or ftps:// URL"),
                   text);
    }
    url.scheme = scheme;
    url.port = scheme == "ftps" ? 990 : 21;

    auto rest = text.substr(scheme_end + 3);
    const auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    url.path.clear();
    if (slash != std::string_view::npos) {
        auto path = percent_decode(rest.substr(slash + 1));
        if (!path) return path.error();
        url.path = std::move(*path);
    }

    // Userinfo ends at the last '@': a password may hold a raw '@'.
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const auto userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        // percent_decode's error quotes its input: never let it quote a password.
        auto user = percent_decode(userinfo.substr(0, colon));
        if (!user) return bad("bad percent escape, CR, LF or NUL in user name", text);
        if (user->empty()) return bad("empty user name in URL", text);
        url.user = std::move(*user);
        if (colon != std::string_view::npos) {
            auto password = percent_decode(userinfo.substr(colon + 1));
            if (!password) return bad("bad percent escape, CR, LF or NUL in password", text);
            url.password = std::move(*password);
        }
    }

    std::string_view port_text;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unclosed '[' in IPv6 host", text);
        url.host = std::string(authority.substr(1, close - 1));
        // A zone ("%eth0", RFC 6874) is kept in the host for the resolver; the address is checked.
        const auto address = IpAddress::parse(std::string_view(url.host).substr(0, url.host.find('%')));
        if (!address || !address->is_v6()) return bad("not an IPv6 address in brackets", text);
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return bad("unexpected text after ']'", text);
            port_text = after.substr(1);
            if (port_text.empty()) return bad("empty port", text);
        }
    } else {
        const auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return bad("empty port", text);
        }
        for (char c : url.host) {
            const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
            if (!ok) return bad("bad character in host name", text);
        }
    }
    if (url.host.empty()) return bad("URL has no host", text);
    if (!port_text.empty()) {
        unsigned port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
            return bad("port must be 1-65535", text);
        url.port = static_cast<std::uint16_t>(port);
    }
    return url;
}

Expected<FtpUrl> parse_url(std::string_view text) {
    FtpUrl url;
    url.scheme = "file";
    url.port = 0;
    if (!text.empty() && text.front() == '/') {
        if (text.find('\0') != std::string_view::npos) return bad("path holds NUL", text);
        url.path = std::string(text);
        return url;
    }
    constexpr std::string_view file_scheme = "file://";
    const bool is_file = text.size() >= file_scheme.size() &&
        std::equal(file_scheme.begin(), file_scheme.end(), text.begin(),
                   [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
    if (!is_file) return parse_ftp_url(text);
    auto rest = text.substr(file_scheme.size());
    // RFC 8089 2: file://host/path; only this machine's files are reachable.
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return bad("file URL has no path (want file:///abs/path)", text);
    const auto host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") return bad("file URL names another host (want file:///abs/path)", text);
    std::string path;
    for (std::size_t i = slash; i < rest.size(); ++i) {
        char c = rest[i];
        if (c == '%') {
            if (i + 2 >= rest.size() || hex_value(rest[i + 1]) < 0 || hex_value(rest[i + 2]) < 0)
                return bad("bad percent escape in file URL", text);
            c = static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
            i += 2;
        }
        if (c == '\0') return bad("file URL holds NUL", text);
        path += c;
    }
    url.path = std::move(path);
    return url;
}

std::string FtpUrl::file_name() const {
    if (names_directory()) return {};
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string FtpUrl::authority() const {
    if (is_local()) return "local";
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ':' + std::to_string(port);
}

std::string FtpUrl::display() const {
    if (is_local()) return "file://" + percent_encode_path(path);
    std::string out = scheme + "://";
    // '/' too, or the user name would end the authority when the display is parsed again.
    if (user) {
        std::string encoded;
        for (char c : percent_encode_path(*user)) encoded += c == '/' ? std::string("%2F") : std::string(1, c);
        out += encoded + '@';
    }
    out += authority() + '/' + percent_encode_path(path);
    return out;
}

} // namespace rsexec
