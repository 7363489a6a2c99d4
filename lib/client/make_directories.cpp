#include "client/make_directories.hpp"

#include "client/path_kind.hpp"

namespace rsexec {

std::string parent_directory(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const auto slash = trimmed.rfind('/');
    if (slash == std::string::npos) return "";
    if (slash == 0) return "/";
    return trimmed.substr(0, slash);
}

asio::awaitable<Status> make_directories(ControlSession& session, const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    if (trimmed.empty() || trimmed == "/" || trimmed == ".") co_return success();
    for (std::size_t end = 0; end != std::string::npos;) {
        end = trimmed.find('/', end + 1);
        const std::string prefix = trimmed.substr(0, end);
        if (prefix.empty() || prefix == "/" || prefix.back() == '/') continue;
        auto made = co_await session.command("MKD", prefix);
        if (!made) co_return made.error();
        if (made->completion()) continue;
        if (made->code == 521 || made->code == 550) {
            auto there = co_await is_directory(session, prefix);
            if (!there) co_return there.error();
            if (*there) continue;
        }
        co_return session.refused("MKD " + prefix, *made);
    }
    co_return success();
}

} // namespace rsexec
