#include "server/jail.hpp"

#include <vector>

namespace rsexec::server {
namespace {

Error refused(std::string_view path, const char* why) {
    return Error(std::make_error_code(std::errc::permission_denied),
                 std::string(why) + ": '" + std::string(path.substr(0, 200)) + "'");
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

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    auto r = root.begin();
    auto p = path.begin();
    for (; r != root.end(); ++r, ++p) {
        // A trailing "" segment (root written with a final '/') matches anything.
        if (r->empty() && std::next(r) == root.end()) return true;
        if (p == path.end() || *r != *p) return false;
    }
    return true;
}

Expected<Jail> Jail::open(const std::filesystem::path& root) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(root, ec);
    if (ec || !std::filesystem::is_directory(canonical, ec))
        return Error(ec ? ec : std::make_error_code(std::errc::not_a_directory),
                     "root is not a directory: " + root.string());
    return Jail(std::move(canonical));
}

Expected<std::filesystem::path> Jail::resolve(std::string_view virtual_path) const {
    if (virtual_path.empty() || virtual_path.front() != '/') return refused(virtual_path, "not a virtual path");
    if (virtual_path == "/") return root_;
    std::error_code ec;
    // weakly_canonical resolves every symlink of the existing prefix, so a link leading out of
    // the root shows here as a path outside it.
    auto real = std::filesystem::weakly_canonical(root_ / std::filesystem::path(virtual_path.substr(1)), ec);
    if (ec) return Error(ec, "cannot resolve '" + std::string(virtual_path) + "'");
    if (!is_inside(root_, real)) return refused(virtual_path, "path leaves the root");
    return real;
}

Expected<std::filesystem::path> Jail::resolve_entry(std::string_view virtual_path) const {
    if (virtual_path == "/") return root_;
    auto parent = resolve(virtual_parent(virtual_path));
    if (!parent) return parent;
    return *parent / virtual_name(virtual_path);
}

} // namespace rsexec::server
