// libFuzzer target: the ftp:// URL parser. What it accepts must show without its password and
// parse again from that display to the same user, host, port and path; what it refuses must not
// quote the password in its error.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "require.hpp"

#include "ftp/url.hpp"

namespace {


// Every byte the parser's own error texts are written with.
constexpr std::string_view message_bytes =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 '.:-()[]/,";

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// The raw password text of a URL, found as the parser finds it: after the first ':' of the
// userinfo, which ends at the last '@' before the path.
std::string_view raw_password(std::string_view text) {
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return {};
    auto authority = text.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find('/'));
    const auto at = authority.rfind('@');
    if (at == std::string_view::npos) return {};
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    return colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // A local file (file:// or an absolute path) shows as file:// and parses back to its path.
    if (auto local = rsexec::parse_url(text); local && local->is_local()) {
        require(!local->path.empty() && local->path.front() == '/');
        require(local->host.empty() && !local->user && !local->password);
        auto again = rsexec::parse_url(local->display());
        require(again.has_value() && again->is_local() && again->path == local->path);
    }
    auto url = rsexec::parse_ftp_url(text);
    if (!url) {
        // A password of ordinary words may match the message's own text ("st nam" in "host
        // name"); one holding a byte no message is written with can only be there if quoted,
        // unless the same text also stands elsewhere in the URL (in the path, say).
        const auto password = raw_password(text);
        if (password.size() >= 4 && password.find_first_not_of(message_bytes) != std::string_view::npos) {
            const auto offset = static_cast<std::size_t>(password.data() - text.data());
            const std::string elsewhere = std::string(text.substr(0, offset)) + '\n' +
                std::string(text.substr(offset + password.size()));
            // The message's own quotes and words may border text quoted from elsewhere ("'%4@0"
            // from the path "%4@0"): only the password's core, trimmed of such bytes, must be there.
            auto core = password;
            core.remove_prefix(std::min(core.size(), core.find_first_not_of(message_bytes)));
            core = core.substr(0, core.find_last_not_of(message_bytes) + 1);
            require(!contains(url.error().message, password) || contains(elsewhere, core));
        }
        return 0;
    }
    require(!url->host.empty() && url->port != 0);

    const auto shown = url->display();
    // The display does not depend on the password: the same URL without it shows the same.
    auto without_password = *url;
    without_password.password.reset();
    require(without_password.display() == shown);

    auto again = rsexec::parse_ftp_url(shown);
    require(again.has_value());
    require(!again->password);
    require(again->scheme == url->scheme);
    require(again->user == url->user);
    require(again->host == url->host);
    require(again->port == url->port);
    require(again->path == url->path);
    require(again->display() == shown);
    return 0;
}
