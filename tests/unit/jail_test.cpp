#include <doctest/doctest.h>

#include <fstream>
#include <unistd.h>

#include "server/jail.hpp"

using namespace rsexec::server;
namespace fs = std::filesystem;

TEST_CASE("virtual paths join the current directory and normalize . and ..") {
    const struct {
        const char* cwd;
        const char* argument;
        const char* expected;
    } cases[] = {
        {"/", "a", "/a"},           {"/a", "b", "/a/b"},       {"/a", "../b", "/b"},
        {"/a/b", "..", "/a"},       {"/a", "/x", "/x"},        {"/a", "/x/../y", "/y"},
        {"/", ".", "/"},            {"/a", "", "/a"},          {"/a", "b//c/./d/", "/a/b/c/d"},
        {"/a/b", "../..", "/"},     {"/", "//etc", "/etc"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.cwd);
        CAPTURE(c.argument);
        const auto path = virtual_path(c.cwd, c.argument);
        REQUIRE(path);
        CHECK(*path == c.expected);
    }
}

TEST_CASE("a path that climbs above the root is refused") {
    const struct {
        const char* cwd;
        const char* argument;
    } cases[] = {{"/", ".."}, {"/", "../etc/passwd"}, {"/a", "../../x"}, {"/a", "/../x"}, {"/", "a/../../b"}};
    for (const auto& c : cases) {
        CAPTURE(c.argument);
        CHECK_FALSE(virtual_path(c.cwd, c.argument));
    }
    CHECK_FALSE(virtual_path("/", std::string_view("a\0b", 3)));
}

TEST_CASE("parent and name split a virtual path") {
    CHECK(virtual_parent("/a/b") == "/a");
    CHECK(virtual_parent("/a") == "/");
    CHECK(virtual_name("/a/b") == "b");
}

TEST_CASE("inside compares path segments, not string prefixes") {
    CHECK(is_inside("/srv/ftp", "/srv/ftp"));
    CHECK(is_inside("/srv/ftp", "/srv/ftp/a/b"));
    CHECK_FALSE(is_inside("/srv/ftp", "/srv/ftp2"));
    CHECK_FALSE(is_inside("/srv/ftp", "/srv"));
    CHECK_FALSE(is_inside("/srv/ftp", "/etc/passwd"));
}

TEST_CASE("the jail resolves symlinks and refuses those that leave the root") {
    char pattern[] = "/tmp/rsexec-jail-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    const fs::path base = pattern;
    const fs::path root = base / "root";
    fs::create_directories(root / "dir");
    fs::create_directories(base / "outside");
    std::ofstream(root / "dir" / "file") << "x";
    std::ofstream(base / "outside" / "secret") << "s";
    fs::create_directory_symlink(base / "outside", root / "out");
    fs::create_symlink(root / "dir" / "file", root / "inner-link");

    auto jail = Jail::open(root);
    REQUIRE(jail);
    SUBCASE("ordinary and not yet existing paths resolve inside") {
        CHECK(*jail->resolve("/dir/file") == fs::canonical(root / "dir" / "file"));
        CHECK(*jail->resolve("/dir/new") == fs::canonical(root) / "dir" / "new");
        CHECK(*jail->resolve("/") == fs::canonical(root));
    }
    SUBCASE("a link pointing inside is followed") {
        CHECK(*jail->resolve("/inner-link") == fs::canonical(root / "dir" / "file"));
    }
    SUBCASE("a link pointing outside is refused, also below it and for new files") {
        CHECK_FALSE(jail->resolve("/out"));
        CHECK_FALSE(jail->resolve("/out/secret"));
        CHECK_FALSE(jail->resolve("/out/new-file"));
    }
    SUBCASE("an entry names the link itself, but its parent must be inside") {
        CHECK(*jail->resolve_entry("/out") == fs::canonical(root) / "out");
        CHECK_FALSE(jail->resolve_entry("/out/secret"));
    }
    fs::remove_all(base);
}

TEST_CASE("a root that is not a directory is refused") {
    CHECK_FALSE(Jail::open("/nonexistent/rsexec/root"));
}
