#include <doctest/doctest.h>

#include <string>

#include "server/account.hpp"
#include "server/users_file.hpp"

using namespace rsexec::server;

namespace {
// Made with `openssl passwd -6 -salt saltsaltsaltsalt pw`, `openssl passwd -5 -salt saltsalt pw`
// and crypt(3) of "pw" with the settings "$6$rounds=1000$abc$" and "$y$j9T$abcdefghijklmnop$".
const std::string sha512 =
    "$6$saltsaltsaltsalt$.NRdXhGF7aIqFA0V3MOlnN0T8ecsXGrF.lehfnGm0TwFsNB8VWqs56ykUfVXu8cUgatHwmmkJO5fbOI6RoZAN0";
const std::string sha256 = "$5$saltsalt$0rl.MZtoLLPP3X0Rdl8riRnphIcAXJY27/aOAyK2hB5";
const std::string sha512_rounds = "$6$rounds=1000$abc$yxe0KSjmoHd8rpohJgwvF5lnIQ/9t.klcz24a1cca3nWm.PLUmhXgcGgKWCoRFHRHYxXj4SVEtjCnCAwaFY0V0";
const std::string yescrypt = "$y$j9T$abcdefghijklmnop$wRwvHNqzMkHLG74uLLCRVTwaZ.a1aIothEUeYGf9oED";
} // namespace

TEST_CASE("a users file gives one account per NAME:HASH line, skipping comments and blank lines") {
    const std::string text = "# rsexecd logins\n\nalice:" + sha512 + "\r\n  bob:" + sha256 + "  \n\t# indented comment\n" +
        "carol:" + sha512_rounds + "\ndave:" + yescrypt;
    const auto contents = parse_users_file(text);
    CHECK(contents.errors.empty());
    REQUIRE(contents.entries.size() == 4);
    CHECK(contents.entries[0].name == "alice");
    CHECK(contents.entries[0].hash == sha512);
    CHECK(contents.entries[0].line == 3);
    CHECK(contents.entries[1].name == "bob");
    CHECK(contents.entries[1].hash == sha256);
    CHECK(contents.entries[1].line == 4);
    CHECK(contents.entries[2].hash == sha512_rounds);
    CHECK(contents.entries[3].name == "dave");
    CHECK(contents.entries[3].line == 7);
}

TEST_CASE("an empty users file or one of comments only has no entries and no errors") {
    for (const char* text : {"", "\n\n", "# nothing\n   \n#x:y\n"}) {
        CAPTURE(text);
        const auto contents = parse_users_file(text);
        CHECK(contents.entries.empty());
        CHECK(contents.errors.empty());
    }
}

TEST_CASE("malformed and hostile lines are errors that name the line and never quote the password") {
    struct Case {
        std::string line;
        std::string says;
    };
    const Case cases[] = {
        {"alice:secret", "plain text"},
        {"alice:s3cret-pass", "plain text"},
        {"alice:abJnggxhB/yWI", "plain text"},          // a DES crypt: indistinguishable from a password
        {"alice:", "no hash"},
        {"alice", "no ':'"},
        {":" + sha512, "name"},
        {"al ice:" + sha512, "name"},
        {"al\x01ice:" + sha512, "name"},
        {"\xc3\xa9lise:" + sha512, "name"},
        {std::string(300, 'a') + ":" + sha512, "name"},
        {"alice:$1$abc$Kb85XxsXB.VXinPhbS4431", "MD5"},
        {"alice:$2b$10$abcdefghijklmnopqrstuu5Sx3sSVB0gm1yZ6Qm2Nc3xsQ9x1ZYUK", "unsupported"},
        {"alice:$6$", "form"},
        {"alice:$6$salt", "form"},
        {"alice:$6$salt$short", "digest"},
        {"alice:" + sha512 + "x", "digest"},
        {"alice:" + sha512 + ":extra", "digest"},
        {"alice:$6$sa lt$" + std::string(86, 'a'), "salt"},
        {"alice:$6$" + std::string(17, 's') + "$" + std::string(86, 'a'), "salt"},
        {"alice:$6$rounds=x$salt$" + std::string(86, 'a'), "rounds"},
        {"alice:$6$rounds=$salt$" + std::string(86, 'a'), "rounds"},
        {"alice:$5$salt$" + std::string(86, 'a'), "digest"},
        {"alice:$y$j9T$salt$short", "digest"},
        {"alice:$y$$salt$" + std::string(43, 'a'), "parameters"},
        {"alice:$y$j9T$" + std::string(43, 'a'), "form"},
        {"alice:*", "plain text"},
        {"alice:!" + sha512, "plain text"},
        {std::string("alice:$6$salt\0x$", 16) + std::string(86, 'a'), "NUL"},
    };
    for (const auto& c : cases) {
        const std::string text = "# header\nok:" + sha512 + "\n" + c.line + "\n";
        CAPTURE(c.line);
        const auto contents = parse_users_file(text);
        REQUIRE(contents.errors.size() == 1);
        CHECK(contents.errors[0].line == 3);
        CHECK(contents.errors[0].message.find(c.says) != std::string::npos);
        CHECK(contents.errors[0].message.find("secret") == std::string::npos);
        CHECK(contents.errors[0].message.find("s3cret") == std::string::npos);
        REQUIRE(contents.entries.size() == 1);
        CHECK(contents.entries[0].name == "ok");
    }
}

TEST_CASE("a name given twice is an error on its second line") {
    const auto contents = parse_users_file("alice:" + sha512 + "\nbob:" + sha256 + "\nalice:" + sha256 + "\n");
    REQUIRE(contents.errors.size() == 1);
    CHECK(contents.errors[0].line == 3);
    CHECK(contents.errors[0].message.find("line 1") != std::string::npos);
}

TEST_CASE("every bad line is reported, not only the first") {
    const auto contents = parse_users_file("a:plain\nb\n\nc:" + sha512 + "\n:x\n");
    REQUIRE(contents.errors.size() == 3);
    CHECK(contents.errors[0].line == 1);
    CHECK(contents.errors[1].line == 2);
    CHECK(contents.errors[2].line == 5);
    CHECK(contents.entries.size() == 1);
}

TEST_CASE("a crypt hash accepts its own password and nothing else") {
    for (const auto& hash : {sha512, sha256, sha512_rounds, yescrypt}) {
        CAPTURE(hash);
        REQUIRE(crypt_method_available(hash));
        CHECK(matches_crypt_hash("pw", hash));
        CHECK_FALSE(matches_crypt_hash("pW", hash));
        CHECK_FALSE(matches_crypt_hash("", hash));
        CHECK_FALSE(matches_crypt_hash("pw ", hash));
        CHECK_FALSE(matches_crypt_hash(std::string("pw\0tail", 7), hash));
    }
    CHECK_FALSE(matches_crypt_hash("pw", "$6$broken"));
    CHECK_FALSE(matches_crypt_hash("pw", ""));
}

TEST_CASE("a login is checked against hashed and plain accounts by name") {
    const std::vector<Account> accounts{{"alice", {}, sha512}, {"bob", "plain-pw", {}}, {"carol", {}, yescrypt}};
    CHECK(check_login(accounts, "alice", "pw"));
    CHECK_FALSE(check_login(accounts, "alice", "plain-pw"));
    CHECK(check_login(accounts, "bob", "plain-pw"));
    CHECK_FALSE(check_login(accounts, "bob", "pw"));
    CHECK_FALSE(check_login(accounts, "bob", ""));
    CHECK(check_login(accounts, "carol", "pw"));
    CHECK_FALSE(check_login(accounts, "mallory", "pw"));
    CHECK_FALSE(check_login(accounts, "ALICE", "pw"));
    CHECK_FALSE(check_login({}, "alice", "pw"));
}
