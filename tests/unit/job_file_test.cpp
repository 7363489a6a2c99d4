#include <doctest/doctest.h>

#include "rsexec/job_file.hpp"

using namespace rsexec;

TEST_CASE("a text job file lists one transfer per line") {
    const auto items = parse_job_file("# nightly copy\n"
                                      "\n"
                                      "ftp://a/x.bin ftp://b/in/\n"
                                      "  ftp://a/my%20file ftp://b/y append  \r\n");
    REQUIRE(items);
    REQUIRE(items->size() == 2);
    CHECK((*items)[0].line == 3);
    CHECK((*items)[0].source.path == "x.bin");
    CHECK_FALSE((*items)[0].append);
    CHECK((*items)[1].line == 4);
    CHECK((*items)[1].source.path == "my file");
    CHECK((*items)[1].append);
}

TEST_CASE("JSON Lines are accepted beside text lines") {
    const auto items = parse_job_file("{\"src\": \"ftp://a/x\", \"dst\": \"ftp://b/y\", \"append\": true}\n"
                                      "{\"src\": \"ftp://a/z\", \"dst\": \"ftp://b/\"}\n");
    REQUIRE(items);
    REQUIRE(items->size() == 2);
    CHECK((*items)[0].append);
    CHECK((*items)[1].destination.names_directory());
}

TEST_CASE("a bad line is reported with its number") {
    const char* cases[] = {
        "ftp://a/x\n",                                // one URL
        "ftp://a/x ftp://b/y sideways\n",             // unknown option
        "ftp://a/x http://b/y\n",                     // bad scheme
        "ftp://a/dir/ ftp://b/y\n",                   // directory source
        "{\"src\": \"ftp://a/x\"}\n",                 // no dst
        "{\"src\": 1, \"dst\": \"ftp://b/\"}\n",      // wrong type
        "{\"src\": \"ftp://a/x\", \"dst\": \"ftp://b/\", \"apend\": true}\n",
        "{not json\n",
    };
    for (const char* body : cases) {
        CAPTURE(body);
        const auto items = parse_job_file(std::string("# header\n") + body);
        REQUIRE_FALSE(items);
        CHECK(items.error().is(Errc::bad_job));
        CHECK(items.error().message.rfind("line 2:", 0) == 0);
    }
}

TEST_CASE("an empty job file has no items") {
    const auto items = parse_job_file("# nothing\n\n");
    REQUIRE(items);
    CHECK(items->empty());
}
