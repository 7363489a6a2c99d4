#include "jobs/local_tree.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftp/time_val.hpp"

namespace rsexec {
namespace {

// The same bounds as a server's tree (mirror.cpp).
constexpr std::size_t max_depth = 64;
constexpr std::size_t max_entries = 10'000'000;

struct CloseDirectory {
    void operator()(DIR* directory) const { ::closedir(directory); }
};

Error local_error(const std::string& what, const std::string& path, Side side) {
    return Error(Errc::permanent_reply, what + " " + path + ": " + std::strerror(errno), side);
}

} // namespace

Expected<TreeWalk> walk_local_tree(const std::string& root, const std::vector<std::string>& excludes,
                                   bool missing_is_empty) {
    TreeWalk walk;
    const Side side = missing_is_empty ? Side::destination : Side::source;
    std::deque<std::pair<std::string, std::size_t>> pending{{"", 0}};
    while (!pending.empty()) {
        const std::string relative = pending.front().first;
        const std::size_t depth = pending.front().second;
        pending.pop_front();
        const std::string directory = relative.empty() ? root : join_path(root, relative);
        std::unique_ptr<DIR, CloseDirectory> listing(::opendir(directory.c_str()));
        if (!listing) {
            if (relative.empty() && missing_is_empty && errno == ENOENT) return walk;
            return local_error("cannot list", directory, side);
        }
        errno = 0;
        while (const dirent* found = ::readdir(listing.get())) {
            const std::string name = found->d_name;
            if (name == "." || name == "..") continue;
            const std::string path = relative.empty() ? name : relative + "/" + name;
            struct stat info {};
            // lstat: a symbolic link is neither file nor directory here, as a listing's "other".
            if (::lstat(join_path(root, path).c_str(), &info) != 0) continue;
            if (!S_ISREG(info.st_mode) && !S_ISDIR(info.st_mode)) continue;
            TreeEntry node{path, S_ISDIR(info.st_mode), std::nullopt,
                           format_time_val(std::chrono::sys_seconds(std::chrono::seconds(info.st_mtim.tv_sec)))};
            if (!node.directory) node.size = static_cast<std::uint64_t>(info.st_size);
            if (walk.entries.size() >= max_entries)
                return Error(Errc::reply_too_large, "tree has more than " + std::to_string(max_entries) + " entries",
                             side);
            if (node.directory && !is_excluded(node.path, excludes)) {
                if (depth + 1 >= max_depth)
                    return Error(Errc::reply_too_large, "tree deeper than " + std::to_string(max_depth) + " levels",
                                 side);
                pending.emplace_back(node.path, depth + 1);
            }
            walk.entries.push_back(std::move(node));
        }
    }
    return walk;
}

Status make_local_directory(const std::string& path, bool parents) {
    if (parents) {
        for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            const std::string parent = path.substr(0, slash);
            if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
                return local_error("cannot make directory", parent, Side::destination);
        }
    }
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
        return local_error("cannot make directory", path, Side::destination);
    return success();
}

Status remove_local(const std::string& path, bool directory) {
    if ((directory ? ::rmdir(path.c_str()) : ::unlink(path.c_str())) != 0)
        return local_error("cannot delete", path, Side::destination);
    return success();
}

} // namespace rsexec
