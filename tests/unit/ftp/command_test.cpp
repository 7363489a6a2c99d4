#include <doctest/doctest.h>

#include "ftp/command.hpp"

using namespace rsexec;

TEST_CASE("a command is the verb, a space, the argument and CRLF") {
    CHECK(*format_command("RETR", "file.txt") == "RETR file.txt\r\n");
    CHECK(*format_command("PASV") == "PASV\r\n");
    CHECK(*format_command("STOR", "name with spaces") == "STOR name with spaces\r\n");
}

TEST_CASE("arguments holding CR, LF or NUL are refused, never sent") {
    for (std::string_view arg : {std::string_view("a\r\nDELE b"), std::string_view("x\ny"),
                                 std::string_view("x\ry"), std::string_view("x\0y", 3)}) {
        const auto line = format_command("RETR", arg);
        REQUIRE_FALSE(line);
        CHECK(line.error().is(Errc::bad_command));
    }
}

TEST_CASE("verbs must be short runs of letters and digits") {
    CHECK_FALSE(format_command(""));
    CHECK_FALSE(format_command("RE TR"));
    CHECK_FALSE(format_command("RETR\r\n"));
    CHECK_FALSE(format_command("TOOLONGVERB"));
    CHECK(*format_command("XSHA256", "f") == "XSHA256 f\r\n");
    CHECK_FALSE(format_command("1ABC"));
    CHECK(format_command("LSTN", "R"));
}

TEST_CASE("passwords never reach a log line") {
    CHECK(loggable_command("PASS secret\r\n") == "PASS ****");
    CHECK(loggable_command("pass secret") == "pass ****");
    CHECK(loggable_command("ACCT secret") == "ACCT ****");
    CHECK(loggable_command("USER alice\r\n") == "USER alice");
    CHECK(loggable_command("PASSIVE x") == "PASSIVE x");
}
