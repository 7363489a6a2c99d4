// libFuzzer target: the data-socket address codecs (RFC 959 227/PORT, RFC 2428 229/EPRT,
// RFC 438 255 SOCK/SOCK). Every parser is run on the input; whatever one accepts, formatted and
// parsed again, must name the same socket.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "require.hpp"

#include "ftp/address.hpp"

namespace {

using rsexec::HostPort;


// An IPv4-mapped IPv6 address and its IPv4 form name the same host; the formatters print the
// IPv4 form (PORT cannot carry IPv6).
HostPort plain(const HostPort& endpoint) { return {endpoint.address.plain(), endpoint.port}; }

void require_same(const HostPort& a, const rsexec::Expected<HostPort>& b) {
    require(b.has_value());
    require(plain(a) == plain(*b));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto pasv = rsexec::parse_pasv_reply(text)) {
        require(pasv->address.is_v4() && pasv->port != 0);
        require_same(*pasv, rsexec::parse_pasv_reply(rsexec::format_pasv_reply_text(*pasv)));
        auto port = rsexec::format_port_argument(*pasv);
        require(port.has_value());
        require_same(*pasv, rsexec::parse_port_argument(*port));
    }
    if (auto epsv = rsexec::parse_epsv_reply(text)) {
        require(*epsv != 0);
        auto again = rsexec::parse_epsv_reply(rsexec::format_epsv_reply_text(*epsv));
        require(again.has_value() && *again == *epsv);
    }
    if (auto sock = rsexec::parse_sock_reply(text)) {
        require(sock->port != 0);
        require_same(*sock, rsexec::parse_sock_reply("255 SOCK " + rsexec::format_sock_argument(*sock)));
    }
    if (auto port = rsexec::parse_port_argument(text)) {
        require(port->port != 0);
        auto formatted = rsexec::format_port_argument(*port);
        require(formatted.has_value());
        require_same(*port, rsexec::parse_port_argument(*formatted));
    }
    if (auto eprt = rsexec::parse_eprt_argument(text)) {
        require(eprt->port != 0);
        require_same(*eprt, rsexec::parse_eprt_argument(rsexec::format_eprt_argument(*eprt)));
        require_same(*eprt, rsexec::parse_sock_argument(rsexec::format_sock_argument(*eprt)));
    }
    if (auto sock = rsexec::parse_sock_argument(text)) {
        require_same(*sock, rsexec::parse_sock_argument(rsexec::format_sock_argument(*sock)));
        require_same(*sock, rsexec::parse_sock_argument(rsexec::format_eprt_argument(*sock)));
    }
    return 0;
}
