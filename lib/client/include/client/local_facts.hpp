#pragma once
// What rsexec learns of a file on its own disk, in the terms the servers' replies use, so that the
// overwrite policy (ftp/overwrite.hpp), the mirror's plan and a kept modification time treat a
// local file as SIZE, MDTM and a digest treat one on a server.
#include <optional>
#include <string>

#include "ftp/expected.hpp"
#include "ftp/overwrite.hpp"
#include "ftp/time_val.hpp"

namespace rsexec {

// A local path's kind and facts: nullopt when nothing is there (lstat(2) says ENOENT or ENOTDIR).
struct LocalEntry {
    bool directory = false;
    bool regular = false;      // a regular file (a symbolic link is followed; anything else is neither)
    FileFacts facts;           // size (regular files) and modify (st_mtime as a whole-second time-val, UTC)
};
std::optional<LocalEntry> local_entry(const std::string& path);

// SHA-256 of a local file as lowercase hex; an error when it cannot be read.
Expected<std::string> local_sha256(const std::string& path);

// Gives a local file a modification time (utimensat(2)); false when it could not.
bool set_local_time(const std::string& path, const TimeVal& time);

} // namespace rsexec
