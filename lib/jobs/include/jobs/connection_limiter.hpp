#pragma once
// Caps the control connections open to one server at a time across all batch workers: FTP
// servers limit connections per client address, and a batch must stay under that limit. With a
// shared journal the count is the whole fleet's, kept in the database.
#include <map>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

namespace rsexec {

class Journal;

class ConnectionLimiter {
public:
    // `limit` 0 means no limit.
    ConnectionLimiter(asio::any_io_executor executor, unsigned limit);

    // From now on also counts in `journal`, against `limit` (0: none) for every worker there.
    void share(Journal& journal, unsigned limit);

    // Waits until a connection to `server` ("host:port") may be opened, and counts it.
    asio::awaitable<void> acquire(const std::string& server);
    // The same without waiting: false when no connection to `server` may be opened now.
    bool try_acquire(const std::string& server);
    void release(const std::string& server);

    unsigned open_to(const std::string& server) const;
    unsigned peak() const noexcept { return peak_; }

private:
    unsigned limit_;
    Journal* journal_ = nullptr;
    std::map<std::string, unsigned> open_;
    unsigned peak_ = 0;
    // Waiters sleep on this timer; a release cancels it to wake them all to look again.
    asio::steady_timer changed_;
};

} // namespace rsexec
