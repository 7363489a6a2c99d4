#include <doctest/doctest.h>

#include <fnmatch.h>

#include <random>
#include <string>

#include "ftp/glob.hpp"

using namespace rsexec;

namespace {

bool glob_matches(std::string_view pattern, std::string_view name) {
    auto glob = GlobPattern::parse(pattern);
    REQUIRE_MESSAGE(glob, pattern);
    return glob->matches(name);
}

} // namespace

TEST_CASE("star, question mark and sets match as in the shell") {
    struct Case {
        const char* pattern;
        const char* name;
        bool match;
    };
    const Case cases[] = {
        {"*.txt", "a.txt", true},      {"*.txt", "a.txt.gz", false}, {"*.txt", ".txt", false},
        {"*", "anything at all", true}, {"a*b*c", "aXbYc", true},    {"a*b*c", "aXbYcZ", false},
        {"a*b*c", "abcbc", true},      {"?", "a", true},             {"?", "", false},
        {"?", "ab", false},            {"f??.bin", "f01.bin", true}, {"[abc]", "b", true},
        {"[abc]", "d", false},         {"[a-c]x", "bx", true},       {"[!a-c]x", "bx", false},
        {"[!a-c]x", "dx", true},       {"[^a-c]x", "dx", true},      {"[]]", "]", true},
        {"[!]]", "a", true},           {"[a-]", "-", true},          {"\\*", "*", true},
        {"\\*", "a", false},           {"a\\?", "a?", true},         {"a\\?", "ab", false},
        {"[\\]]", "]", true},          {"***", "x", true},           {"x", "x", true},
        {"x", "X", false},             {".*", ".hidden", true},      {"*", ".hidden", false},
        {"?hidden", ".hidden", false}, {"[.]hidden", ".hidden", false}, {"a*", "a", true},
        {"*a", "a", true},             {"*a*", "bab", true},         {"*ab", "aab", true},
    };
    for (const auto& c : cases) {
        INFO(c.pattern, " against ", c.name);
        CHECK(glob_matches(c.pattern, c.name) == c.match);
    }
}

TEST_CASE("bad patterns are refused with the pattern in the message") {
    for (const char* bad : {"[abc", "abc\\", "[z-a]", "a/b", "[a/]", "", "[!", "[]"}) {
        INFO(bad);
        const auto glob = GlobPattern::parse(bad);
        REQUIRE_FALSE(glob);
        CHECK(glob.error().is(Errc::bad_url));
        CHECK(glob.error().message.find("pattern") != std::string::npos);
    }
    CHECK_FALSE(GlobPattern::parse(std::string(max_glob_bytes + 1, '*')));
}

TEST_CASE("a component holds glob characters only when they are not escaped") {
    CHECK(has_glob_characters("*.txt"));
    CHECK(has_glob_characters("a?"));
    CHECK(has_glob_characters("[ab]"));
    CHECK_FALSE(has_glob_characters("plain.txt"));
    CHECK_FALSE(has_glob_characters("a\\*b"));
    CHECK_FALSE(has_glob_characters("a\\[b"));
    CHECK(glob_unescape("a\\*b") == "a*b");
    CHECK(glob_unescape("a\\\\b") == "a\\b");
}

TEST_CASE("patterns agree with fnmatch(3) with FNM_PERIOD on random inputs") {
    std::mt19937 random(19);
    const std::string pattern_bytes = "ab*?[]!-\\.";
    const std::string name_bytes = "ab.-]!";
    for (int round = 0; round < 20000; ++round) {
        std::string pattern, name;
        for (int i = random() % 7; i > 0; --i) pattern += pattern_bytes[random() % pattern_bytes.size()];
        for (int i = random() % 7; i > 0; --i) name += name_bytes[random() % name_bytes.size()];
        auto glob = GlobPattern::parse(pattern);
        if (!glob) continue;  // fnmatch takes an unclosed '[' literally; rsexec refuses it
        INFO("pattern '", pattern, "' name '", name, "'");
        CHECK(glob->matches(name) == (::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0));
    }
}

TEST_CASE("a long run of stars against a long name ends quickly") {
    const std::string pattern = std::string(2000, '*') + std::string(1000, 'a') + "b";
    const std::string name(4000, 'a');
    CHECK_FALSE(glob_matches(pattern, name));
}
