#include <doctest/doctest.h>

#include "ftp/url.hpp"

using namespace rsexec;

TEST_CASE("a full ftp URL is split into its parts") {
    const auto url = parse_ftp_url("ftp://alice:s3cret@example.org:2121/pub/file.txt");
    REQUIRE(url);
    CHECK(url->user == "alice");
    CHECK(url->password == "s3cret");
    CHECK(url->host == "example.org");
    CHECK(url->port == 2121);
    CHECK(url->path == "pub/file.txt");
    CHECK(url->file_name() == "file.txt");
    CHECK_FALSE(url->names_directory());
}

TEST_CASE("defaults: anonymous, port 21, ftps port 990") {
    const auto url = parse_ftp_url("ftp://host/f");
    REQUIRE(url);
    CHECK_FALSE(url->user);
    CHECK_FALSE(url->password);
    CHECK(url->port == 21);
    CHECK(parse_ftp_url("ftps://host/f")->port == 990);
    CHECK(parse_ftp_url("FTP://host/f")->scheme == "ftp");
}

TEST_CASE("IPv6 hosts are written in brackets") {
    const auto url = parse_ftp_url("ftp://[::1]:2100/x");
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->port == 2100);
    CHECK(url->authority() == "[::1]:2100");
    CHECK(parse_ftp_url("ftp://[::1]/x")->port == 21);
}

TEST_CASE("percent escapes are decoded in user, password and path") {
    const auto url = parse_ftp_url("ftp://us%40er:p%3Ass@h/dir/my%20file%C3%A9.txt");
    REQUIRE(url);
    CHECK(url->user == "us@er");
    CHECK(url->password == "p:ss");
    CHECK(url->path == "dir/my file\xC3\xA9.txt");
}

TEST_CASE("a password may hold a raw @") {
    const auto url = parse_ftp_url("ftp://bob:a@b@host/x");
    REQUIRE(url);
    CHECK(url->password == "a@b");
    CHECK(url->host == "host");
}

TEST_CASE("directories end in a slash; a double slash is an absolute path") {
    CHECK(parse_ftp_url("ftp://h/dir/")->names_directory());
    CHECK(parse_ftp_url("ftp://h")->names_directory());
    CHECK(parse_ftp_url("ftp://h/")->names_directory());
    CHECK(parse_ftp_url("ftp://h//srv/data")->path == "/srv/data");
}

TEST_CASE("bad URLs give clear errors") {
    const char* cases[] = {
        "", "host/path", "http://h/x", "ftp:///x", "ftp://h:0/x", "ftp://h:65536/x", "ftp://h:/x",
        "ftp://h:21x/x", "ftp://[::1/x", "ftp://[::1]x/x", "ftp://[nothex]/x", "ftp://h/%zz",
        "ftp://h/%4", "ftp://h/a%0d%0aDELE%20b", "ftp://h/a%00b", "ftp://@h/x", "ftp://ho st/x",
    };
    for (const char* text : cases) {
        CAPTURE(text);
        const auto url = parse_ftp_url(text);
        CHECK_FALSE(url);
        if (!url) CHECK(url.error().is(Errc::bad_url));
    }
}

TEST_CASE("errors and display never show the password") {
    const auto bad = parse_ftp_url("ftp://u:topsecret@h:99999/x");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("topsecret") == std::string::npos);
    const auto url = parse_ftp_url("ftp://u:topsecret@h/x%20y");
    REQUIRE(url);
    CHECK(url->display() == "ftp://u@h:21/x%20y");
}

TEST_CASE("local files: file:///abs/path and plain absolute paths") {
    auto plain = parse_url("/srv/data/a b.bin");
    REQUIRE(plain);
    CHECK(plain->is_local());
    CHECK(plain->path == "/srv/data/a b.bin");
    CHECK(plain->file_name() == "a b.bin");
    CHECK(plain->display() == "file:///srv/data/a%20b.bin");

    auto file = parse_url("file:///srv/data/a%20b.bin");
    REQUIRE(file);
    CHECK(file->is_local());
    CHECK(file->path == "/srv/data/a b.bin");
    CHECK(parse_url("FILE://localhost/x")->path == "/x");
    CHECK(parse_url("file:///srv/out/")->names_directory());

    SUBCASE("ftp URLs still parse as before") {
        auto ftp = parse_url("ftp://u:p@h:2121/a");
        REQUIRE(ftp);
        CHECK_FALSE(ftp->is_local());
        CHECK(ftp->port == 2121);
    }
    SUBCASE("refused") {
        CHECK_FALSE(parse_url("file://otherhost/x"));
        CHECK_FALSE(parse_url("file://"));
        CHECK_FALSE(parse_url("file:///x%zz"));
        CHECK_FALSE(parse_url("file:///x%00y"));
        CHECK_FALSE(parse_url("relative/path"));
        CHECK_FALSE(parse_ftp_url("file:///x"));  // batch and mirror: servers only
    }
}
