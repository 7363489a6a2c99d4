#include <doctest/doctest.h>

#include "client/glob_expansion.hpp"
#include "client/make_directories.hpp"

using namespace rsexec;

TEST_CASE("a source path splits into its directory and its last component") {
    CHECK(split_pattern_path("dir/*.txt").directory == "dir");
    CHECK(split_pattern_path("dir/*.txt").pattern == "*.txt");
    CHECK(split_pattern_path("*.txt").directory.empty());
    CHECK(split_pattern_path("/x*").directory == "/");
    CHECK(split_pattern_path("a/b/c?").directory == "a/b");
}

TEST_CASE("a path without wildcards loses the escapes of its last component only") {
    CHECK(literal_path("d/star\\*.txt") == "d/star*.txt");
    CHECK(literal_path("d\\x/a\\\\b") == "d\\x/a\\b");
    CHECK(literal_path("plain/name") == "plain/name");
    CHECK(literal_path("\\[x]") == "[x]");
}

TEST_CASE("the directory a file goes into, for --mkdirs") {
    CHECK(parent_directory("a/b/c") == "a/b");
    CHECK(parent_directory("c").empty());
    CHECK(parent_directory("/c") == "/");
    CHECK(parent_directory("a/b/") == "a");
}
