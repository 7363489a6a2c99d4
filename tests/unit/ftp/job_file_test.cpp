#include <doctest/doctest.h>

#include "ftp/job_file.hpp"

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

TEST_CASE("a JSON line's \"mkdirs\" says whether its missing destination directory is made") {
    const auto items = parse_job_file("{\"src\": \"ftp://a/x\", \"dst\": \"ftp://b/new/y\", \"mkdirs\": false}\n"
                                      "{\"src\": \"ftp://a/x\", \"dst\": \"ftp://b/new/z\", \"mkdirs\": true}\n"
                                      "ftp://a/x ftp://b/new/w\n");
    REQUIRE(items);
    REQUIRE(items->size() == 3);
    CHECK((*items)[0].mkdirs == false);
    CHECK((*items)[1].mkdirs == true);
    CHECK((*items)[2].mkdirs == std::nullopt);
    const auto bad = parse_job_file("{\"src\": \"ftp://a/x\", \"dst\": \"ftp://b/y\", \"mkdirs\": \"no\"}\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "line 1: \"mkdirs\" must be true or false");
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

TEST_CASE("every bad line is reported with its number and reason, good lines still read") {
    const auto file = read_job_file("ftp://a/x ftp://b/\n"
                                    "ftp://a/only-one\n"
                                    "# comment\n"
                                    "ftp://a/y http://b/\n"
                                    "ftp://a/z ftp://b/\n");
    CHECK_FALSE(file.valid());
    REQUIRE(file.errors.size() == 2);
    CHECK(file.errors[0].line == 2);
    CHECK(file.errors[0].reason == "expected SRC_URL DST_URL");
    CHECK(file.errors[1].line == 4);
    CHECK(file.errors[1].reason.rfind("destination: ", 0) == 0);
    CHECK(file.items.size() == 2);
    CHECK(file.unreported_errors == 0);
}

TEST_CASE("a raw space in a URL is explained, with the URL it was meant to be") {
    SUBCASE("in the source") {
        const auto file = read_job_file("ftp://h/a b.txt ftp://h2/\n");
        REQUIRE(file.errors.size() == 1);
        CHECK(file.errors[0].reason.find("unknown option") == std::string::npos);
        CHECK(file.errors[0].reason.find("%20") != std::string::npos);
        CHECK(file.errors[0].reason.find("ftp://h/a%20b.txt") != std::string::npos);
    }
    SUBCASE("in the destination") {
        const auto file = read_job_file("ftp://h/a ftp://h2/my file\n");
        REQUIRE(file.errors.size() == 1);
        CHECK(file.errors[0].reason.find("%20") != std::string::npos);
    }
    SUBCASE("a source with several spaces") {
        const auto file = read_job_file("ftp://h/a b c.txt ftp://h2/ append\n");
        REQUIRE(file.errors.size() == 1);
        CHECK(file.errors[0].reason.find("ftp://h/a%20b%20c.txt") != std::string::npos);
    }
}

TEST_CASE("at most 100 bad lines are kept, the others counted") {
    std::string text;
    for (int i = 0; i < 153; ++i) text += "ftp://a/bad" + std::to_string(i) + "\n";
    text += "ftp://a/x ftp://b/\n";
    const auto file = read_job_file(text);
    CHECK(file.errors.size() == max_reported_job_errors);
    CHECK(file.unreported_errors == 53);
    CHECK(file.errors.back().line == 100);
    CHECK(file.items.size() == 1);
    const auto first = parse_job_file(text);
    REQUIRE_FALSE(first);
    CHECK(first.error().message == "line 1: expected SRC_URL DST_URL");
}

TEST_CASE("a job file read a line at a time keeps only the count and the bad lines, as read whole") {
    std::string text = "# header\r\n\n";
    for (int i = 0; i < 120; ++i) text += "ftp://a/bad" + std::to_string(i) + "\n";
    for (int i = 0; i < 5; ++i) text += "  ftp://a/x" + std::to_string(i) + " ftp://b/\r\n";
    text += "{\"src\": \"ftp://a/j\", \"dst\": \"ftp://b/\"}";  // last line without '\n'
    JobFileReader reader;
    std::size_t given = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        const auto end = rest.find('\n');
        if (auto item = reader.next_line(rest.substr(0, end))) {
            ++given;
            CHECK(item->line > 122);
        }
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    const auto whole = read_job_file(text);
    CHECK(reader.item_count() == 6);
    CHECK(given == 6);
    CHECK(whole.items.size() == 6);
    CHECK(whole.items.back().line == 128);
    REQUIRE(reader.errors().size() == whole.errors.size());
    CHECK(reader.errors().size() == max_reported_job_errors);
    CHECK(reader.errors().front().line == 3);
    CHECK(reader.errors().back().reason == whole.errors.back().reason);
    CHECK(reader.unreported_errors() == 20);
    CHECK(whole.unreported_errors == 20);
    CHECK_FALSE(reader.valid());
}

TEST_CASE("either side of a line may be a local file, never both") {
    const auto items = parse_job_file("/srv/out/a.bin ftp://b/in/\n"
                                      "ftp://a/x.bin file:///srv/in/my%20x.bin\n"
                                      "{\"src\": \"ftp://a/y\", \"dst\": \"/srv/in/\"}\n");
    REQUIRE(items);
    REQUIRE(items->size() == 3);
    CHECK((*items)[0].source.is_local());
    CHECK((*items)[0].source.path == "/srv/out/a.bin");
    CHECK((*items)[1].destination.is_local());
    CHECK((*items)[1].destination.path == "/srv/in/my x.bin");
    CHECK((*items)[2].destination.names_directory());
    const auto both = read_job_file("/srv/a.bin file:///srv/b.bin\n");
    REQUIRE(both.errors.size() == 1);
    CHECK(both.errors[0].reason.find("local") != std::string::npos);
    CHECK_FALSE(read_job_file("file://elsewhere/a.bin ftp://b/\n").valid());
}
