#include <doctest/doctest.h>

#include "ftp/listing.hpp"

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

TEST_CASE("an entry over the line bound is skipped without holding it") {
    for (const auto format : {ListingFormat::mlsd, ListingFormat::unix_list}) {
        const bool mlsd = format == ListingFormat::mlsd;
        const std::string before = mlsd ? "type=file;size=1; a\r\n" : "-rw-r--r-- 1 u g 1 Jan 01 00:00 a\r\n";
        const std::string after = mlsd ? "type=file;size=2; b\r\n" : "-rw-r--r-- 1 u g 2 Jan 01 00:00 b\r\n";
        const std::string head = mlsd ? "type=file;size=3; " : "-rw-r--r-- 1 u g 3 Jan 01 00:00 ";
        ListingParser parser(format);
        parser.feed(before + head);
        // A name of 1 MiB arriving in small pieces, as from a socket: never held whole.
        const std::string piece(1000, 'N');
        for (int i = 0; i < 1049; ++i) parser.feed(piece);
        parser.feed("\r\n" + after);
        parser.finish();
        CAPTURE(mlsd);
        REQUIRE(parser.entries().size() == 2);
        CHECK(parser.entries()[0].name == "a");
        CHECK(parser.entries()[1].name == "b");
        CHECK(parser.oversized() == 1);
    }
}

TEST_CASE("a name over 4096 bytes is skipped even on a line within the bound") {
    const std::string name(max_name_bytes + 1, 'x');
    ListingParser parser(ListingFormat::mlsd);
    parser.feed("type=file;size=1; " + name + "\r\ntype=file;size=1; " + std::string(max_name_bytes, 'y') + "\r\n");
    parser.finish();
    REQUIRE(parser.entries().size() == 1);
    CHECK(parser.entries()[0].name.size() == max_name_bytes);
    CHECK(parser.oversized() == 1);
}

TEST_CASE("a listing split at every byte parses as a whole, the last line without its end too") {
    const std::string text = "type=file;size=1; a\r\ntype=dir; sub\r\ntype=file;size=7; last";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        ListingParser parser(ListingFormat::mlsd);
        parser.feed(std::string_view(text).substr(0, cut));
        parser.feed(std::string_view(text).substr(cut));
        parser.finish();
        CAPTURE(cut);
        REQUIRE(parser.entries().size() == 3);
        CHECK(parser.entries()[2].name == "last");
        CHECK(parser.entries()[2].size == 7u);
    }
}

TEST_CASE("DOS LIST lines give directories, sizes and names with spaces") {
    const auto entries = parse_unix_list("11-25-26  11:46AM       <DIR>          sub dir\r\n"
                                         "11-25-2026  01:02PM                 1234 my file.txt\r\n"
                                         "11-25-26  11:46AM       <DIR>          .\r\n"
                                         "11-25-26  11:46AM                 12x4 bad-size\r\n"
                                         "1-25-26  11:46AM                 1 bad-date\r\n");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].name == "sub dir");
    CHECK(entries[0].type == ListEntry::Type::directory);
    CHECK_FALSE(entries[0].size);
    CHECK(entries[1].name == "my file.txt");
    CHECK(entries[1].type == ListEntry::Type::file);
    CHECK(entries[1].size == 1234u);
}

TEST_CASE("symlinks are marked and typed other in both formats; MLSD's unique fact is kept") {
    const auto mlsd = parse_mlsd("type=OS.unix=slink:/etc;size=4; a\r\n"
                                 "type=OS.unix=symlink; b\r\n"
                                 "type=dir;unique=803g1a; c\r\n");
    REQUIRE(mlsd.size() == 3);
    CHECK(mlsd[0].symlink);
    CHECK(mlsd[0].type == ListEntry::Type::other);
    CHECK(mlsd[1].symlink);
    CHECK_FALSE(mlsd[2].symlink);
    CHECK(mlsd[2].unique == "803g1a");
    const auto list = parse_unix_list("lrwxrwxrwx 1 u g 1 Nov 25 11:46 loop -> .\r\n");
    REQUIRE(list.size() == 1);
    CHECK(list[0].name == "loop");
    CHECK(list[0].symlink);
    CHECK(list[0].type == ListEntry::Type::other);
}
