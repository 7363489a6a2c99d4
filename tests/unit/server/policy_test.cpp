#include <doctest/doctest.h>

#include "server/policy.hpp"

using namespace rsexec::server;

namespace {
asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }
Endpoint at(const char* host, std::uint16_t port) { return {ip(host), port}; }
} // namespace

TEST_CASE("CIDR blocks are parsed and match their hosts") {
    auto loopback = parse_cidr("127.0.0.0/8");
    REQUIRE(loopback);
    CHECK(loopback->contains(ip("127.0.0.3")));
    CHECK(loopback->contains(ip("::ffff:127.1.2.3")));
    CHECK_FALSE(loopback->contains(ip("128.0.0.1")));
    CHECK_FALSE(loopback->contains(ip("::1")));

    auto narrow = parse_cidr("10.1.2.128/25");
    REQUIRE(narrow);
    CHECK(narrow->contains(ip("10.1.2.200")));
    CHECK_FALSE(narrow->contains(ip("10.1.2.127")));

    auto host = parse_cidr("::1");
    REQUIRE(host);
    CHECK(host->prefix_length == 128);
    CHECK(host->contains(ip("::1")));
    CHECK(parse_cidr("0.0.0.0/0")->contains(ip("8.8.8.8")));
}

TEST_CASE("malformed CIDR blocks are errors") {
    for (const char* text : {"", "127.0.0.0/", "127.0.0.0/33", "::/129", "foo/8", "127.0.0.0/8x", "1.2.3/8"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_cidr(text));
    }
}

TEST_CASE("by default only the control connection's host may be a data peer") {
    const PeerPolicy policy;
    CHECK(policy.allows(ip("127.0.0.1"), ip("127.0.0.1")));
    CHECK(policy.allows(ip("127.0.0.1"), ip("::ffff:127.0.0.1")));
    CHECK_FALSE(policy.allows(ip("127.0.0.1"), ip("127.0.0.4")));
}

TEST_CASE("--fxp-peers widens the data peers to named blocks or to any host") {
    auto listed = PeerPolicy::parse("127.0.0.0/8, ::1/128");
    REQUIRE(listed);
    CHECK(listed->allows(ip("127.0.0.1"), ip("127.0.0.4")));
    CHECK(listed->allows(ip("127.0.0.1"), ip("::1")));
    CHECK_FALSE(listed->allows(ip("127.0.0.1"), ip("10.0.0.1")));

    auto any = PeerPolicy::parse("any");
    REQUIRE(any);
    CHECK(any->allows(ip("127.0.0.1"), ip("10.0.0.1")));
    CHECK_FALSE(PeerPolicy::parse("127.0.0.0/8,bogus"));
    CHECK(PeerPolicy::parse("")->peers().empty());
}

TEST_CASE("data targets below port 1024 are always refused") {
    auto any = *PeerPolicy::parse("any");
    CHECK(check_data_target(any, ip("127.0.0.1"), at("127.0.0.1", 21)) == TargetRefusal::privileged_port);
    CHECK(check_data_target(any, ip("127.0.0.1"), at("127.0.0.1", 1023)) == TargetRefusal::privileged_port);
    CHECK(check_data_target(any, ip("127.0.0.1"), at("127.0.0.1", 1024)) == TargetRefusal::none);
    CHECK(check_data_target(PeerPolicy{}, ip("127.0.0.1"), at("127.0.0.9", 5000)) == TargetRefusal::foreign_host);
    // Port 0 (SOCK: "any port of that host") is not a privileged port.
    CHECK(check_data_target(PeerPolicy{}, ip("127.0.0.1"), at("127.0.0.1", 0)) == TargetRefusal::none);
}

TEST_CASE("a pin admits only the named socket, or any port of the host for port 0") {
    const Pin socket{at("127.0.0.2", 50000)};
    CHECK(socket.admits(at("127.0.0.2", 50000)));
    CHECK_FALSE(socket.admits(at("127.0.0.2", 50001)));
    CHECK_FALSE(socket.admits(at("127.0.0.3", 50000)));
    const Pin host{at("127.0.0.2", 0)};
    CHECK(host.admits(at("127.0.0.2", 1234)));
    CHECK(host.admits(at("::ffff:127.0.0.2", 1234)));
    CHECK_FALSE(host.admits(at("127.0.0.3", 1234)));
}

TEST_CASE("endpoints are written with IPv6 in brackets") {
    CHECK(endpoint_text(at("127.0.0.2", 21)) == "127.0.0.2:21");
    CHECK(endpoint_text(at("::1", 21)) == "[::1]:21");
    CHECK(endpoint_text(at("::ffff:127.0.0.2", 21)) == "127.0.0.2:21");
}
