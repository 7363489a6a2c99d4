#include "client/same_file.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace rsexec {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::optional<asio::ip::address> literal_address(const std::string& host) {
    std::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    return address;
}

// Relative paths hang off the user's login directory: two users' may differ.
bool same_login_directory(const FtpUrl& a, const FtpUrl& b) { return !a.user || !b.user || *a.user == *b.user; }

bool is_absolute(const std::string& normal) { return !normal.empty() && normal[0] == '/'; }

} // namespace

std::string normal_path(std::string_view path) {
    const bool absolute = !path.empty() && path[0] == '/';
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const auto segment = path.substr(start, end - start);
        if (segment == "..") {
            if (!segments.empty()) segments.pop_back();
        } else if (!segment.empty() && segment != ".") {
            segments.push_back(segment);
        }
        start = end + 1;
    }
    std::string out = absolute ? "/" : "";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (i > 0) out += '/';
        out += segments[i];
    }
    return out;
}

bool same_server(const FtpUrl& a, const FtpUrl& b, std::optional<asio::ip::address> address_a,
                 std::optional<asio::ip::address> address_b) {
    if (a.port != b.port) return false;
    if (lower(a.host) == lower(b.host)) return true;
    if (!address_a) address_a = literal_address(a.host);
    if (!address_b) address_b = literal_address(b.host);
    return address_a && address_b && *address_a == *address_b;
}

bool same_file(const FtpUrl& a, std::string_view path_a, const FtpUrl& b, std::string_view path_b,
               std::optional<asio::ip::address> address_a, std::optional<asio::ip::address> address_b) {
    if (!same_server(a, b, address_a, address_b)) return false;
    const auto normal_a = normal_path(path_a);
    if (normal_a != normal_path(path_b)) return false;
    return is_absolute(normal_a) || same_login_directory(a, b);
}

bool same_or_nested_directories(const FtpUrl& a, const FtpUrl& b, std::optional<asio::ip::address> address_a,
                                std::optional<asio::ip::address> address_b) {
    if (!same_server(a, b, address_a, address_b)) return false;
    const auto normal_a = normal_path(a.path);
    const auto normal_b = normal_path(b.path);
    if (is_absolute(normal_a) != is_absolute(normal_b)) return false;
    if (!is_absolute(normal_a) && !same_login_directory(a, b)) return false;
    // "x" holds "x/y"; "" (the login directory) and "/" hold everything of their kind.
    const auto inside = [](const std::string& outer, const std::string& inner) {
        if (outer == inner || outer.empty() || outer == "/") return true;
        return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
    };
    return inside(normal_a, normal_b) || inside(normal_b, normal_a);
}

} // namespace rsexec
