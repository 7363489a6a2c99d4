#pragma once
// A signal's request to stop (SIGINT, SIGTERM), as the copy sees it: the transfer's waits race
// it, and when it comes both servers are sent ABOR and the temporary file is dealt with before
// the copy returns, instead of the process dying with half a file on the destination.
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace rsexec {

class Interruption {
public:
    explicit Interruption(asio::any_io_executor executor)
        : timer_(std::move(executor), asio::steady_timer::time_point::max()) {}

    // `why` names the signal ("SIGINT"). Later calls change nothing.
    void trigger(std::string why) {
        if (triggered_) return;
        triggered_ = true;
        why_ = std::move(why);
        timer_.cancel();
    }
    bool triggered() const noexcept { return triggered_; }
    const std::string& why() const noexcept { return why_; }

    // Completes once triggered (at once when it already was); race it against the work.
    asio::awaitable<void> wait() {
        while (!triggered_) {
            auto [ec] = co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            // Cancelled by trigger(), or the race was lost and this wait is being cancelled.
            if (ec) co_return;
        }
    }

private:
    asio::steady_timer timer_;
    bool triggered_ = false;
    std::string why_;
};

} // namespace rsexec
