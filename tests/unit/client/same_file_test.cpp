#include <doctest/doctest.h>

#include "client/same_file.hpp"

using namespace rsexec;

namespace {
FtpUrl url(const char* text) {
    auto parsed = parse_ftp_url(text);
    REQUIRE(parsed);
    return *parsed;
}
} // namespace

TEST_CASE("paths are compared in a normal form") {
    CHECK(normal_path("a/./b//c/") == "a/b/c");
    CHECK(normal_path("//a/b") == "/a/b");
    CHECK(normal_path("/a/./b") == "/a/b");
    CHECK(normal_path("x/../y") == "y");
    CHECK(normal_path("../../y") == "y");
    CHECK(normal_path("/../y") == "/y");
    CHECK(normal_path("") == "");
    CHECK(normal_path(".") == "");
    CHECK(normal_path("/") == "/");
    CHECK(normal_path("self.bin") == "self.bin");
}

TEST_CASE("one server: same port and the same name, literal address or resolved address") {
    CHECK(same_server(url("ftp://Host.Example:2121/a"), url("ftp://host.example:2121/b")));
    CHECK_FALSE(same_server(url("ftp://host:2121/a"), url("ftp://host:2122/a")));
    CHECK_FALSE(same_server(url("ftp://127.0.0.2:21/a"), url("ftp://127.0.0.3:21/a")));
    const auto loopback = asio::ip::make_address("127.0.0.1");
    CHECK(same_server(url("ftp://localhost:21/a"), url("ftp://127.0.0.1:21/a"), loopback, std::nullopt));
    CHECK(same_server(url("ftp://localhost:21/a"), url("ftp://other-name:21/a"), loopback, loopback));
    CHECK_FALSE(same_server(url("ftp://localhost:21/a"), url("ftp://other-name:21/a")));
    CHECK(same_server(url("ftp://[::1]:21/a"), url("ftp://[0:0::1]:21/a")));
}

TEST_CASE("a copy onto itself is found however the path is written") {
    const auto a = url("ftp://u:p@127.0.0.2:2121/self.bin");
    CHECK(same_file(a, "self.bin", url("ftp://u:p@127.0.0.2:2121/x"), "./self.bin"));
    CHECK(same_file(a, "sub/self.bin", url("ftp://u:p@127.0.0.2:2121/sub%2Fself.bin"), "sub//self.bin"));
    CHECK(same_file(a, "sub/self.bin", a, "other/../sub/./self.bin"));
    CHECK(same_file(a, "/srv/f", a, "//srv/f"));
    // The destination URL's own path after its '/' took the source's name.
    const auto slash = url("ftp://u:p@127.0.0.2:2121/sub/");
    CHECK(same_file(a, "sub/self.bin", slash, slash.path + "self.bin"));
    CHECK_FALSE(same_file(a, "self.bin", a, "self.bin.copy"));
    CHECK_FALSE(same_file(a, "self.bin", url("ftp://u:p@127.0.0.3:2121/self.bin"), "self.bin"));
    CHECK_FALSE(same_file(a, "self.bin", url("ftp://u:p@127.0.0.2:2122/self.bin"), "self.bin"));
}

TEST_CASE("relative paths of two users hang off two login directories; absolute ones do not") {
    const auto alice = url("ftp://alice@host/f");
    const auto bob = url("ftp://bob@host/f");
    const auto anyone = url("ftp://host/f");  // the user comes from netrc: may be alice
    CHECK_FALSE(same_file(alice, "f", bob, "f"));
    CHECK(same_file(alice, "f", anyone, "f"));
    CHECK(same_file(alice, "/pub/f", bob, "/pub/f"));
    CHECK_FALSE(same_file(alice, "/f", alice, "f"));
}

TEST_CASE("a mirror into its own source directory, or one inside it, is found") {
    CHECK(same_or_nested_directories(url("ftp://h/tree/"), url("ftp://h/tree")));
    CHECK(same_or_nested_directories(url("ftp://h/tree/"), url("ftp://h/tree/inner/")));
    CHECK(same_or_nested_directories(url("ftp://h/tree/inner/"), url("ftp://h/./tree/")));
    CHECK(same_or_nested_directories(url("ftp://h/"), url("ftp://h/copy/")));
    CHECK_FALSE(same_or_nested_directories(url("ftp://h/tree/"), url("ftp://h/tree2/")));
    CHECK_FALSE(same_or_nested_directories(url("ftp://h/tree/"), url("ftp://other/tree/")));
    CHECK_FALSE(same_or_nested_directories(url("ftp://alice@h/tree/"), url("ftp://bob@h/tree/")));
}
