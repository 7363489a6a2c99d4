#include "jobs/connection_limiter.hpp"

#include <algorithm>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "jobs/journal.hpp"

namespace rsexec {

ConnectionLimiter::ConnectionLimiter(asio::any_io_executor executor, unsigned limit)
    : limit_(limit), changed_(executor, asio::steady_timer::time_point::max()) {}

void ConnectionLimiter::share(Journal& journal, unsigned limit) {
    journal_ = &journal;
    limit_ = limit;
}

asio::awaitable<void> ConnectionLimiter::acquire(const std::string& server) {
    while (limit_ != 0 && open_[server] >= limit_)
        co_await changed_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    peak_ = std::max(peak_, ++open_[server]);
    // The fleet's slots: another worker's release is seen only by asking again, a little later
    // each time (up to a second). A journal that cannot answer does not stop the batch.
    auto wait = std::chrono::milliseconds(20);
    while (journal_) {
        auto acquired = journal_->acquire_connection(server, limit_);
        if (!acquired || *acquired) break;
        asio::steady_timer timer(changed_.get_executor(), wait);
        co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(1));
    }
}

bool ConnectionLimiter::try_acquire(const std::string& server) {
    if (limit_ != 0 && open_[server] >= limit_) return false;
    if (journal_) {
        auto acquired = journal_->acquire_connection(server, limit_);
        if (acquired && !*acquired) return false;
    }
    peak_ = std::max(peak_, ++open_[server]);
    return true;
}

void ConnectionLimiter::release(const std::string& server) {
    auto it = open_.find(server);
    if (it == open_.end() || it->second == 0) return;
    --it->second;
    if (journal_) (void)journal_->release_connection(server);
    changed_.cancel();
}

unsigned ConnectionLimiter::open_to(const std::string& server) const {
    const auto it = open_.find(server);
    return it == open_.end() ? 0 : it->second;
}

} // namespace rsexec
