#pragma once
// The jail: every path a client names resolves inside --root (RFC 2577 and vsftpd's chroot as
// the bar). Clients see a virtual tree whose "/" is the root; "/x" is root/x, "../" may never
// climb above "/", and a symlink whose target leaves the root is never followed, whether it
// dangles or not.
//
// Two steps, so the first is pure and testable with strings:
//   virtual_path(cwd, argument) - text only: "/a/b" from "/a" and "b", error on escape;
//   Jail::open_path and friends - descriptors, resolved by the kernel from a descriptor of the
//                                 root, component by component.
// Nothing is checked by name and then opened by name again (a symlink swapped in between would
// win that race): handlers act on the descriptors the jail returns, with the *at(2) calls.
//
// Resolution: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (Linux 5.6): relative
// symlinks that stay beneath the root are followed, absolute ones and any that climb out fail
// (EXDEV). Where openat2 is missing (ENOSYS) each component is opened with O_NOFOLLOW instead,
// so no symlink at all is followed.
#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "ftp/expected.hpp"
#include "server/file_descriptor.hpp"

namespace rsexec::server {

// Joins `argument` to the current directory `cwd` (both virtual) and removes ".", "..", and
// empty segments. An absolute argument starts from "/". Climbing above "/" is an error.
Expected<std::string> virtual_path(std::string_view cwd, std::string_view argument);

// The directory part and the last segment of a normalized virtual path: "/a/b" -> "/a", "b".
std::string virtual_parent(std::string_view path);
std::string virtual_name(std::string_view path);

// A directory entry as the handlers that act on names see it (DELE, RMD, MKD, RNFR, RNTO, STOR):
// the directory holding it, opened inside the jail (O_PATH), and its name there.
struct JailEntry {
    FileDescriptor directory;
    std::string name; // one segment, never "", "." or ".."
};

class Jail {
public:
    enum class Resolver {
        automatic, // openat2 when the kernel has it, else walk
        openat2,
        walk,      // O_NOFOLLOW per component (forced by tests)
    };

    // The root must be an existing directory; it is made canonical and opened once.
    static Expected<Jail> open(const std::filesystem::path& root, Resolver resolver = Resolver::automatic);

    const std::filesystem::path& root() const noexcept { return root_; }
    // openat2 or walk: what `automatic` chose.
    Resolver resolver() const noexcept { return resolver_; }

    // Opens what `virtual_path` (normalized, absolute) names with `flags` (O_RDONLY, O_PATH,
    // O_DIRECTORY, ...; O_CLOEXEC and O_NOCTTY are added). A last segment that is a symlink is
    // followed only if it stays inside (openat2); for RETR, SIZE, CWD, LIST, HASH, ...
    Expected<FileDescriptor> open_path(std::string_view virtual_path, int flags) const;
    // The entry itself, not what a symlink there points to: its parent directory opened inside
    // the jail and its name. The root has no parent: an error.
    Expected<JailEntry> open_parent(std::string_view virtual_path) const;
    // STOR, APPE: the file opened or created in its parent with `flags` | O_CREAT | O_NOFOLLOW, so
    // a symlink at the last segment (dangling or not) fails with ELOOP instead of being written
    // through.
    Expected<FileDescriptor> create_file(std::string_view virtual_path, int flags, mode_t mode = 0644) const;
    // REST n then STOR or APPE: as create_file, but only a file that exists (ENOENT otherwise),
    // since a restart continues a file and never starts one.
    Expected<FileDescriptor> open_existing_file(std::string_view virtual_path, int flags) const;

private:
    Jail(std::filesystem::path root, FileDescriptor root_fd, Resolver resolver)
        : root_(std::move(root)), root_fd_(std::move(root_fd)), resolver_(resolver) {}

    Expected<FileDescriptor> open_relative(const std::string& relative, int flags) const;
    Expected<FileDescriptor> open_in_parent(std::string_view virtual_path, int flags, mode_t mode) const;

    std::filesystem::path root_;
    FileDescriptor root_fd_; // O_PATH | O_DIRECTORY
    Resolver resolver_;
};

} // namespace rsexec::server
