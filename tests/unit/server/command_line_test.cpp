#include <doctest/doctest.h>

#include <vector>

#include "server/command_line.hpp"

using namespace rsexec::server;

TEST_CASE("command lines end at CRLF or a lone LF, in chunks of any size") {
    const std::string input = "USER a\r\nPASS b\nNOOP\r\n";
    for (std::size_t split = 0; split <= input.size(); ++split) {
        CAPTURE(split);
        CommandFramer framer;
        std::vector<std::string> lines;
        framer.feed(std::string_view(input).substr(0, split));
        while (auto line = framer.next()) lines.push_back(line->text);
        framer.feed(std::string_view(input).substr(split));
        while (auto line = framer.next()) lines.push_back(line->text);
        CHECK(lines == std::vector<std::string>{"USER a", "PASS b", "NOOP"});
    }
}

TEST_CASE("an over-long line is reported once and dropped, and the next line is read") {
    CommandFramer framer(16);
    framer.feed(std::string(100, 'x'));
    auto first = framer.next();
    REQUIRE(first);
    CHECK(first->too_long);
    CHECK_FALSE(framer.next());
    framer.feed(std::string(100, 'y') + "\r\nNOOP\r\n");
    auto second = framer.next();
    REQUIRE(second);
    CHECK_FALSE(second->too_long);
    CHECK(second->text == "NOOP");
}

TEST_CASE("a long line that arrives whole is dropped too") {
    CommandFramer framer(16);
    framer.feed(std::string(40, 'x') + "\nQUIT\n");
    auto first = framer.next();
    REQUIRE(first);
    CHECK(first->too_long);
    CHECK(framer.next()->text == "QUIT");
}

TEST_CASE("Telnet commands before ABOR are removed") {
    CHECK(strip_telnet("\xff\xf4\xff\xf2" "ABOR") == "ABOR");
    CHECK(strip_telnet("a\xff\xff" "b") == "a\xff" "b");
    CHECK(strip_telnet("\xff\xfb\x01QUIT") == "QUIT");
    CHECK(strip_telnet("plain") == "plain");
}

TEST_CASE("a bare CR or NUL inside a line is removed, so no reply echoing it can be split") {
    // Found by fuzz_command_line.
    CommandFramer framer;
    framer.feed(std::string_view("RETR a\rDELE b\0c\r\n", 18));
    const auto line = framer.next();
    REQUIRE(line);
    CHECK(line->text == "RETR aDELE bc");
}
