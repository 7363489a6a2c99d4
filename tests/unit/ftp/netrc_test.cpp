#include <doctest/doctest.h>

#include "ftp/netrc.hpp"

using namespace rsexec;

TEST_CASE("netrc entries are found by host, with default as the fallback") {
    const auto netrc = Netrc::parse("machine a.example login alice password pw1\n"
                                    "machine b.example\n  login bob\n  password \"two words\"\n"
                                    "default login anon password guest\n");
    REQUIRE(netrc);
    CHECK(netrc->find("a.example")->login == "alice");
    CHECK(netrc->find("b.example")->password == "two words");
    CHECK(netrc->find("c.example")->login == "anon");
}

TEST_CASE("netrc macro bodies are skipped") {
    const auto netrc = Netrc::parse("macdef init\ncd /pub\nls\n\nmachine h login u password p\n");
    REQUIRE(netrc);
    CHECK(netrc->find("h")->login == "u");
}

TEST_CASE("broken netrc files are errors") {
    CHECK_FALSE(Netrc::parse("machine"));
    CHECK_FALSE(Netrc::parse("login alice"));
    CHECK_FALSE(Netrc::parse("machine h frobnicate x"));
}

TEST_CASE("credentials come from the URL, then netrc, then anonymous") {
    const auto netrc = Netrc::parse("machine h login alice password fromnetrc\n");
    REQUIRE(netrc);
    const auto with_user = parse_ftp_url("ftp://bob:urlpw@h/x");
    CHECK(credentials_for(*with_user, &*netrc).password == "urlpw");
    const auto user_only = parse_ftp_url("ftp://alice@h/x");
    CHECK(credentials_for(*user_only, &*netrc).password == "fromnetrc");
    const auto bare = parse_ftp_url("ftp://h/x");
    CHECK(credentials_for(*bare, &*netrc).user == "alice");
    const auto other = parse_ftp_url("ftp://elsewhere/x");
    CHECK(credentials_for(*other, &*netrc).user == "anonymous");
    CHECK(credentials_for(*other, nullptr).user == "anonymous");
}
