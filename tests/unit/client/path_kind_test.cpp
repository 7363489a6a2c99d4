#include <doctest/doctest.h>

#include "client/path_kind.hpp"

using namespace rsexec;

TEST_CASE("MLST and PWD replies say whether a destination is a directory and where to come back") {
    CHECK(type_from_mlst(Reply{250, {"250-Listing adir", " type=dir;modify=20261130000000; adir", "250 End"}}) ==
          ListEntry::Type::directory);
    CHECK(type_from_mlst(Reply{250, {"250-Listing .", " Type=cdir;perm=el; .", "250 End"}}) ==
          ListEntry::Type::directory);
    CHECK(type_from_mlst(Reply{250, {"250-Listing f", " type=file;size=3; f", "250 End"}}) == ListEntry::Type::file);
    CHECK_FALSE(type_from_mlst(Reply{550, {"550 No such file"}}));
    CHECK(directory_from_pwd(Reply{257, {"257 \"/home/a \"\"q\"\" dir\" is the current directory"}}) ==
          "/home/a \"q\" dir");
    CHECK_FALSE(directory_from_pwd(Reply{257, {"257 no quotes"}}));
}
