#pragma once
// Directory listings as servers send them on the data connection:
//   MLSD (RFC 3659 7): "type=file;size=1234;modify=20261125114600; name"
//   LIST (no standard; the Unix ls -l form nearly every server uses):
//        "-rw-r--r--   1 owner group     1234 Nov 25 11:46 name"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rsexec {

struct ListEntry {
    enum class Type { file, directory, other };
    std::string name;
    Type type = Type::other;
    std::optional<std::uint64_t> size;
    std::optional<std::string> modify;  // MLSD's YYYYMMDDHHMMSS[.sss], UTC
};

// Lines that cannot be read, and the "." / ".." entries, are left out.
std::vector<ListEntry> parse_mlsd(std::string_view text);
std::vector<ListEntry> parse_unix_list(std::string_view text);

} // namespace rsexec
