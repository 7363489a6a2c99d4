#include <doctest/doctest.h>

#include "ftp/features.hpp"
#include "ftp/reply_parser.hpp"

using namespace rsexec;

namespace {
Reply parse(std::string_view wire) {
    ReplyParser parser;
    parser.feed(wire);
    REQUIRE(parser.ready());
    return parser.take();
}
} // namespace

TEST_CASE("FEAT lines become a case-insensitive feature set with parameters") {
    const auto features = Features::from_reply(parse("211-Features:\r\n"
                                                     " MDTM\r\n"
                                                     " mlst type*;size*;modify*;\r\n"
                                                     " HASH SHA-256*;SHA-1\r\n"
                                                     " LSTN\r\n"
                                                     "211 End\r\n"));
    CHECK(features.size() == 4);
    CHECK(features.has("MDTM"));
    CHECK(features.has("lstn"));
    CHECK(features.has("MLST"));
    CHECK(*features.parameters("HASH") == "SHA-256*;SHA-1");
    CHECK_FALSE(features.has("EPSV"));
    CHECK_FALSE(features.parameters("EPSV"));
}

TEST_CASE("a refused FEAT means no features") {
    CHECK(Features::from_reply(parse("502 Command not implemented\r\n")).size() == 0);
    CHECK(Features::from_reply(parse("211 No features\r\n")).size() == 0);
}

TEST_CASE("lines without the leading space are not features") {
    const auto features = Features::from_reply(parse("211-Features:\r\nSIZE\r\n EPSV\r\n211 End\r\n"));
    CHECK(features.size() == 1);
    CHECK(features.has("EPSV"));
}
