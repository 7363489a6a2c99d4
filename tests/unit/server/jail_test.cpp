#include <doctest/doctest.h>

#include <fstream>

#include <fcntl.h>
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

namespace {

// A scratch tree:  base/root/{dir/file, sub/}, base/outside/secret, and links in the root.
struct Tree {
    fs::path base;
    fs::path root;
    Tree() {
        char pattern[] = "/tmp/rsexec-jail-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        base = pattern;
        root = base / "root";
        fs::create_directories(root / "dir");
        fs::create_directories(root / "sub");
        fs::create_directories(base / "outside");
        std::ofstream(root / "dir" / "file") << "x";
        std::ofstream(base / "outside" / "secret") << "s";
        fs::create_directory_symlink(base / "outside", root / "out");         // absolute, leaves
        fs::create_symlink(base / "outside" / "secret", root / "out-file");   // absolute, leaves
        fs::create_symlink(base / "outside" / "new.txt", root / "dangling");  // absolute, dangles outside
        fs::create_symlink("../outside/secret", root / "up");                 // relative, leaves
        fs::create_symlink("../../outside/new.txt", root / "sub" / "up-dangling");
        fs::create_symlink("dir/file", root / "inner-link");                  // relative, stays inside
        fs::create_symlink("../dir/file", root / "sub" / "rel");              // relative, stays inside
        fs::create_directory_symlink("dir", root / "inner-dir");
        fs::create_symlink(root / "dir" / "file", root / "abs-inner");        // absolute, names the inside
    }
    ~Tree() { fs::remove_all(base); }
};

std::string read_all(int fd) {
    char buffer[64];
    const auto n = ::read(fd, buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string{};
}

} // namespace

TEST_CASE("the jail opens paths beneath the root and never follows a symlink that leaves it") {
    Tree tree;
    for (const auto resolver : {Jail::Resolver::openat2, Jail::Resolver::walk}) {
        CAPTURE(resolver == Jail::Resolver::openat2 ? "openat2" : "walk");
        auto jail = Jail::open(tree.root, resolver);
        REQUIRE(jail);
        CHECK(jail->resolver() == resolver);

        // Ordinary paths.
        auto file = jail->open_path("/dir/file", O_RDONLY);
        REQUIRE(file);
        CHECK(read_all(file->get()) == "x");
        CHECK(jail->open_path("/", O_PATH | O_DIRECTORY));
        CHECK(jail->open_path("/dir", O_RDONLY | O_DIRECTORY));
        CHECK_FALSE(jail->open_path("/dir/missing", O_RDONLY));

        // Links that leave the root, dangling or not, anywhere in the path.
        for (const char* path : {"/out", "/out/secret", "/out-file", "/dangling", "/up", "/sub/up-dangling",
                                 "/out/new-file"}) {
            CAPTURE(path);
            CHECK_FALSE(jail->open_path(path, O_RDONLY));
            CHECK_FALSE(jail->open_path(path, O_PATH | O_DIRECTORY));
        }
        // Not virtual paths at all.
        CHECK_FALSE(jail->open_path("dir/file", O_RDONLY));
        CHECK_FALSE(jail->open_path("/../root/dir/file", O_RDONLY));
        CHECK_FALSE(jail->open_path("", O_RDONLY));

        // Creating: a link at the last segment is never written through.
        for (const char* path : {"/dangling", "/out-file", "/out/new.txt", "/sub/up-dangling", "/up"}) {
            CAPTURE(path);
            CHECK_FALSE(jail->create_file(path, O_WRONLY));
        }
        CHECK_FALSE(fs::exists(tree.base / "outside" / "new.txt"));
        CHECK(fs::file_size(tree.base / "outside" / "secret") == 1);
        auto created = jail->create_file("/sub/new", O_WRONLY | O_TRUNC);
        REQUIRE(created);
        CHECK(fs::exists(tree.root / "sub" / "new"));
        fs::remove(tree.root / "sub" / "new");

        // Entries: the parent must be inside; the entry itself may be a link.
        auto entry = jail->open_parent("/sub/rel");
        REQUIRE(entry);
        CHECK(entry->name == "rel");
        CHECK(jail->open_parent("/out"));
        CHECK_FALSE(jail->open_parent("/out/secret"));
        CHECK_FALSE(jail->open_parent("/"));

        // Absolute links are refused even when they name the inside: their target is read
        // from the host's "/", not the jail's.
        CHECK_FALSE(jail->open_path("/abs-inner", O_RDONLY));
    }
}

TEST_CASE("with openat2 a relative link that stays inside is followed; the walk follows none") {
    Tree tree;
    auto beneath = Jail::open(tree.root, Jail::Resolver::openat2);
    REQUIRE(beneath);
    for (const char* path : {"/inner-link", "/sub/rel", "/inner-dir/file"}) {
        CAPTURE(path);
        auto file = beneath->open_path(path, O_RDONLY);
        REQUIRE(file);
        CHECK(read_all(file->get()) == "x");
    }
    CHECK(beneath->open_path("/inner-dir", O_PATH | O_DIRECTORY));
    auto walk = Jail::open(tree.root, Jail::Resolver::walk);
    REQUIRE(walk);
    CHECK_FALSE(walk->open_path("/inner-link", O_RDONLY));
    CHECK_FALSE(walk->open_path("/inner-dir/file", O_RDONLY));
}

TEST_CASE("a link moved by rename so that it points outside is no longer followed") {
    // sub/rel -> ../dir/file is inside; moved to the root it names base/dir/file, outside.
    Tree tree;
    fs::create_directories(tree.base / "dir");
    std::ofstream(tree.base / "dir" / "file") << "outside";
    for (const auto resolver : {Jail::Resolver::openat2, Jail::Resolver::walk}) {
        auto jail = Jail::open(tree.root, resolver);
        REQUIRE(jail);
        auto from = jail->open_parent("/sub/rel");
        auto to = jail->open_parent("/rel");
        REQUIRE(from);
        REQUIRE(to);
        REQUIRE(::renameat(from->directory.get(), from->name.c_str(), to->directory.get(), to->name.c_str()) == 0);
        CHECK_FALSE(jail->open_path("/rel", O_RDONLY));
        CHECK_FALSE(jail->create_file("/rel", O_WRONLY | O_TRUNC));
        CHECK(fs::file_size(tree.base / "dir" / "file") == 7);
        fs::rename(tree.root / "rel", tree.root / "sub" / "rel");
    }
}

TEST_CASE("the automatic resolver is openat2 on a kernel that has it") {
    Tree tree;
    auto jail = Jail::open(tree.root);
    REQUIRE(jail);
    // Linux 5.6 and later (this project's CI runs 6.x).
    CHECK(jail->resolver() == Jail::Resolver::openat2);
}

TEST_CASE("a root that is not a directory is refused") {
    CHECK_FALSE(Jail::open("/nonexistent/rsexec/root"));
    Tree tree;
    CHECK_FALSE(Jail::open(tree.root / "dir" / "file"));
}
