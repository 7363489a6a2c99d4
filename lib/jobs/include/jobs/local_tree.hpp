#pragma once
// A mirror's side on this machine's disk (file:///abs/dir/ or /abs/dir/): its tree read as a
// server's listing would give it (jobs/mirror.hpp), its directories made and its extra entries
// deleted as MKD, DELE and RMD would. Symbolic links and special files are left alone, as a
// listing's entries of another type are: never entered, copied or deleted.
#include <string>
#include <vector>

#include "ftp/expected.hpp"
#include "jobs/mirror.hpp"

namespace rsexec {

// Every file and directory below `root`, with its size and modification time (whole seconds,
// UTC), within the same bounds as walk_tree. A missing root is an empty tree when `missing_is_empty`.
Expected<TreeWalk> walk_local_tree(const std::string& root, const std::vector<std::string>& excludes,
                                   bool missing_is_empty);

// mkdir(2) of `path`, its missing parents first when `parents`; one that exists is no error.
Status make_local_directory(const std::string& path, bool parents);

// unlink(2) a file, or rmdir(2) an (empty) directory.
Status remove_local(const std::string& path, bool directory);

} // namespace rsexec
