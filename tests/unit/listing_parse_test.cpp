#include <doctest/doctest.h>

#include "rsexec/listing.hpp"

using namespace rsexec;

TEST_CASE("MLSD lines give type, size, modify time and name") {
    const auto entries = parse_mlsd("type=cdir;modify=20261125114600; .\r\n"
                                    "type=pdir; ..\r\n"
                                    "type=file;size=1234;modify=20261125114600;perm=r; my file.txt\r\n"
                                    "Type=DIR;Modify=20261125114601; sub\r\n"
                                    "type=OS.unix=slink:/etc;size=4; link\r\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].name == "my file.txt");
    CHECK(entries[0].type == ListEntry::Type::file);
    CHECK(entries[0].size == 1234u);
    CHECK(entries[0].modify == "20261125114600");
    CHECK(entries[1].type == ListEntry::Type::directory);
    CHECK(entries[2].type == ListEntry::Type::other);
}

TEST_CASE("MLSD lines that cannot be read are left out") {
    const auto entries = parse_mlsd("garbage\r\ntype=file;size=x; a\r\nsize=3; untyped\r\ntype=file; ../escape\r\n");
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].name == "a");
    CHECK_FALSE(entries[0].size);
}

TEST_CASE("Unix LIST lines give type, size and the whole name") {
    const auto entries = parse_unix_list("total 12\r\n"
                                         "-rw-r--r--    1 ftp      ftp          1234 Nov 25 11:46 name with  spaces\r\n"
                                         "drwxr-xr-x    2 0        0            4096 Jan 01  2025 sub\r\n"
                                         "lrwxrwxrwx    1 ftp      ftp             4 Nov 25 11:46 link -> /etc\r\n"
                                         "drwxr-xr-x    2 0        0            4096 Jan 01  2025 .\r\n"
                                         "short line\r\n");
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].name == "name with  spaces");
    CHECK(entries[0].size == 1234u);
    CHECK(entries[0].type == ListEntry::Type::file);
    CHECK(entries[1].type == ListEntry::Type::directory);
    CHECK(entries[2].name == "link");
    CHECK(entries[2].type == ListEntry::Type::other);
}
