#include "client/directory_tree.hpp"

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "client/directory_listing.hpp"

namespace rsexec {
namespace {

std::string join(const std::string& root, const std::string& relative) {
    if (root.empty()) return relative;
    if (relative.empty()) return root;
    return root.back() == '/' ? root + relative : root + "/" + relative;
}

} // namespace

asio::awaitable<Expected<DirectoryWalk>> walk_directory(ControlSession& session, const std::string& root,
                                                        bool recursive, const WalkBounds& bounds) {
    DirectoryWalk walk;
    std::set<std::string> seen_unique;
    // (relative path, depth); a stack, so that a directory's contents follow it.
    std::vector<std::pair<std::string, std::size_t>> pending{{"", 0}};
    while (!pending.empty()) {
        // Plain locals: GCC 12 mishandles structured bindings across co_await.
        const std::string relative = pending.back().first;
        const std::size_t depth = pending.back().second;
        pending.pop_back();
        const std::string directory = join(root, relative);
        auto listing = co_await list_directory(session, directory);
        if (!listing) {
            if (relative.empty()) co_return listing.error();
            walk.incomplete.push_back(fmt::format("{}: not listed: {}", relative, listing.error().message));
            continue;
        }
        if (listing->oversized)
            walk.incomplete.push_back(fmt::format("{}: skipped {} {} longer than {} bytes or with a name over {} bytes",
                                                  relative.empty() ? "." : relative, listing->oversized,
                                                  listing->oversized == 1 ? "entry" : "entries", max_entry_bytes,
                                                  max_name_bytes));
        auto& entries = listing->entries;
        std::sort(entries.begin(), entries.end(),
                  [](const ListEntry& a, const ListEntry& b) { return a.name < b.name; });
        std::vector<std::pair<std::string, std::size_t>> below;
        for (auto& entry : entries) {
            if (walk.entries.size() >= bounds.max_entries) {
                walk.incomplete.push_back(fmt::format("stopped after {} entries (the bound)", bounds.max_entries));
                co_return walk;
            }
            std::string path = relative.empty() ? entry.name : relative + "/" + entry.name;
            if (recursive && entry.type == ListEntry::Type::directory && !entry.symlink) {
                if (entry.unique && !seen_unique.insert(*entry.unique).second)
                    walk.incomplete.push_back(fmt::format("{}/: not entered: the server says it is a directory "
                                                          "already listed (a loop)", path));
                else if (depth + 1 > bounds.max_depth)
                    walk.incomplete.push_back(
                        fmt::format("{}/: not entered: deeper than {} levels", path, bounds.max_depth));
                else
                    below.emplace_back(path, depth + 1);
            }
            walk.entries.push_back({std::move(path), std::move(entry)});
        }
        // Reversed onto the stack: the first subdirectory is listed first.
        pending.insert(pending.end(), below.rbegin(), below.rend());
    }
    co_return walk;
}

} // namespace rsexec
