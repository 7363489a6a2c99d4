#include <doctest/doctest.h>

#include "ftp/address.hpp"

using namespace rsexec;

namespace {
HostPort at(const char* host, std::uint16_t port) { return {*IpAddress::parse(host), port}; }
} // namespace

TEST_CASE("227 replies are parsed in the forms servers really send") {
    const char* cases[] = {
        "227 Entering Passive Mode (127,0,0,2,195,80).",
        "227 Entering Passive Mode (127,0,0,2,195,80)",
        "227 Entering Passive Mode 127,0,0,2,195,80",
        "227 =127,0,0,2,195,80",
        "227 Entering passive mode (127,0,0,2,195,80) - ok",
        "Entering Passive Mode (127,0,0,2,195,80)",
    };
    for (const char* text : cases) {
        CAPTURE(text);
        const auto endpoint = parse_pasv_reply(text);
        REQUIRE(endpoint);
        CHECK(*endpoint == at("127.0.0.2", 195 * 256 + 80));
    }
}

TEST_CASE("hostile or broken 227 replies are errors") {
    const char* cases[] = {
        "227 Entering Passive Mode",
        "227 Entering Passive Mode (127,0,0,1,195)",
        "227 Entering Passive Mode (256,0,0,1,1,1)",
        "227 Entering Passive Mode (127,0,0,1,300,1)",
        "227 Entering Passive Mode (127,0,0,1,0,0)",
        "227 (1,2,3,4,5,6,7)",
        "227 (99999999999999999999,0,0,1,1,1)",
        "",
    };
    for (const char* text : cases) {
        CAPTURE(text);
        const auto endpoint = parse_pasv_reply(text);
        CHECK_FALSE(endpoint);
        if (!endpoint) CHECK(endpoint.error().is(Errc::bad_address));
    }
}

TEST_CASE("229 replies give the port") {
    CHECK(*parse_epsv_reply("229 Entering Extended Passive Mode (|||6446|)") == 6446);
    CHECK(*parse_epsv_reply("229 Extended (!!!1!) ok") == 1);
    CHECK(*parse_epsv_reply("229 (x) then (|||65535|)") == 65535);
}

TEST_CASE("broken 229 replies are errors") {
    const char* cases[] = {
        "229 Entering Extended Passive Mode", "229 (|||0|)", "229 (|||65536|)", "229 (||6446|)",
        "229 (|||6446)", "229 (|||abc|)", "229 (|||6446|", "229 (|1|2|3|)",
    };
    for (const char* text : cases) {
        CAPTURE(text);
        CHECK_FALSE(parse_epsv_reply(text));
    }
}

TEST_CASE("PORT arguments round-trip") {
    const auto endpoint = at("10.1.2.3", 1025);
    const auto text = format_port_argument(endpoint);
    REQUIRE(text);
    CHECK(*text == "10,1,2,3,4,1");
    CHECK(*parse_port_argument(*text) == endpoint);
}

TEST_CASE("PORT arguments are checked strictly") {
    const char* cases[] = {"1,2,3,4,5", "1,2,3,4,5,6,7", "1,2,3,4,5,256", "a,b,c,d,e,f", "1,2,3,4,0,0",
                           " 1,2,3,4,5,6", "1,2,3,4,5,6 ", "1,,3,4,5,6", ""};
    for (const char* text : cases) {
        CAPTURE(text);
        CHECK_FALSE(parse_port_argument(text));
    }
}

TEST_CASE("PORT cannot carry IPv6 but maps IPv4-mapped addresses back") {
    CHECK_FALSE(format_port_argument(at("::1", 2000)));
    const auto mapped = at("::ffff:127.0.0.3", 2000);
    CHECK(*format_port_argument(mapped) == "127,0,0,3,7,208");
}

TEST_CASE("EPRT arguments round-trip for both families") {
    const auto a = at("132.235.1.2", 6275);
    CHECK(format_eprt_argument(a) == "|1|132.235.1.2|6275|");
    CHECK(*parse_eprt_argument("|1|132.235.1.2|6275|") == a);
    const HostPort b = at("1080::8:800:200C:417A", 5282);
    CHECK(format_eprt_argument(b) == "|2|1080::8:800:200c:417a|5282|");
    CHECK(*parse_eprt_argument("|2|1080::8:800:200C:417A|5282|") == b);
    CHECK(*parse_eprt_argument("!1!10.0.0.1!80!") == at("10.0.0.1", 80));
}

TEST_CASE("bad EPRT arguments are errors") {
    const char* cases[] = {"|1|::1|2000|", "|2|10.0.0.1|2000|", "|3|10.0.0.1|2000|", "|1|10.0.0.1|0|",
                           "|1|10.0.0.1|70000|", "|1|10.0.0.1|2000", "|1|10.0.0.1||", "|1|host.name|21|",
                           "|1|10.0.0.1|20|00|", "", "||||"};
    for (const char* text : cases) {
        CAPTURE(text);
        CHECK_FALSE(parse_eprt_argument(text));
    }
}

TEST_CASE("SOCK uses the PORT form for IPv4 and the EPRT form for IPv6") {
    CHECK(format_sock_argument(at("127.0.0.1", 50000)) == "127,0,0,1,195,80");
    CHECK(format_sock_argument(at("::1", 50000)) == "|2|::1|50000|");
    CHECK(*parse_sock_argument("127,0,0,1,195,80") == at("127.0.0.1", 50000));
    CHECK(*parse_sock_argument("|2|::1|50000|") == at("::1", 50000));
}

TEST_CASE("SOCK port 0 means any port of that host") {
    const auto any = parse_sock_argument("127,0,0,5,0,0");
    REQUIRE(any);
    CHECK(any->port == 0);
    CHECK(parse_sock_argument("|1|127.0.0.5|0|"));
}

TEST_CASE("255 replies name the data socket") {
    CHECK(*parse_sock_reply("255 SOCK 127,0,0,2,195,80") == at("127.0.0.2", 50000));
    CHECK(*parse_sock_reply("255 SOCK |2|::1|4000|") == at("::1", 4000));
    CHECK(*parse_sock_reply("255 SOCK 127,0,0,2,195,80 listening") == at("127.0.0.2", 50000));
    CHECK_FALSE(parse_sock_reply("255 127,0,0,2,195,80"));
    CHECK_FALSE(parse_sock_reply("255 SOCK 127,0,0,2,0,0"));
    CHECK_FALSE(parse_sock_reply("255 SOCK"));
    CHECK_FALSE(parse_sock_reply("255 SOCKET 1,2,3,4,5,6"));
}

TEST_CASE("server reply texts carry the socket in the standard forms") {
    CHECK(format_pasv_reply_text(at("127.0.0.2", 50000)) == "Entering Passive Mode (127,0,0,2,195,80)");
    CHECK(format_epsv_reply_text(6446) == "Entering Extended Passive Mode (|||6446|)");
    CHECK(*parse_pasv_reply(format_pasv_reply_text(at("1.2.3.4", 1234))) == at("1.2.3.4", 1234));
}

TEST_CASE("an IP address is read and written as numeric text only") {
    CHECK(IpAddress::parse("192.0.2.1")->is_v4());
    CHECK(IpAddress::parse("192.0.2.1")->to_string() == "192.0.2.1");
    CHECK(IpAddress::parse("2001:DB8::1")->is_v6());
    CHECK(IpAddress::parse("2001:DB8::1")->to_string() == "2001:db8::1");
    CHECK(IpAddress::parse("::ffff:127.0.0.3")->to_string() == "::ffff:127.0.0.3");
    CHECK(IpAddress::parse("::ffff:127.0.0.3")->plain() == *IpAddress::parse("127.0.0.3"));
    CHECK(IpAddress::parse("::1")->plain() == *IpAddress::parse("::1"));
    CHECK(IpAddress() == *IpAddress::parse("0.0.0.0"));
    for (const char* text : {"", "localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "fe80::1%eth0", "1::2::3", " 1.2.3.4"})
        CHECK_MESSAGE(!IpAddress::parse(text), text);
}
