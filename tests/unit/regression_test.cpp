// Regression cases found by the fuzz targets (tests/fuzz) and the hostile-server fixture
// (tests/faults): each input once broke a property those tools check.
#include <doctest/doctest.h>

#include <string>

#include "rsexec/url.hpp"

using namespace rsexec;

TEST_CASE("a URL whose user name holds '/' displays as a URL that parses back to the same parts") {
    // fuzz_url: display() left '/' of the user unescaped, so the user ended the authority.
    const auto url = parse_ftp_url("ftp://a%2Fb:p%40ss@@h/x");
    REQUIRE(url);
    CHECK(url->user == "a/b");
    CHECK(url->host == "h");
    const auto again = parse_ftp_url(url->display());
    REQUIRE(again);
    CHECK(again->user == "a/b");
    CHECK(again->host == "h");
    CHECK(again->port == 21);
    CHECK(again->path == "x");
    CHECK_FALSE(again->password);
}

TEST_CASE("a bad percent escape in the user or password is refused without quoting them") {
    // fuzz_url: the error quoted the undecodable password text.
    for (const char* text : {"ftp://alice:s3cret%zzword@h/f", "ftp://alice:s3cret%0@h/f", "ftp://s3cret%zzword@h/f",
                             "ftp://alice:s3cret%00word@h/f"}) {
        CAPTURE(text);
        const auto url = parse_ftp_url(text);
        REQUIRE_FALSE(url);
        CHECK(url.error().is(Errc::bad_url));
        CHECK(url.error().message.find("s3cret") == std::string::npos);
    }
}
