#pragma once
// Every network wait has a deadline: race the operation against a steady_timer.
// The one header of lib/ftp that names Asio (a timer and coroutines, no networking): it serves
// the socket-side parts, client and server, which link Asio themselves.
// The operation must report failure as a value, not an exception: operator|| waits for the first
// *successful* branch, so a throwing operation would make the race last until the timer fires.
#include <chrono>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace rsexec {

using Clock = std::chrono::steady_clock;

// The operation's result, or nullopt when `limit` passed first (the operation is then cancelled).
// The timer's wait reports its cancellation as a value: with use_awaitable alone every operation
// that beats its deadline (nearly all) would throw and unwind an operation_aborted exception.
template <class T>
asio::awaitable<std::optional<T>> within(Clock::duration limit, asio::awaitable<T> operation) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto result =
        co_await (std::move(operation) || timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    if (result.index() == 0) co_return std::move(std::get<0>(result));
    co_return std::nullopt;
}

} // namespace rsexec
