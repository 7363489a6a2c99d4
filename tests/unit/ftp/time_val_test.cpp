#include <doctest/doctest.h>

#include "ftp/reply_parser.hpp"
#include "ftp/time_val.hpp"

using namespace rsexec;
using namespace std::chrono;

namespace {
Reply parse(std::string_view wire) {
    ReplyParser parser;
    parser.feed(wire);
    REQUIRE(parser.ready());
    return parser.take();
}

sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}
} // namespace

TEST_CASE("a time-val is read as UTC seconds and written back the same") {
    const auto time = parse_time_val("20240102030405");
    REQUIRE(time);
    CHECK(time->seconds == at(2024, 1, 2, 3, 4, 5));
    CHECK(time->nanoseconds == 0);
    CHECK_FALSE(time->leap_second);
    CHECK(format_time_val(time->seconds) == "20240102030405");
    CHECK(format_time_val(sys_seconds{}) == "19700101000000");
    for (const char* text : {"10000101000000", "99991231235959", "20000229120000", "19700101000000",
                             "20380119031408", "21060207062816"}) {
        CAPTURE(text);
        const auto parsed = parse_time_val(text);
        REQUIRE(parsed);
        CHECK(format_time_val(parsed->seconds) == text);
    }
}

TEST_CASE("years before 1970 are times before the epoch; a time-val cannot write years past 9999 or before 1000") {
    const auto moon = parse_time_val("19690720201800");
    REQUIRE(moon);
    CHECK(moon->seconds.time_since_epoch().count() == -14182920);
    CHECK(format_time_val(moon->seconds) == "19690720201800");
    CHECK(parse_time_val("10000101000000"));
    CHECK_FALSE(parse_time_val("09991231235959"));
    CHECK_FALSE(parse_time_val("00000101000000"));
    // Year 10000 needs five digits: fifteen digits are not a time-val.
    CHECK_FALSE(parse_time_val("100000101000000"));
    CHECK_FALSE(format_time_val(at(10000, 1, 1, 0, 0, 0)));
    CHECK_FALSE(format_time_val(at(999, 12, 31, 23, 59, 59)));
    CHECK(format_time_val(at(9999, 12, 31, 23, 59, 59)) == "99991231235959");
}

TEST_CASE("fields out of their ranges are refused, naming the field") {
    struct Case {
        const char* text;
        const char* why;
    };
    for (auto [text, why] : {Case{"20241302030405", "month"}, Case{"20240002030405", "month"},
                             Case{"20240100030405", "day"}, Case{"20240132030405", "day"},
                             Case{"20230229120000", "day"}, Case{"21000229120000", "day"},
                             Case{"20240431120000", "day"}, Case{"20240102240000", "hour"},
                             Case{"20240102236000", "minute"}, Case{"20240102235961", "second"},
                             Case{"20240102235999", "second"}}) {
        CAPTURE(text);
        const auto parsed = parse_time_val(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.find(why) != std::string::npos);
    }
    CHECK(parse_time_val("20000229000000"));  // 2000 is a leap year, 2100 is not
}

TEST_CASE("second 60 is a leap second only at 23:59 on a month's last day, held as :59") {
    const auto june = parse_time_val("20150630235960");
    REQUIRE(june);
    CHECK(june->leap_second);
    CHECK(june->seconds == at(2015, 6, 30, 23, 59, 59));
    CHECK(format_time_val(june->seconds) == "20150630235959");
    const auto december = parse_time_val("20161231235960.5");
    REQUIRE(december);
    CHECK(december->seconds == at(2016, 12, 31, 23, 59, 59));
    CHECK(december->nanoseconds == 500000000);
    for (const char* text : {"20150630235860", "20150630225960", "20150629235960", "20160228235960"}) {
        CAPTURE(text);
        const auto parsed = parse_time_val(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.find("leap second") != std::string::npos);
    }
    CHECK(parse_time_val("20160229235960"));  // the last day of February in a leap year
}

TEST_CASE("a fraction is read to the nanosecond; it needs digits after the dot") {
    struct Case {
        const char* text;
        std::uint32_t nanoseconds;
    };
    for (auto [text, nanoseconds] : {Case{"20240102030405.1", 100000000u}, Case{"20240102030405.123", 123000000u},
                                     Case{"20240102030405.000000001", 1u},
                                     Case{"20240102030405.9999999999999", 999999999u},
                                     Case{"20240102030405.0", 0u}}) {
        CAPTURE(text);
        const auto parsed = parse_time_val(text);
        REQUIRE(parsed);
        CHECK(parsed->nanoseconds == nanoseconds);
        CHECK(parsed->seconds == at(2024, 1, 2, 3, 4, 5));
    }
    for (const char* text : {"20240102030405.", "20240102030405.1a", "20240102030405..1", "20240102030405.-1",
                             "20240102030405.1 "}) {
        CAPTURE(text);
        CHECK_FALSE(parse_time_val(text));
    }
}

TEST_CASE("garbage is not a time-val") {
    for (const char* text : {"", "2024", "2024010203040", "202401020304056", "2024-01-02T03:04:05Z",
                             " 20240102030405", "20240102030405 ", "+0240102030405", "2024010203040x",
                             "-20240102030405", "\x32\x30\x32\x34\x30\x31\x30\x32\x30\x33\x30\x34\x30\xb5",
                             "99999999999999", "00000000000000", ".123"}) {
        CAPTURE(text);
        const auto parsed = parse_time_val(text);
        REQUIRE_FALSE(parsed);
        CHECK(parsed.error().message.find("not a time-val") != std::string::npos);
    }
    // An error quotes at most 40 bytes of what it was given.
    const auto long_text = parse_time_val(std::string(10000, '7'));
    REQUIRE_FALSE(long_text);
    CHECK(long_text.error().message.size() < 160);
}

TEST_CASE("MDTM's 213 reply gives the file's time; other replies are errors") {
    const auto time = time_from_mdtm_reply(parse("213 20240102030405\r\n"));
    REQUIRE(time);
    CHECK(time->seconds == at(2024, 1, 2, 3, 4, 5));
    const auto fractional = time_from_mdtm_reply(parse("213 19990102030405.25\r\n"));
    REQUIRE(fractional);
    CHECK(fractional->nanoseconds == 250000000);
    const auto refused = time_from_mdtm_reply(parse("550 No such file\r\n"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().reply_code == 550);
    // The year 19100 of old clients' Y2K bug, and text that is no time.
    CHECK_FALSE(time_from_mdtm_reply(parse("213 191000102030405\r\n")));
    CHECK_FALSE(time_from_mdtm_reply(parse("213 File modification time\r\n")));
}

TEST_CASE("MFMT's argument is a time-val, one space, and a path that may hold spaces") {
    const auto argument = parse_mfmt_argument("20240102030405 dir/a name.txt");
    REQUIRE(argument);
    CHECK(argument->time.seconds == at(2024, 1, 2, 3, 4, 5));
    CHECK(argument->path == "dir/a name.txt");
    const auto leading = parse_mfmt_argument("20240102030405.5  spaced");
    REQUIRE(leading);
    CHECK(leading->path == " spaced");
    CHECK(leading->time.nanoseconds == 500000000);
    for (const char* text : {"", "20240102030405", "20240102030405 ", "file.txt", "file.txt 20240102030405",
                             "20241302030405 file.txt", "2024-01-02 file.txt"}) {
        CAPTURE(text);
        CHECK_FALSE(parse_mfmt_argument(text));
    }
}

TEST_CASE("MFMT's 213 reply names the time the server set") {
    const auto time = time_from_mfmt_reply(parse("213 Modify=20240102030405; dir/a name.txt\r\n"));
    REQUIRE(time);
    CHECK(time->seconds == at(2024, 1, 2, 3, 4, 5));
    CHECK(time_from_mfmt_reply(parse("213 modify=20240102030405; x\r\n")));
    CHECK_FALSE(time_from_mfmt_reply(parse("213 20240102030405\r\n")));
    CHECK_FALSE(time_from_mfmt_reply(parse("213 Modify=2024; x\r\n")));
    const auto refused = time_from_mfmt_reply(parse("550 Permission denied\r\n"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().reply_code == 550);
}

TEST_CASE("MFMT's argument is written in whole seconds and read back the same") {
    const auto time = parse_time_val("20161231235960.75");
    REQUIRE(time);
    const auto argument = format_mfmt_argument(*time, "dir/a name.txt");
    REQUIRE(argument);
    CHECK(*argument == "20161231235959 dir/a name.txt");
    const auto again = parse_mfmt_argument(*argument);
    REQUIRE(again);
    CHECK(again->time.seconds == time->seconds);
    CHECK(again->path == "dir/a name.txt");
    CHECK_FALSE(format_mfmt_argument(TimeVal{at(10000, 1, 1, 0, 0, 0), 0, false}, "x"));
}
