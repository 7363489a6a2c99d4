#include "jobs/copy_sources.hpp"

#include <map>
#include <memory>

#include "client/glob_expansion.hpp"
#include "client/make_directories.hpp"
#include "client/path_kind.hpp"
#include "client/same_file.hpp"
#include "ftp/glob.hpp"
#include "jobs/mirror.hpp"

namespace rsexec {
namespace {

// One source to copy: a file, or (with -r) a directory, by its path and the name it gets.
struct Expanded {
    FtpUrl url;
    std::string name;
    bool directory = false;
};

FtpUrl with_path(FtpUrl url, std::string path) {
    url.path = std::move(path);
    return url;
}

std::string server_key(const FtpUrl& url) {
    return url.scheme + "://" + url.user.value_or("") + "@" + url.authority();
}

std::string last_component(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const auto slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

asio::awaitable<void> part(ControlSession& session) {
    if (!session.is_open()) co_return;
    // Plain locals: GCC 12 mishandles a co_await in a condition.
    Status sent = co_await session.send("QUIT");
    if (sent) {
        auto goodbye = co_await session.read_reply(std::chrono::seconds(2));
        (void)goodbye;  // read only to part politely
    }
    session.close();
}

} // namespace

bool needs_source_plan(const std::vector<FtpUrl>& sources, bool recursive) {
    if (recursive || sources.size() > 1) return true;
    for (const auto& source : sources)
        if (has_glob_characters(split_pattern_path(source.path).pattern)) return true;
    return false;
}

asio::awaitable<Expected<SourcesPlan>> plan_sources(const SourcesRequest& request, const SessionOptions& options,
                                                    const Netrc* netrc) {
    auto executor = co_await asio::this_coro::executor;
    // Every pattern is checked before any login.
    bool patterns = false;
    for (const auto& source : request.sources) {
        const auto last = split_pattern_path(source.path).pattern;
        if (!has_glob_characters(last)) continue;
        patterns = true;
        if (auto pattern = GlobPattern::parse(last); !pattern) co_return pattern.error();
    }
    const FtpUrl& destination = request.destination;
    ControlSession dst(executor, Side::destination, options);
    if (auto opened = co_await dst.open(destination.host, destination.port, credentials_for(destination, netrc),
                                        destination.implicit_tls());
        !opened)
        co_return opened.error();
    SourcesPlan plan;
    bool into_directory = destination.path.empty();
    if (!into_directory) {
        auto is_dir = co_await is_directory(dst, destination.path);
        if (!is_dir) co_return is_dir.error();
        into_directory = *is_dir;
    }
    const bool several = request.sources.size() > 1 || patterns;
    if (several && !into_directory) {
        if (!request.make_directories)
            co_return Error(Errc::bad_url, "with several sources or a pattern, the destination must be an existing "
                                           "directory (or --mkdirs): " + destination.display() + " is not one");
        if (auto made = co_await make_directories(dst, destination.path); !made) co_return made.error();
        plan.directories_made.push_back(destination.path);
        into_directory = true;
    }

    std::map<std::string, std::unique_ptr<ControlSession>> sessions;
    std::vector<Expanded> expanded;
    for (const auto& source : request.sources) {
        auto& slot = sessions[server_key(source)];
        if (!slot) {
            slot = std::make_unique<ControlSession>(executor, Side::source, options);
            if (auto opened = co_await slot->open(source.host, source.port, credentials_for(source, netrc),
                                                  source.implicit_tls());
                !opened)
                co_return opened.error();
        }
        ControlSession& src = *slot;
        const auto last = split_pattern_path(source.path).pattern;
        if (has_glob_characters(last)) {
            auto matches = co_await expand_glob(src, source.path);
            if (!matches) co_return matches.error();
            std::size_t taken = 0;
            for (auto& match : *matches) {
                const bool directory = match.entry.type == ListEntry::Type::directory && !match.entry.symlink;
                const bool file = match.entry.type == ListEntry::Type::file && !match.entry.symlink;
                // What a link names (a file, a directory, a loop) is not known from the listing, and
                // -r never follows one: links are left out, as mirror does.
                if (match.entry.symlink) {
                    plan.notes.push_back("omitting symbolic link " + match.path);
                    continue;
                }
                if (directory && !request.recursive) {
                    plan.notes.push_back("omitting directory " + match.path + " (use -r)");
                    continue;
                }
                if (!directory && !file) {
                    plan.notes.push_back("omitting " + match.path + ": neither a file nor a directory");
                    continue;
                }
                expanded.push_back({with_path(source, match.path), match.entry.name, directory});
                ++taken;
            }
            if (!taken)
                co_return Error(Errc::permanent_reply,
                                "the pattern '" + last + "' matches only what is not copied without -r (directories) "
                                "or at all (symbolic links)",
                                Side::source, 550);
            continue;
        }
        FtpUrl plain = with_path(source, literal_path(source.path));
        bool directory = false;
        if (request.recursive && plain.path.empty()) {
            directory = true;
        } else if (request.recursive) {
            auto is_dir = co_await is_directory(src, plain.path);
            if (!is_dir) co_return is_dir.error();
            directory = *is_dir;
        }
        const std::string name = last_component(plain.path);
        expanded.push_back({std::move(plain), name, directory});
    }

    for (const auto& source : expanded) {
        // Into an existing directory each source goes under its own name, as with cp; a single
        // source onto a missing name becomes that name.
        const std::string target = into_directory ? join_path(destination.path, source.name) : destination.path;
        if (!source.directory) {
            if (into_directory && source.name.empty())
                co_return Error(Errc::bad_url, "a source names no file: " + source.url.display());
            plan.items.push_back({0, source.url, with_path(destination, target), false, std::nullopt, std::nullopt});
            continue;
        }
        const FtpUrl target_url = with_path(destination, target);
        if (same_or_nested_directories(source.url, target_url))
            co_return Error(Errc::bad_url, "the source and destination are the same directory, or one is inside the "
                                           "other, on one server: " + source.url.display() + " and " +
                                               target_url.display());
        ControlSession& src = *sessions[server_key(source.url)];
        auto source_tree = co_await walk_tree(src, source.url.path, {}, false);
        if (!source_tree) co_return source_tree.error();
        auto destination_tree = co_await walk_tree(dst, target, {}, true);
        if (!destination_tree) co_return destination_tree.error();
        for (const auto& skipped : source_tree->skipped) plan.notes.push_back(skipped);
        MirrorPolicy policy;  // no deletions, no excludes: copy what is missing or differs
        const MirrorPlan mirror = plan_mirror(source_tree->entries, destination_tree->entries, policy);
        plan.up_to_date += mirror.up_to_date;
        // The tree's root is part of the copy and always made; its missing parents only with --mkdirs.
        if (destination_tree->entries.empty()) {
            const std::string parent = parent_directory(target);
            if (!request.make_directories && !parent.empty() && parent != "/") {
                auto parent_there = co_await is_directory(dst, parent);
                if (!parent_there) co_return parent_there.error();
                if (!*parent_there)
                    co_return Error(Errc::permanent_reply, "no directory " + parent + " to copy into (--no-mkdirs)",
                                    Side::destination, 550);
            }
            if (auto made = co_await make_directories(dst, target); !made) co_return made.error();
            plan.directories_made.push_back(target);
        }
        for (const auto& directory : mirror.directories_to_make) {
            const std::string path = join_path(target, directory);
            if (auto made = co_await make_directories(dst, path); !made) co_return made.error();
            plan.directories_made.push_back(path);
        }
        for (const auto& file : mirror.files_to_copy)
            plan.items.push_back({0, with_path(source.url, join_path(source.url.path, file)),
                                  with_path(destination, join_path(target, file)), false, std::nullopt, std::nullopt});
    }
    for (auto& [key, session] : sessions) co_await part(*session);
    co_await part(dst);
    co_return plan;
}

asio::awaitable<Status> make_destination_directory(const FtpUrl& destination, const SessionOptions& options,
                                                   const Netrc* netrc) {
    const std::string directory =
        destination.names_directory() ? destination.path : parent_directory(destination.path);
    if (directory.empty()) co_return success();
    auto executor = co_await asio::this_coro::executor;
    ControlSession dst(executor, Side::destination, options);
    if (auto opened = co_await dst.open(destination.host, destination.port, credentials_for(destination, netrc),
                                        destination.implicit_tls());
        !opened)
        co_return opened;
    auto made = co_await make_directories(dst, directory);
    co_await part(dst);
    co_return made;
}

} // namespace rsexec
