#pragma once
// Who may be at the other end of a data connection (RFC 2577 "bounce attack" and
// "port stealing" defences, widened for server-to-server transfer):
//   - never a port below 1024 (RFC 2577 3);
//   - by default only the host of the control connection's peer;
//   - --fxp-peers names further hosts (CIDR blocks, or "any") for third-party transfer;
//   - RFC 438 SOCK after LSTN pins one host (and port, unless 0) for the next transfer.
// Pure values: addresses in, verdicts out.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include "ftp/expected.hpp"

namespace rsexec::server {

using Endpoint = asio::ip::tcp::endpoint;

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) compare as the IPv4 address they carry.
asio::ip::address plain_address(const asio::ip::address& address);
// "127.0.0.2:50000", "[::1]:50000".
std::string endpoint_text(const Endpoint& endpoint);

struct Cidr {
    asio::ip::address network;
    unsigned prefix_length = 0;

    bool contains(const asio::ip::address& address) const;
};

// "127.0.0.0/8", "::1/128", or a bare address (a block of one host).
Expected<Cidr> parse_cidr(std::string_view text);

// RFC 2577 3: ports below 1024 are never data ports.
constexpr bool is_privileged_port(std::uint16_t port) noexcept { return port != 0 && port < 1024; }

class PeerPolicy {
public:
    // Only the control connection's peer.
    PeerPolicy() = default;
    // "any", "none", or comma-separated CIDR blocks: the --fxp-peers list.
    static Expected<PeerPolicy> parse(std::string_view list);

    // May a data connection go to / come from `data_peer` for a client at `control_peer`?
    bool allows(const asio::ip::address& control_peer, const asio::ip::address& data_peer) const;
    bool allows_any() const noexcept { return any_; }
    const std::vector<Cidr>& peers() const noexcept { return peers_; }

private:
    bool any_ = false;
    std::vector<Cidr> peers_;
};

// Why a data target named by PORT, EPRT or SOCK is refused (reply 504), or nothing.
enum class TargetRefusal { none, privileged_port, foreign_host };
TargetRefusal check_data_target(const PeerPolicy& policy, const asio::ip::address& control_peer,
                                const Endpoint& target);
std::string describe(TargetRefusal refusal);

// RFC 438 rule 2: after "SOCK addr" only that socket may connect; port 0 means any port of the host.
struct Pin {
    Endpoint peer;

    bool admits(const Endpoint& candidate) const;
};

} // namespace rsexec::server
