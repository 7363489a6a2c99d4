#pragma once
// Mirroring a directory tree from one server to another: walk both trees, decide what to copy,
// create and delete, then hand the copies to the batch engine (they go server to server).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/overwrite.hpp"

namespace rsexec {

struct TreeEntry {
    std::string path;  // relative to the tree's root, '/'-separated
    bool directory = false;
    std::optional<std::uint64_t> size;
    std::optional<std::string> modify;  // YYYYMMDDHHMMSS, UTC
};

struct MirrorPolicy {
    // Which files that exist at both ends are copied, decided from the listings' size and modify
    // facts as a copy decides from SIZE and MDTM (ftp/overwrite.hpp). The default copies a file
    // of another size or newer at the source; --size-only is if-different, --only-newer newer.
    Overwrite overwrite = Overwrite::different_or_newer;
    // if-different also compares the servers' digests (--verify checksum): files of the same size
    // are then copied with the policy, which asks for the digests first.
    bool compare_digests = false;
    bool delete_extra = false;          // delete destination files and directories the source does not have
    std::vector<std::string> excludes;  // globs matched against the relative path and the name
};

struct MirrorPlan {
    std::vector<std::string> directories_to_make;  // parents before children
    std::vector<std::string> files_to_copy;
    // Those of files_to_copy whose name the destination gives a directory: copied into it under
    // their name, as cp(1) does (every other destination names a file, as the listing showed).
    std::set<std::string> files_into_directories;
    std::vector<std::string> files_to_compare;  // the same size at both ends: digests decide
    // Files at both ends the policy keeps, and why (up_to_date counts them).
    std::vector<std::pair<std::string, SkipReason>> files_kept;
    std::vector<std::string> files_to_delete;
    // Directories the source does not have that hold nothing once files_to_delete are gone
    // (no excluded entry, nothing the source has): children before parents, for RMD.
    std::vector<std::string> directories_to_delete;
    std::size_t up_to_date = 0;
};

bool is_excluded(const std::string& path, const std::vector<std::string>& excludes);
MirrorPlan plan_mirror(const std::vector<TreeEntry>& source, const std::vector<TreeEntry>& destination,
                       const MirrorPolicy& policy);

struct TreeWalk {
    std::vector<TreeEntry> entries;
    // What the listings held that could not be read: "src 10.0.0.1:21: MLSD pub: skipped 1
    // entry ...", one per directory, naming the server.
    std::vector<std::string> skipped;
};

// Every file and directory below `root`, listed with MLSD (else LIST). Excluded entries are kept
// (the plan leaves them alone, and a directory holding one is not empty); excluded directories
// are not entered. A root that does not exist is an empty tree when `missing_is_empty`.
asio::awaitable<Expected<TreeWalk>> walk_tree(ControlSession& session, const std::string& root,
                                                            const std::vector<std::string>& excludes,
                                                            bool missing_is_empty);

// "root/relative", or "relative" for an empty root.
std::string join_path(const std::string& root, const std::string& relative);

} // namespace rsexec
