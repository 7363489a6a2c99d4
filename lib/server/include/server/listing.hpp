#pragma once
// Directory listings, as pure text from plain values:
//   LIST - Unix "ls -l" lines, what every client parses (no RFC fixes the format);
//   NLST - names only (RFC 959 4.1.3);
//   MLSD/MLST - machine-readable facts "type=file;size=5;modify=20240102030405;perm=adfrw; name"
//               (RFC 3659 7), and MDTM's time-val (RFC 3659 2.3).
// entry_of, entry_at and read_directory are the only functions here that touch the file system;
// they work on descriptors the jail opened (jail.hpp), never on path names.
// Names are shown with every control character (CR, LF, ESC, ...) as '?', as ls -q does: RFC 959
// has no escaping, and a CR LF in a name would end a reply or a listing line early.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ftp/expected.hpp"

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

// `name` with bytes below 0x20 and DEL replaced by '?'.
std::string printable_name(std::string_view name);
// Whether `name` holds such a byte: names rsexecd refuses to create (553).
bool has_control_character(std::string_view name);

// The file open as `fd` (an O_PATH descriptor will do), described under `name`.
Expected<Entry> entry_of(int fd, std::string name);
// The entry `name` of the directory open as `directory`; a symlink is described as itself
// (AT_SYMLINK_NOFOLLOW), so a link leading out of the root shows nothing of its target.
Expected<Entry> entry_at(int directory, const std::string& name);
// All entries of the directory open as `directory` (an O_PATH descriptor will do), sorted by name.
Expected<std::vector<Entry>> read_directory(int directory);

} // namespace rsexec::server
