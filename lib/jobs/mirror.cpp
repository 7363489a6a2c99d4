#include "jobs/mirror.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include <fmt/core.h>
#include <fnmatch.h>

#include "client/directory_listing.hpp"

namespace rsexec {
namespace {

// Bounds on what a hostile or enormous server can make rsexec walk.
constexpr std::size_t max_depth = 64;
constexpr std::size_t max_entries = 10'000'000;

std::string name_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The listings' facts (RFC 3659 7.5.5 size, 7.5.3 modify: the same time-val as MDTM's) decide
// as SIZE and MDTM do for a copy.
OverwriteDecision decide(const TreeEntry& source, const TreeEntry& destination, const MirrorPolicy& policy) {
    OverwriteFacts facts;
    facts.destination_exists = true;
    facts.source = {source.size, source.modify, std::nullopt};
    facts.destination = {destination.size, destination.modify, std::nullopt};
    facts.compare_digests = policy.compare_digests;
    return decide_overwrite(policy.overwrite, facts);
}

std::string skipped_entries_message(const ControlSession& session, const std::string& directory, std::size_t count) {
    const auto& login = session.login_used();
    const std::string server = login ? login->host + ":" + std::to_string(login->port) : session.peer_address().to_string();
    return fmt::format("{} {}: {} {}: skipped {} {} longer than {} bytes or with a name over {} bytes",
                       side_name(session.side()), server, session.features().has("MLST") ? "MLSD" : "LIST",
                       directory.empty() ? "." : directory, count, count == 1 ? "entry" : "entries", max_entry_bytes,
                       max_name_bytes);
}

} // namespace

std::string join_path(const std::string& root, const std::string& relative) {
    if (root.empty()) return relative;
    if (root.back() == '/') return root + relative;
    return root + "/" + relative;
}

bool is_excluded(const std::string& path, const std::vector<std::string>& excludes) {
    const auto name = name_of(path);
    return std::any_of(excludes.begin(), excludes.end(), [&](const std::string& glob) {
        return ::fnmatch(glob.c_str(), path.c_str(), 0) == 0 || ::fnmatch(glob.c_str(), name.c_str(), 0) == 0;
    });
}

MirrorPlan plan_mirror(const std::vector<TreeEntry>& source, const std::vector<TreeEntry>& destination,
                       const MirrorPolicy& policy) {
    std::map<std::string, const TreeEntry*> there;
    for (const auto& entry : destination) there[entry.path] = &entry;
    std::map<std::string, const TreeEntry*> here;
    for (const auto& entry : source) here[entry.path] = &entry;

    MirrorPlan plan;
    for (const auto& [path, entry] : here) {  // std::map: parents sort before their children
        if (is_excluded(path, policy.excludes)) continue;
        const auto it = there.find(path);
        if (entry->directory) {
            if (it == there.end()) plan.directories_to_make.push_back(path);
            continue;
        }
        if (it == there.end() || it->second->directory) {
            plan.files_to_copy.push_back(path);
            if (it != there.end()) plan.files_into_directories.insert(path);
            continue;
        }
        const auto decision = decide(*entry, *it->second, policy);
        if (decision.copies()) {
            plan.files_to_copy.push_back(path);
        } else if (decision.skips()) {
            plan.files_kept.emplace_back(path, *decision.reason);
            ++plan.up_to_date;
        } else {
            plan.files_to_compare.push_back(path);
        }
    }
    if (policy.delete_extra) {
        for (const auto& [path, entry] : there)
            if (!entry->directory && !here.count(path) && !is_excluded(path, policy.excludes))
                plan.files_to_delete.push_back(path);
        // In reverse order a directory comes after everything below it ("a/b" sorts after "a"),
        // so whether it will still hold something is known when it is reached.
        std::set<std::string> occupied;
        for (auto it = there.rbegin(); it != there.rend(); ++it) {
            const auto& [path, entry] = *it;
            const bool stays = here.count(path) || is_excluded(path, policy.excludes) ||
                               (entry->directory && occupied.count(path));
            if (!stays) {
                if (entry->directory) plan.directories_to_delete.push_back(path);
                continue;
            }
            for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0; slash = path.rfind('/', slash - 1))
                occupied.insert(path.substr(0, slash));
        }
    }
    return plan;
}

asio::awaitable<Expected<TreeWalk>> walk_tree(ControlSession& session, const std::string& root,
                                              const std::vector<std::string>& excludes, bool missing_is_empty) {
    TreeWalk walk;
    std::vector<TreeEntry>& tree = walk.entries;
    std::deque<std::pair<std::string, std::size_t>> pending{{"", 0}};
    while (!pending.empty()) {
        // Plain locals: GCC 12 mishandles structured bindings and ?: temporaries across co_await.
        const std::string relative = pending.front().first;
        const std::size_t depth = pending.front().second;
        pending.pop_front();
        std::string directory = root;
        if (!relative.empty()) directory = join_path(root, relative);
        auto listing = co_await list_directory(session, directory);
        if (!listing) {
            // 550 (no such file), or 501 from servers that say "not a directory" for a missing one.
            const int code = listing.error().reply_code;
            if (relative.empty() && missing_is_empty && (code == 550 || code == 501)) co_return walk;
            co_return listing.error();
        }
        if (listing->oversized) walk.skipped.push_back(skipped_entries_message(session, directory, listing->oversized));
        for (auto& entry : listing->entries) {
            if (entry.type == ListEntry::Type::other) continue;
            TreeEntry node{relative.empty() ? entry.name : relative + "/" + entry.name,
                           entry.type == ListEntry::Type::directory, entry.size, entry.modify};
            const bool excluded = is_excluded(node.path, excludes);
            if (tree.size() >= max_entries)
                co_return Error(Errc::reply_too_large, "tree has more than " + std::to_string(max_entries) + " entries",
                                session.side());
            if (node.directory && !excluded) {
                if (depth + 1 >= max_depth)
                    co_return Error(Errc::reply_too_large, "tree deeper than " + std::to_string(max_depth) + " levels",
                                    session.side());
                pending.emplace_back(node.path, depth + 1);
            }
            tree.push_back(std::move(node));
        }
    }
    co_return walk;
}

} // namespace rsexec
