#include "server/jail.hpp"

#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rsexec::server {
namespace {

Error refused(std::string_view path, const char* why) {
    return Error(std::make_error_code(std::errc::permission_denied),
                 std::string(why) + ": '" + std::string(path.substr(0, 200)) + "'");
}

Error system_error(int error, std::string_view path) {
    // EXDEV from openat2 and ELOOP from O_NOFOLLOW: a symlink that leaves the root, or one the
    // fallback does not follow.
    const char* why = error == EXDEV || error == ELOOP ? "path leaves the root through a symlink" : "cannot open";
    return Error(std::error_code(error, std::generic_category()),
                 std::string(why) + ": '" + std::string(path.substr(0, 200)) + "'");
}

// The segments of a normalized virtual path; false for anything else ("..", relative paths),
// which virtual_path never produces but a caller might pass.
bool split(std::string_view path, std::vector<std::string_view>& segments) {
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) return false;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto segment = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") return false;
        segments.push_back(segment);
    }
    return true;
}

std::string join(const std::vector<std::string_view>& segments, std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) out += '/';
        out += segments[i];
    }
    return out.empty() ? std::string(".") : out;
}

int openat2_beneath(int directory, const char* path, int flags, mode_t mode = 0) {
    ::open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.mode = (flags & O_CREAT) != 0 ? mode : 0;  // openat2 refuses a mode without O_CREAT
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
        const auto fd = static_cast<int>(::syscall(SYS_openat2, directory, path, &how, sizeof how));
        // EAGAIN: a rename or mount raced a ".." step (openat2(2)); retried a few times.
        if (fd >= 0 || (errno != EINTR && !(errno == EAGAIN && attempt < 8))) return fd;
    }
}

// The fallback: each directory opened with O_NOFOLLOW from the previous one, the last
// component with O_NOFOLLOW too. `relative` holds no "." or ".." (split() refused them).
int walk_beneath(int root, const std::string& relative, int flags) {
    if (relative == ".") return ::openat(root, ".", flags);
    FileDescriptor current;
    int directory = root;
    std::string_view rest = relative;
    for (;;) {
        const auto slash = rest.find('/');
        const std::string segment(rest.substr(0, slash));
        if (slash == std::string_view::npos) return ::openat(directory, segment.c_str(), flags | O_NOFOLLOW);
        FileDescriptor next(::openat(directory, segment.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) return -1;
        current = std::move(next);
        directory = current.get();
        rest = rest.substr(slash + 1);
    }
}

} // namespace

Expected<std::string> virtual_path(std::string_view cwd, std::string_view argument) {
    if (argument.find('\0') != std::string_view::npos) return refused(argument, "path holds NUL");
    std::vector<std::string_view> segments;
    auto walk = [&](std::string_view text) -> bool {
        while (!text.empty()) {
            const auto slash = text.find('/');
            const auto segment = text.substr(0, slash);
            text = slash == std::string_view::npos ? std::string_view{} : text.substr(slash + 1);
            if (segment.empty() || segment == ".") continue;
            if (segment == "..") {
                if (segments.empty()) return false;
                segments.pop_back();
                continue;
            }
            segments.push_back(segment);
        }
        return true;
    };
    if (argument.empty() || argument.front() != '/') {
        if (!walk(cwd)) return refused(cwd, "path leaves the root");
    }
    if (!walk(argument)) return refused(argument, "path leaves the root");
    std::string out;
    for (auto segment : segments) {
        out += '/';
        out += segment;
    }
    return out.empty() ? std::string("/") : out;
}

std::string virtual_parent(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

std::string virtual_name(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Expected<Jail> Jail::open(const std::filesystem::path& root, Resolver resolver) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(root, ec);
    if (ec) return Error(ec, "root is not a directory: " + root.string());
    FileDescriptor root_fd(::open(canonical.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd)
        return Error(std::error_code(errno, std::generic_category()), "root is not a directory: " + root.string());
    if (resolver == Resolver::automatic) {
        // Probe once: kernels before 5.6 (and some seccomp filters) have no openat2.
        const FileDescriptor probe(openat2_beneath(root_fd.get(), ".", O_PATH | O_CLOEXEC));
        resolver = probe || (errno != ENOSYS && errno != EPERM) ? Resolver::openat2 : Resolver::walk;
    }
    return Jail(std::move(canonical), std::move(root_fd), resolver);
}

Expected<FileDescriptor> Jail::open_relative(const std::string& relative, int flags) const {
    // openat2 is strict: O_PATH takes only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC beside it.
    flags |= (flags & O_PATH) != 0 ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
    const int fd = resolver_ == Resolver::openat2 ? openat2_beneath(root_fd_.get(), relative.c_str(), flags)
                                                  : walk_beneath(root_fd_.get(), relative, flags);
    if (fd < 0) return system_error(errno, relative);
    return FileDescriptor(fd);
}

Expected<FileDescriptor> Jail::open_path(std::string_view virtual_path, int flags) const {
    std::vector<std::string_view> segments;
    if (!split(virtual_path, segments)) return refused(virtual_path, "not a virtual path");
    return open_relative(join(segments, segments.size()), flags);
}

Expected<JailEntry> Jail::open_parent(std::string_view virtual_path) const {
    std::vector<std::string_view> segments;
    if (!split(virtual_path, segments)) return refused(virtual_path, "not a virtual path");
    if (segments.empty()) return refused(virtual_path, "the root has no parent");
    auto directory = open_relative(join(segments, segments.size() - 1), O_PATH | O_DIRECTORY);
    if (!directory) return directory.error();
    return JailEntry{std::move(*directory), std::string(segments.back())};
}

Expected<FileDescriptor> Jail::open_in_parent(std::string_view virtual_path, int flags, mode_t mode) const {
    if (resolver_ == Resolver::openat2) {
        // One openat2 for the whole path, not one for the parent and one for the name: the same
        // rules, as RESOLVE_BENEATH keeps every step under the root and O_NOFOLLOW refuses a
        // symlink (dangling or not) as the last segment, as the open in the parent does.
        std::vector<std::string_view> segments;
        if (!split(virtual_path, segments)) return refused(virtual_path, "not a virtual path");
        if (segments.empty()) return refused(virtual_path, "the root has no parent");
        const int fd = openat2_beneath(root_fd_.get(), join(segments, segments.size()).c_str(),
                                       flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0) return system_error(errno, virtual_path);
        return FileDescriptor(fd);
    }
    auto entry = open_parent(virtual_path);
    if (!entry) return entry.error();
    FileDescriptor file(::openat(entry->directory.get(), entry->name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode));
    if (!file) return system_error(errno, virtual_path);
    return file;
}

Expected<FileDescriptor> Jail::create_file(std::string_view virtual_path, int flags, mode_t mode) const {
    return open_in_parent(virtual_path, flags | O_CREAT, mode);
}

Expected<FileDescriptor> Jail::open_existing_file(std::string_view virtual_path, int flags) const {
    return open_in_parent(virtual_path, flags & ~O_CREAT, 0);
}

} // namespace rsexec::server
