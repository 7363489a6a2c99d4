#include <doctest/doctest.h>

#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include "server/listing.hpp"

using namespace rsexec::server;
using namespace std::chrono;

namespace {
// 2024-01-02 03:04:05 UTC
constexpr sys_seconds january2 = sys_days(year(2024) / 1 / 2) + hours(3) + minutes(4) + seconds(5);

Entry file(std::string name, std::uintmax_t size) {
    Entry entry;
    entry.name = std::move(name);
    entry.size = size;
    entry.modified = january2;
    entry.permissions = std::filesystem::perms(0644);
    return entry;
}
} // namespace

TEST_CASE("time-val is YYYYMMDDHHMMSS in UTC") {
    CHECK(format_time_val(january2) == "20240102030405");
    CHECK(format_time_val(sys_seconds{}) == "19700101000000");
}

TEST_CASE("LIST lines look like ls -l, with the time for recent files and the year for old ones") {
    const auto entry = file("report.txt", 5);
    CHECK(format_list_line(entry, january2 + days(1)) ==
          "-rw-r--r--   1 ftp      ftp                 5 Jan 02 03:04 report.txt");
    CHECK(format_list_line(entry, january2 + days(365)) ==
          "-rw-r--r--   1 ftp      ftp                 5 Jan 02  2024 report.txt");
    Entry dir = file("sub dir", 4096);
    dir.type = Entry::Type::directory;
    dir.permissions = std::filesystem::perms(0755);
    dir.links = 2;
    CHECK(format_list_line(dir, january2) == "drwxr-xr-x   2 ftp      ftp              4096 Jan 02 03:04 sub dir");
}

TEST_CASE("MLSD facts give type, size, modify and perm, then a space and the name") {
    const auto entry = file("a.bin", 123);
    CHECK(format_facts(entry, true) == "type=file;size=123;modify=20240102030405;perm=adfrw; a.bin");
    CHECK(format_facts(entry, false) == "type=file;size=123;modify=20240102030405;perm=r; a.bin");
    Entry dir = file("d", 0);
    dir.type = Entry::Type::directory;
    CHECK(format_facts(dir, true) == "type=dir;modify=20240102030405;perm=cdeflmp; d");
    CHECK(format_facts(dir, false) == "type=dir;modify=20240102030405;perm=el; d");
}

TEST_CASE("names are shown without control characters, so a name cannot end a line or a reply") {
    CHECK(printable_name("a\r\n213 forged") == "a??213 forged");
    CHECK(printable_name(std::string_view("n\0l\x1b[31m\x7f", 9)) == "n?l?[31m?");
    CHECK(printable_name("caf\xc3\xa9 ok.txt") == "caf\xc3\xa9 ok.txt"); // UTF-8 stays
    CHECK(has_control_character("x\ty"));
    CHECK(has_control_character("x\x7f"));
    CHECK_FALSE(has_control_character("plain name-1.txt"));
    const auto entry = file("f\r\n226 forged", 1);
    CHECK(format_list_line(entry, january2) == "-rw-r--r--   1 ftp      ftp                 1 Jan 02 03:04 f??226 forged");
    CHECK(format_facts(entry, false) == "type=file;size=1;modify=20240102030405;perm=r; f??226 forged");
}

TEST_CASE("a directory read through its descriptor lists symlinks as themselves") {
    char pattern[] = "/tmp/rsexec-listing-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    const std::filesystem::path base = pattern;
    std::ofstream(base / "b.txt") << "12345";
    std::filesystem::create_symlink("/nonexistent/target", base / "a-link");
    const int fd = ::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto entries = read_directory(fd);
    ::close(fd);
    std::filesystem::remove_all(base);
    REQUIRE(entries);
    REQUIRE(entries->size() == 2);
    CHECK((*entries)[0].name == "a-link");
    CHECK((*entries)[0].type == Entry::Type::symlink);
    CHECK((*entries)[1].name == "b.txt");
    CHECK((*entries)[1].size == 5);
}
