// Retries: after a failed attempt, whether to try again and after how long.
#include "batch_state.hpp"

#include <asio/experimental/awaitable_operators.hpp>

namespace rsexec {

using namespace asio::experimental::awaitable_operators;

Clock::duration BatchRun::State::backoff_for(int attempt) {
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    const double factor = static_cast<double>(1u << std::min(attempt - 1, 10)) * jitter(random);
    return std::chrono::duration_cast<Clock::duration>(options.backoff * factor);
}

// After a failed attempt: whether to try again (after the backoff), or the item is settled.
asio::awaitable<bool> BatchRun::State::after_failure(std::size_t index, int attempt, const Error& error) {
    if (aborting) {
        interrupted(index, attempt, error);
        co_return false;
    }
    if (is_transient(error) && attempt <= static_cast<int>(options.retries) && !stopping) {
        const auto delay = backoff_for(attempt);
        auto retry = event(BatchEvent::Kind::retry, index, attempt);
        retry.error = error;
        retry.delay = delay;
        emit(std::move(retry));
        asio::steady_timer timer(executor, delay);
        co_await (timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) || abort_signal.wait());
        if (aborting) {
            interrupted(index, attempt, Error(Errc::interrupted, "aborted while waiting to retry"));
            co_return false;
        }
        co_return true;
    }
    ++summary.failed;
    auto failed = event(BatchEvent::Kind::failed, index, attempt);
    failed.error = error;
    record(index, ItemState::failed, attempt, 0, error.describe(), std::move(failed));
    co_return false;
}

} // namespace rsexec
