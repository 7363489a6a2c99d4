#pragma once
// Listing a directory, and with `recursive` every directory below it, for `rsexec ls -R`. The walk
// is bounded (depth, entries) and never loops: symbolic links are listed, never entered, and a
// directory whose MLSD "unique" fact (RFC 3659 7.5.2) was already seen is not entered again.
#include <cstddef>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/listing.hpp"

namespace rsexec {

struct WalkBounds {
    std::size_t max_depth = 64;            // directories below the root entered, at most
    std::size_t max_entries = 1'000'000;   // entries held, at most
};

struct ListedEntry {
    std::string path;  // relative to the walk's root, '/'-separated: the name for the root's own entries
    ListEntry entry;
};

struct DirectoryWalk {
    // Depth first, each directory's entries in name order, a directory before what it holds.
    std::vector<ListedEntry> entries;
    // What was not listed, one sentence each: a directory the server refused, one past the depth
    // bound or already seen, entries over the listing bounds, the entry bound reached.
    std::vector<std::string> incomplete;
};

// A root that is a file (MLST says so) is that one entry. The root's listing failing is an error; below it, a failure is noted in `incomplete` and the
// walk goes on.
asio::awaitable<Expected<DirectoryWalk>> walk_directory(ControlSession& session, const std::string& root,
                                                        bool recursive, const WalkBounds& bounds = {});

} // namespace rsexec
