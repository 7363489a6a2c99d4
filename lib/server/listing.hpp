#pragma once
// Directory listings, as pure text from plain values:
//   LIST - Unix "ls -l" lines, what every client parses (no RFC fixes the format);
//   NLST - names only (RFC 959 4.1.3);
//   MLSD/MLST - machine-readable facts "type=file;size=5;modify=20240102030405;perm=adfrw; name"
//               (RFC 3659 7), and MDTM's time-val (RFC 3659 2.3).
// stat_entry and read_directory are the only functions here that touch the file system.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "rsexec/expected.hpp"

namespace rsexec::server {

struct Entry {
    enum class Type { file, directory, symlink, other };

    std::string name;
    Type type = Type::file;
    std::uintmax_t size = 0;
    std::chrono::sys_seconds modified{};
    std::filesystem::perms permissions = std::filesystem::perms::none;
    std::uintmax_t links = 1;
};

// "-rw-r--r--   1 ftp      ftp          5 Jan 02 03:04 name"; entries older than six months
// (or in the future) show the year instead of the time, as ls does. Times are UTC.
std::string format_list_line(const Entry& entry, std::chrono::sys_seconds now);

// RFC 3659 2.3: YYYYMMDDHHMMSS in UTC.
std::string format_time_val(std::chrono::sys_seconds time);

// RFC 3659 7.5: "type=...;size=...;modify=...;perm=...; name". `writable` says whether this
// login may change the entry (anonymous read-only logins may not).
std::string format_facts(const Entry& entry, bool writable);

// The entry at `path`, described under `name`; a symlink is described as itself (lstat), so a
// link leading out of the root shows nothing of its target.
Expected<Entry> stat_entry(const std::filesystem::path& path, std::string name);
// All entries of a directory, sorted by name.
Expected<std::vector<Entry>> read_directory(const std::filesystem::path& directory);

} // namespace rsexec::server
