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

std::string base_name(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const auto slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

// A path that is not a directory, as MLST (RFC 3659 7) describes it: its entry line is
// " facts; pathname", whose name may hold '/', so it is read under the path's last component.
asio::awaitable<std::optional<ListEntry>> entry_of_file(ControlSession& session, const std::string& path) {
    if (!session.features().has("MLST") || path.empty()) co_return std::nullopt;
    auto reply = co_await session.command("MLST", path);
    if (!reply || !reply->completion()) co_return std::nullopt;
    for (const auto& line : reply->lines) {
        if (line.size() < 2 || line[0] != ' ') continue;
        const auto space = line.find(' ', 1);
        if (space == std::string::npos) continue;
        auto entries = parse_mlsd(line.substr(1, space) + base_name(path));
        if (entries.size() == 1 && entries.front().type != ListEntry::Type::directory) co_return entries.front();
    }
    co_return std::nullopt;
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
            if (relative.empty()) {
                // `ls FILE` shows the file, as ls(1) does, where the server can describe it.
                Error failure = listing.error();
                if (failure.reply_code / 100 == 5) {
                    auto file = co_await entry_of_file(session, root);
                    if (file) {
                        walk.entries.push_back({file->name, std::move(*file)});
                        co_return walk;
                    }
                }
                co_return failure;
            }
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
