#include "client/file_size.hpp"

#include <charconv>

namespace rsexec {

Expected<std::optional<std::uint64_t>> size_from_reply(const ControlSession& session, std::string_view path,
                                                       const Reply& reply) {
    if (reply.code == 213) {
        const auto text = reply.message();
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
        if (ec == std::errc{} && (end == text.data() + text.size() || *end == ' ' || *end == '\r'))
            return std::optional<std::uint64_t>(size);
        return std::optional<std::uint64_t>();
    }
    if (reply.code == 500 || reply.code == 502 || reply.code == 504) return std::optional<std::uint64_t>();
    return session.refused("SIZE " + std::string(path), reply);
}

asio::awaitable<Expected<std::optional<std::uint64_t>>> size_of(ControlSession& session, const std::string& path) {
    auto reply = co_await session.command("SIZE", path);
    if (!reply) co_return reply.error();
    co_return size_from_reply(session, path, *reply);
}

} // namespace rsexec
