#include "ftp/address.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <arpa/inet.h>  // inet_pton, inet_ntop: text conversions only, no socket

namespace rsexec {
namespace {

Error bad(std::string what, std::string_view text) {
    return Error(Errc::bad_address, what + ": '" + std::string(text.substr(0, 100)) + "'");
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a decimal number of at most `max` at text[pos]; advances pos.
bool read_number(std::string_view text, std::size_t& pos, unsigned max, unsigned& out) {
    const char* first = text.data() + pos;
    const char* last = text.data() + text.size();
    if (first == last || !is_digit(*first)) return false;
    auto [end, ec] = std::from_chars(first, last, out);
    if (ec != std::errc{} || out > max || end - first > 5) return false;
    pos += static_cast<std::size_t>(end - first);
    return true;
}

// Six comma-separated numbers starting at pos; nothing but the numbers and commas.
bool read_six(std::string_view text, std::size_t& pos, std::array<unsigned, 6>& n) {
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0) {
            if (pos >= text.size() || text[pos] != ',') return false;
            ++pos;
        }
        if (!read_number(text, pos, 255, n[i])) return false;
    }
    return true;
}

HostPort endpoint_of(const std::array<unsigned, 6>& n) {
    const IpAddress::V4Bytes bytes{static_cast<std::uint8_t>(n[0]), static_cast<std::uint8_t>(n[1]),
                                   static_cast<std::uint8_t>(n[2]), static_cast<std::uint8_t>(n[3])};
    return {IpAddress(bytes), static_cast<std::uint16_t>(n[4] * 256 + n[5])};
}

// The whole argument is the six numbers: PORT and SOCK's IPv4 form.
Expected<HostPort> parse_six(std::string_view argument, bool allow_port_zero) {
    std::size_t pos = 0;
    std::array<unsigned, 6> n{};
    if (!read_six(argument, pos, n) || pos != argument.size()) return bad("expected h1,h2,h3,h4,p1,p2", argument);
    HostPort endpoint = endpoint_of(n);
    if (endpoint.port == 0 && !allow_port_zero) return bad("port 0 is not a data port", argument);
    return endpoint;
}

// RFC 2428 2: <d><net-prt><d><net-addr><d><tcp-port><d>, d any of ASCII 33-126.
Expected<HostPort> parse_extended(std::string_view argument, bool allow_port_zero) {
    if (argument.size() < 7) return bad("expected |1|addr|port| or |2|addr|port|", argument);
    const char d = argument[0];
    if (d < 33 || d > 126 || argument.back() != d) return bad("bad delimiter in extended address", argument);
    const auto inner = argument.substr(1, argument.size() - 2);
    const auto first = inner.find(d);
    const auto second = first == std::string_view::npos ? first : inner.find(d, first + 1);
    if (second == std::string_view::npos || inner.find(d, second + 1) != std::string_view::npos)
        return bad("expected three fields in extended address", argument);
    const auto family = inner.substr(0, first);
    const std::string host(inner.substr(first + 1, second - first - 1));
    const auto port_text = inner.substr(second + 1);
    if (family != "1" && family != "2") return bad("unknown network protocol (want 1 or 2)", argument);
    const auto address = IpAddress::parse(host);
    if (!address || (family == "1") != address->is_v4()) return bad("address does not match its protocol", argument);
    std::size_t pos = 0;
    unsigned port = 0;
    if (!read_number(port_text, pos, 65535, port) || pos != port_text.size()) return bad("bad port", argument);
    if (port == 0 && !allow_port_zero) return bad("port 0 is not a data port", argument);
    return HostPort{*address, static_cast<std::uint16_t>(port)};
}

} // namespace

IpAddress::IpAddress(const V4Bytes& bytes) { std::copy(bytes.begin(), bytes.end(), bytes_.begin()); }

IpAddress::IpAddress(const V6Bytes& bytes) : v6_(true), bytes_(bytes) {}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    const std::string zero_terminated(text);
    V6Bytes bytes{};
    if (inet_pton(AF_INET6, zero_terminated.c_str(), bytes.data()) == 1) return IpAddress(bytes);
    V4Bytes v4{};
    if (inet_pton(AF_INET, zero_terminated.c_str(), v4.data()) == 1) return IpAddress(v4);
    return std::nullopt;
}

IpAddress::V4Bytes IpAddress::v4_bytes() const noexcept { return {bytes_[0], bytes_[1], bytes_[2], bytes_[3]}; }

IpAddress IpAddress::plain() const {
    constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!v6_ || !std::equal(mapped_prefix.begin(), mapped_prefix.end(), bytes_.begin())) return *this;
    return IpAddress(V4Bytes{bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
}

std::string IpAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), text, sizeof text);
    return text;
}

Expected<HostPort> parse_pasv_reply(std::string_view text) {
    // Servers differ: "(h,h,h,h,p,p)", "=h,h,h,h,p,p", or bare numbers after the text.
    for (std::size_t start = 0; start < text.size(); ++start) {
        if (!is_digit(text[start]) || (start > 0 && (is_digit(text[start - 1]) || text[start - 1] == ','))) continue;
        std::size_t pos = start;
        std::array<unsigned, 6> n{};
        if (!read_six(text, pos, n) || (pos < text.size() && (is_digit(text[pos]) || text[pos] == ','))) continue;
        HostPort endpoint = endpoint_of(n);
        if (endpoint.port == 0) return bad("227 reply announces port 0", text);
        return endpoint;
    }
    return bad("227 reply has no h1,h2,h3,h4,p1,p2", text);
}

Expected<std::uint16_t> parse_epsv_reply(std::string_view text) {
    for (auto open = text.find('('); open != std::string_view::npos; open = text.find('(', open + 1)) {
        const auto close = text.find(')', open);
        if (close == std::string_view::npos) break;
        const auto inside = text.substr(open + 1, close - open - 1);
        // (|||port|): three delimiters, the port, a fourth delimiter.
        if (inside.size() < 5) continue;
        const char d = inside[0];
        if (d < 33 || d > 126 || inside[1] != d || inside[2] != d || inside.back() != d) continue;
        const auto port_text = inside.substr(3, inside.size() - 4);
        std::size_t pos = 0;
        unsigned port = 0;
        if (!read_number(port_text, pos, 65535, port) || pos != port_text.size() || port == 0) continue;
        return static_cast<std::uint16_t>(port);
    }
    return bad("229 reply has no (|||port|)", text);
}

Expected<HostPort> parse_sock_reply(std::string_view text) {
    auto at = std::string_view::npos;
    for (std::size_t i = 0; i + 4 <= text.size(); ++i) {
        const auto word = text.substr(i, 4);
        if ((word == "SOCK" || word == "sock") && (i + 4 == text.size() || text[i + 4] == ' ')) at = i + 4;
    }
    if (at == std::string_view::npos) return bad("255 reply has no SOCK", text);
    while (at < text.size() && text[at] == ' ') ++at;
    auto socket = text.substr(at);
    socket = socket.substr(0, socket.find_first_of(" \r\n"));
    auto endpoint = parse_sock_argument(socket);
    if (endpoint && endpoint->port == 0) return bad("255 reply announces port 0", text);
    return endpoint;
}

Expected<HostPort> parse_port_argument(std::string_view argument) { return parse_six(argument, false); }

Expected<HostPort> parse_eprt_argument(std::string_view argument) { return parse_extended(argument, false); }

Expected<HostPort> parse_sock_argument(std::string_view argument) {
    if (!argument.empty() && is_digit(argument[0])) return parse_six(argument, true);
    return parse_extended(argument, true);
}

Expected<std::string> format_port_argument(const HostPort& endpoint) {
    const auto address = endpoint.address.plain();
    if (!address.is_v4()) return Error(Errc::bad_address, "PORT cannot name IPv6 address " + address.to_string());
    const auto b = address.v4_bytes();
    const unsigned port = endpoint.port;
    return std::to_string(b[0]) + ',' + std::to_string(b[1]) + ',' + std::to_string(b[2]) + ',' +
        std::to_string(b[3]) + ',' + std::to_string(port >> 8) + ',' + std::to_string(port & 0xff);
}

std::string format_eprt_argument(const HostPort& endpoint) {
    const auto address = endpoint.address.plain();
    return std::string(address.is_v4() ? "|1|" : "|2|") + address.to_string() + '|' +
        std::to_string(endpoint.port) + '|';
}

std::string format_sock_argument(const HostPort& endpoint) {
    if (auto port_form = format_port_argument(endpoint)) return *port_form;
    return format_eprt_argument(endpoint);
}

std::string format_pasv_reply_text(const HostPort& endpoint) {
    auto port_form = format_port_argument(endpoint);
    return "Entering Passive Mode (" + (port_form ? *port_form : std::string("0,0,0,0,0,0")) + ")";
}

std::string format_epsv_reply_text(std::uint16_t port) {
    return "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)";
}

} // namespace rsexec
