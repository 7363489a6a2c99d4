#include "rsexec/file_size.hpp"

#include <charconv>

namespace rsexec {

asio::awaitable<Expected<std::optional<std::uint64_t>>> size_of(ControlSession& session, const std::string& path) {
    auto reply = co_await session.command("SIZE", path);
    if (!reply) co_return reply.error();
    if (reply->code == 213) {
        const auto text = reply->message();
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
        if (ec == std::errc{} && (end == text.data() + text.size() || *end == ' ' || *end == '\r'))
            co_return std::optional<std::uint64_t>(size);
        co_return std::optional<std::uint64_t>();
    }
    if (reply->code == 500 || reply->code == 502 || reply->code == 504) co_return std::optional<std::uint64_t>();
    co_return session.refused("SIZE " + path, *reply);
}

} // namespace rsexec
