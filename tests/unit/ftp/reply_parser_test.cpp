#include <doctest/doctest.h>

#include <string>

#include "ftp/reply_parser.hpp"

using namespace rsexec;

namespace {

// Feeds `wire` in chunks of `chunk` bytes and returns the first reply (or the parser's error).
struct Outcome {
    bool ok = false;
    Reply reply;
    Errc error{};
    std::size_t consumed = 0;
};

Outcome parse_in_chunks(const std::string& wire, std::size_t chunk, ReplyLimits limits = {}) {
    ReplyParser parser(limits);
    Outcome out;
    std::size_t pos = 0;
    while (pos < wire.size()) {
        const auto piece = std::string_view(wire).substr(pos, chunk);
        const auto used = parser.feed(piece);
        pos += used;
        if (parser.failed()) {
            out.error = static_cast<Errc>(parser.error().code.value());
            out.consumed = pos;
            return out;
        }
        if (parser.ready()) {
            out.ok = true;
            out.reply = parser.take();
            out.consumed = pos;
            return out;
        }
        if (used < piece.size()) break;
    }
    out.consumed = pos;
    return out;
}

// Every split point gives the same result (as Beast's parser tests do).
void check_all_splits(const std::string& wire, int code, std::size_t lines) {
    for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
        CAPTURE(chunk);
        const auto out = parse_in_chunks(wire, chunk);
        REQUIRE(out.ok);
        CHECK(out.reply.code == code);
        CHECK(out.reply.lines.size() == lines);
    }
}

} // namespace

TEST_CASE("a single-line reply is parsed with its code and text") {
    const auto out = parse_in_chunks("220 Service ready\r\n", 100);
    REQUIRE(out.ok);
    CHECK(out.reply.code == 220);
    CHECK(out.reply.message() == "Service ready");
    CHECK(out.reply.completion());
}

TEST_CASE("a reply fed one byte at a time equals the reply fed whole") {
    check_all_splits("226 Transfer complete\r\n", 226, 1);
    check_all_splits("211-Features:\r\n MDTM\r\n SIZE\r\n211 End\r\n", 211, 4);
}

TEST_CASE("a multi-line reply ends only on its own code followed by a space") {
    const std::string wire = "250-First line\r\n"
                             "123 a line starting with other digits\r\n"
                             "250-still going\r\n"
                             "250\r\n"
                             "   250 indented is not the end\r\n"
                             "250 End\r\n";
    check_all_splits(wire, 250, 6);
    const auto out = parse_in_chunks(wire, 7);
    CHECK(out.reply.message() == "End");
}

TEST_CASE("bare LF line endings are accepted") {
    const auto out = parse_in_chunks("211-a\n x\n211 b\n", 3);
    REQUIRE(out.ok);
    CHECK(out.reply.lines.size() == 3);
    CHECK(out.reply.lines[1] == " x");
}

TEST_CASE("a bare three-digit line is a complete reply") {
    const auto out = parse_in_chunks("200\r\n", 1);
    REQUIRE(out.ok);
    CHECK(out.reply.code == 200);
}

TEST_CASE("the parser stops at the end of a reply and leaves the next one") {
    const std::string wire = "150 Opening\r\n226 Done\r\n";
    ReplyParser parser;
    const auto used = parser.feed(wire);
    REQUIRE(parser.ready());
    CHECK(used == 13);
    CHECK(parser.take().code == 150);
    parser.feed(std::string_view(wire).substr(used));
    REQUIRE(parser.ready());
    CHECK(parser.take().code == 226);
}

TEST_CASE("RFC 438's 255 reply parses like any other") {
    const auto out = parse_in_chunks("255 SOCK 127,0,0,1,195,80\r\n", 2);
    REQUIRE(out.ok);
    CHECK(out.reply.code == 255);
}

TEST_CASE("malformed first lines are errors") {
    const char* cases[] = {
        "hello\r\n", "22 short\r\n", "2200 four digits\r\n", "220x\r\n", "abc def\r\n",
        "600 out of range\r\n", "020 leading zero class\r\n", "\r\n", " 220 leading space\r\n",
    };
    for (const char* wire : cases) {
        CAPTURE(wire);
        const auto out = parse_in_chunks(wire, 1);
        CHECK_FALSE(out.ok);
        CHECK(out.error == Errc::malformed_reply);
    }
}

TEST_CASE("an over-long line is refused without buffering it all") {
    ReplyLimits limits;
    const std::string wire = "220 " + std::string(100 * 1024, 'x') + "\r\n";
    const auto out = parse_in_chunks(wire, 4096, limits);
    CHECK_FALSE(out.ok);
    CHECK(out.error == Errc::reply_too_large);
    CHECK(out.consumed <= limits.max_line + 4096);
}

TEST_CASE("a multi-line reply that never ends hits the line bound") {
    std::string wire = "211-start\r\n";
    for (int i = 0; i < 2000; ++i) wire += " more\r\n";
    const auto out = parse_in_chunks(wire, 512);
    CHECK_FALSE(out.ok);
    CHECK(out.error == Errc::reply_too_large);
}

TEST_CASE("a reply over the byte bound is refused") {
    ReplyLimits limits;
    limits.max_bytes = 1000;
    std::string wire = "211-start\r\n";
    for (int i = 0; i < 50; ++i) wire += " a line of some length here\r\n";
    const auto out = parse_in_chunks(wire, 64, limits);
    CHECK_FALSE(out.ok);
    CHECK(out.error == Errc::reply_too_large);
    CHECK(out.consumed <= 1001);
}

TEST_CASE("an incomplete reply is neither ready nor failed") {
    ReplyParser parser;
    CHECK(parser.feed("226 Transfer comp") == 17);
    CHECK_FALSE(parser.ready());
    CHECK_FALSE(parser.failed());
}

TEST_CASE("reply classes follow the first digit") {
    Reply r;
    r.code = 150;
    CHECK(r.preliminary());
    r.code = 331;
    CHECK(r.intermediate());
    r.code = 421;
    CHECK(r.transient_negative());
    r.code = 550;
    CHECK(r.permanent_negative());
}
