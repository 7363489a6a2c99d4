// libFuzzer target: rsexecd's path resolution. The input is "cwd\nargument" (no newline: the
// argument alone, from "/"). virtual_path must give a normalized absolute path or refuse; the
// jail then opens it in a small tree of its own holding links that stay inside and links that
// leave (absolute, relative, dangling), with both resolvers; every descriptor it returns must
// name something inside the root, as /proc/self/fd shows.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include "require.hpp"

#include "server/jail.hpp"

namespace {

namespace fs = std::filesystem;
using rsexec::server::Jail;

struct Tree {
    fs::path base;
    fs::path root;
    Tree() {
        char pattern[] = "/tmp/rsexec-fuzz-jail-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) std::abort();
        base = pattern;
        root = base / "root";
        fs::create_directories(root / "a" / "b");
        fs::create_directories(base / "outside");
        std::ofstream(root / "a" / "f") << "f";
        std::ofstream(base / "outside" / "s") << "s";
        fs::create_directory_symlink(base / "outside", root / "o");
        fs::create_symlink("../outside/s", root / "u");
        fs::create_symlink("../../outside", root / "a" / "uu");
        fs::create_symlink("../f", root / "a" / "b" / "in");
        fs::create_symlink("b", root / "a" / "l");
        fs::create_symlink(base / "outside" / "new", root / "d");
        fs::create_symlink("loop", root / "loop");
        root = fs::canonical(root);
    }
    ~Tree() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
};

const Tree& tree() {
    static const Tree instance;
    return instance;
}

// The path the kernel has for an open descriptor.
std::string path_of(int fd) {
    std::error_code ec;
    return fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec).string();
}

bool inside(const std::string& path) {
    const std::string root = tree().root.string();
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            path[root.size()] == '/');
}

void check_normalized(std::string_view path) {
    require(!path.empty() && path.front() == '/');
    require(path == "/" || path.back() != '/');
    require(path.find("//") == std::string_view::npos);
    require(path.find('\0') == std::string_view::npos);
    std::size_t start = 1;
    while (start < path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const auto segment = path.substr(start, end - start);
        require(segment != "." && segment != "..");
        start = end + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto cwd_text = newline == std::string_view::npos ? std::string_view("/") : input.substr(0, newline);
    const auto argument = newline == std::string_view::npos ? input : input.substr(newline + 1);
    // The session's cwd is always a normalized path itself.
    const auto cwd = rsexec::server::virtual_path("/", cwd_text);
    if (!cwd) return 0;
    check_normalized(*cwd);
    const auto path = rsexec::server::virtual_path(*cwd, argument);
    if (!path) return 0;
    check_normalized(*path);
    // Normalizing twice changes nothing; an absolute argument does not depend on the cwd.
    const auto again = rsexec::server::virtual_path("/", *path);
    require(again && *again == *path);
    if (!argument.empty() && argument.front() == '/') {
        const auto from_root = rsexec::server::virtual_path("/", argument);
        require(from_root && *from_root == *path);
    }
    for (const auto resolver : {Jail::Resolver::openat2, Jail::Resolver::walk}) {
        static auto beneath = Jail::open(tree().root, Jail::Resolver::openat2);
        static auto walk = Jail::open(tree().root, Jail::Resolver::walk);
        require(beneath && walk);
        const Jail& jail = resolver == Jail::Resolver::openat2 ? *beneath : *walk;
        if (auto file = jail.open_path(*path, O_PATH)) require(inside(path_of(file->get())));
        if (auto entry = jail.open_parent(*path)) {
            require(inside(path_of(entry->directory.get())));
            require(!entry->name.empty() && entry->name.find('/') == std::string::npos);
        }
    }
    return 0;
}
