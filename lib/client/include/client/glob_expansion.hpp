#pragma once
// A source URL whose last path component is a pattern (ftp/glob.hpp), expanded against the
// listing of its directory. The pattern itself never reaches the server: only the directory is
// listed (MLSD, else LIST), and the names it holds are matched here.
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/glob.hpp"
#include "ftp/listing.hpp"

namespace rsexec {

// "dir/*.txt" -> {"dir", "*.txt"}; "*.txt" -> {"", "*.txt"}; "/x*" -> {"/", "x*"}.
struct PatternPath {
    std::string directory;
    std::string pattern;
};
PatternPath split_pattern_path(const std::string& path);

// The path a source without wildcards names: its last component's backslash escapes removed
// ("d/star\\*.txt" names "d/star*.txt"); the directories before it are taken as they are.
std::string literal_path(const std::string& path);

struct GlobMatch {
    std::string path;  // the directory joined with the matching name
    ListEntry entry;
};

// The entries of the pattern's directory that match it, in name order. A pattern that matches
// nothing is an error naming it (a source refusal: exit 5), as is a directory that cannot be listed.
asio::awaitable<Expected<std::vector<GlobMatch>>> expand_glob(ControlSession& session, const std::string& path);

} // namespace rsexec
