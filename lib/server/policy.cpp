#include "server/policy.hpp"

#include <array>
#include <charconv>

namespace rsexec::server {
namespace {

Error bad_cidr(std::string_view text, const char* why) {
    return Error(Errc::bad_address, std::string(why) + ": '" + std::string(text.substr(0, 100)) + "'");
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

template <std::size_t N>
bool prefix_matches(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b, unsigned bits) {
    for (std::size_t i = 0; i < N && bits > 0; ++i) {
        const unsigned take = bits >= 8 ? 8 : bits;
        const auto mask = static_cast<unsigned char>(0xff << (8 - take));
        if ((a[i] & mask) != (b[i] & mask)) return false;
        bits -= take;
    }
    return true;
}

} // namespace

asio::ip::address plain_address(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
}

std::string endpoint_text(const Endpoint& endpoint) {
    const auto address = plain_address(endpoint.address());
    if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
    return address.to_string() + ":" + std::to_string(endpoint.port());
}

bool Cidr::contains(const asio::ip::address& candidate) const {
    const auto address = plain_address(candidate);
    if (address.is_v4() != network.is_v4()) return false;
    if (address.is_v4()) return prefix_matches(address.to_v4().to_bytes(), network.to_v4().to_bytes(), prefix_length);
    return prefix_matches(address.to_v6().to_bytes(), network.to_v6().to_bytes(), prefix_length);
}

Expected<Cidr> parse_cidr(std::string_view text) {
    text = trim(text);
    const auto slash = text.find('/');
    std::error_code ec;
    const auto address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return bad_cidr(text, "not an IP address");
    Cidr cidr{plain_address(address), 0};
    const unsigned max = cidr.network.is_v4() ? 32 : 128;
    cidr.prefix_length = max;
    if (slash != std::string_view::npos) {
        const auto bits = text.substr(slash + 1);
        const auto [end, err] = std::from_chars(bits.data(), bits.data() + bits.size(), cidr.prefix_length);
        if (bits.empty() || err != std::errc{} || end != bits.data() + bits.size() || cidr.prefix_length > max)
            return bad_cidr(text, "bad prefix length");
    }
    return cidr;
}

Expected<PeerPolicy> PeerPolicy::parse(std::string_view list) {
    PeerPolicy policy;
    list = trim(list);
    if (list.empty() || list == "none") return policy;
    if (list == "any") {
        policy.any_ = true;
        return policy;
    }
    while (!list.empty()) {
        const auto comma = list.find(',');
        auto cidr = parse_cidr(list.substr(0, comma));
        if (!cidr) return cidr.error();
        policy.peers_.push_back(*cidr);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return policy;
}

bool PeerPolicy::allows(const asio::ip::address& control_peer, const asio::ip::address& data_peer) const {
    if (any_ || plain_address(control_peer) == plain_address(data_peer)) return true;
    for (const auto& cidr : peers_)
        if (cidr.contains(data_peer)) return true;
    return false;
}

TargetRefusal check_data_target(const PeerPolicy& policy, const asio::ip::address& control_peer,
                                const Endpoint& target) {
    if (is_privileged_port(target.port())) return TargetRefusal::privileged_port;
    if (!policy.allows(control_peer, target.address())) return TargetRefusal::foreign_host;
    return TargetRefusal::none;
}

std::string describe(TargetRefusal refusal) {
    switch (refusal) {
    case TargetRefusal::privileged_port: return "ports below 1024 are never data ports (RFC 2577)";
    case TargetRefusal::foreign_host: return "that host is not the client and not in --fxp-peers";
    case TargetRefusal::none: break;
    }
    return "allowed";
}

bool Pin::admits(const Endpoint& candidate) const {
    if (plain_address(candidate.address()) != plain_address(peer.address())) return false;
    return peer.port() == 0 || peer.port() == candidate.port();
}

} // namespace rsexec::server
