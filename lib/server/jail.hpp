#pragma once
// The jail: every path a client names resolves inside --root (RFC 2577 and vsftpd's chroot as
// the bar). Clients see a virtual tree whose "/" is the root; "/x" is root/x, "../" may never
// climb above "/", and a symlink whose target leaves the root is refused like any other escape.
//
// Two steps, so the first is pure and testable with strings:
//   virtual_path(cwd, argument)  - text only: "/a/b" from "/a" and "b", error on escape;
//   resolve(virtual)              - the real path, symlinks resolved, checked inside the root.
#include <filesystem>
#include <string>
#include <string_view>

#include "rsexec/expected.hpp"

namespace rsexec::server {

// Joins `argument` to the current directory `cwd` (both virtual) and removes ".", "..", and
// empty segments. An absolute argument starts from "/". Climbing above "/" is an error.
Expected<std::string> virtual_path(std::string_view cwd, std::string_view argument);

// The directory part and the last segment of a normalized virtual path: "/a/b" -> "/a", "b".
std::string virtual_parent(std::string_view path);
std::string virtual_name(std::string_view path);

// Is `path` (canonical) `root` or inside it? Pure: compares path segments, not string prefixes,
// so "/srv/ftp2" is not inside "/srv/ftp".
bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path);

class Jail {
public:
    // The root must be an existing directory; it is made canonical once.
    static Expected<Jail> open(const std::filesystem::path& root);

    const std::filesystem::path& root() const noexcept { return root_; }

    // The real path of a virtual path, following symlinks (also the last one): for RETR, STOR,
    // CWD, LIST, SIZE, ... A path whose resolution leaves the root is an error.
    Expected<std::filesystem::path> resolve(std::string_view virtual_path) const;
    // The directory entry itself, not what a symlink there points to: for DELE, RMD, RNFR and
    // RNTO, which act on names. Its parent directory is resolved and checked.
    Expected<std::filesystem::path> resolve_entry(std::string_view virtual_path) const;

private:
    explicit Jail(std::filesystem::path root) : root_(std::move(root)) {}

    std::filesystem::path root_;
};

} // namespace rsexec::server
