#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config_file.hpp"

using namespace rsexec::rsexecd;

namespace {

const std::vector<OptionSpec> specs{
    {"root", true, false}, {"port", true, false}, {"user", true, true}, {"implicit-tls", false, false},
    {"fxp-peers", true, false}, {"quiet", false, false}};

std::vector<std::string> tokens(const ConfigFile& file) {
    std::vector<std::string> result;
    for (const auto& option : file.options) result.push_back(option.token);
    return result;
}

} // namespace

TEST_CASE("a config file's lines become the long options' tokens") {
    struct Case {
        const char* text;
        std::vector<std::string> expected;
    };
    const Case cases[] = {
        {"", {}},
        {"\n\n   \n", {}},
        {"# a comment\n   # an indented one\n", {}},
        {"root = /srv/ftp", {"--root=/srv/ftp"}},
        {"root=/srv/ftp\n", {"--root=/srv/ftp"}},
        {"root /srv/ftp\r\n", {"--root=/srv/ftp"}},
        {"  port\t=\t21  \n", {"--port=21"}},
        {"root = \"/srv/with two  spaces \"", {"--root=/srv/with two  spaces "}},
        {"user = alice:pa ss#word", {"--user=alice:pa ss#word"}},
        {"user = a:1\nuser b:2\n", {"--user=a:1", "--user=b:2"}},
        {"implicit-tls", {"--implicit-tls"}},
        {"implicit-tls = true", {"--implicit-tls"}},
        {"implicit-tls = yes", {"--implicit-tls"}},
        {"implicit-tls = false", {}},
        {"implicit-tls no", {}},
        {"fxp-peers = 127.0.0.0/8,::1/128", {"--fxp-peers=127.0.0.0/8,::1/128"}},
        {"root = /a\n# port = 1\nport = 2\nquiet\n", {"--root=/a", "--port=2", "--quiet"}},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        const auto file = parse_config_file(c.text, specs);
        CHECK(file.errors.empty());
        CHECK(tokens(file) == c.expected);
    }
}

TEST_CASE("every bad line of a config file is an error with its line number") {
    struct Case {
        const char* text;
        std::size_t line;
        const char* message_part;
    };
    const Case cases[] = {
        {"bogus = 1", 1, "unknown key 'bogus'"},
        {"\n\nroot", 3, "'root' needs a value"},
        {"root = /a\nroot = /b", 2, "already set on line 1"},
        {"implicit-tls = maybe", 1, "is a flag"},
        {"implicit-tls\nimplicit-tls = false", 2, "already set on line 1"},
        {"config = /etc/other.conf", 1, "command line only"},
        {"help", 1, "command line only"},
        {"version", 1, "command line only"},
        {"--root = /a", 1, "without '--'"},
        {"- = /a", 1, "without '--'"},
        {"= /a", 1, "expected 'key = value'"},
        {"ro!ot = /a", 1, "expected 'key = value'"},
        {"p", 1, "unknown key 'p'"},
    };
    for (const auto& c : cases) {
        const std::string text = c.text;
        CAPTURE(text);
        const auto file = parse_config_file(c.text, specs);
        REQUIRE(file.errors.size() == 1);
        CHECK(file.errors[0].line == c.line);
        CHECK(file.errors[0].message.find(c.message_part) != std::string::npos);
    }
}

TEST_CASE("a config file reports all its bad lines, not only the first") {
    const auto file = parse_config_file("bogus = 1\nroot = /a\nport\nother\n", specs);
    REQUIRE(file.errors.size() == 3);
    CHECK(file.errors[0].line == 1);
    CHECK(file.errors[1].line == 3);
    CHECK(file.errors[2].line == 4);
}

TEST_CASE("the keys come from the cxxopts definitions, flags and lists told apart") {
    cxxopts::Options options("rsexecd", "");
    options.add_options()("root", "", cxxopts::value<std::string>())("q,quiet", "")(
        "user", "", cxxopts::value<std::vector<std::string>>());
    options.add_options("Other group")("max-sessions", "", cxxopts::value<std::size_t>()->default_value("1"));
    const auto found = option_specs(options);
    const auto find = [&](const std::string& name) {
        for (const auto& spec : found)
            if (spec.name == name) return spec;
        FAIL("no key " << name);
        return OptionSpec{};
    };
    CHECK(find("root").takes_value);
    CHECK_FALSE(find("root").repeatable);
    CHECK_FALSE(find("quiet").takes_value);
    CHECK(find("user").repeatable);
    CHECK(find("max-sessions").takes_value);
    for (const auto& spec : found) CHECK(spec.name != "q");
}

TEST_CASE("options on the command line replace the config file's, a list option's every line included") {
    const auto file = parse_config_file("root = /a\nuser = a:1\nuser = b:2\nport = 21\n", specs);
    CHECK(tokens_not_overridden(file, {}) == std::vector<std::string>{"--root=/a", "--user=a:1", "--user=b:2", "--port=21"});
    CHECK(tokens_not_overridden(file, {"user", "port"}) == std::vector<std::string>{"--root=/a"});
}
