#include "rsexec/connection_limiter.hpp"

#include <algorithm>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace rsexec {

ConnectionLimiter::ConnectionLimiter(asio::any_io_executor executor, unsigned limit)
    : limit_(limit), changed_(executor, asio::steady_timer::time_point::max()) {}

asio::awaitable<void> ConnectionLimiter::acquire(const std::string& server) {
    while (limit_ != 0 && open_[server] >= limit_)
        co_await changed_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    peak_ = std::max(peak_, ++open_[server]);
}

void ConnectionLimiter::release(const std::string& server) {
    auto it = open_.find(server);
    if (it == open_.end() || it->second == 0) return;
    --it->second;
    changed_.cancel();
}

unsigned ConnectionLimiter::open_to(const std::string& server) const {
    const auto it = open_.find(server);
    return it == open_.end() ? 0 : it->second;
}

} // namespace rsexec
