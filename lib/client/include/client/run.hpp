#pragma once
// Runs one coroutine on an io_context to completion and returns its result: the bridge between
// a command-line program's main() and the library's awaitables.
#include <exception>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

namespace rsexec {

namespace detail {
template <class T>
asio::awaitable<void> store_result(asio::awaitable<T> work, std::optional<T>& out) {
    out.emplace(co_await std::move(work));
}
} // namespace detail

template <class T>
T run_to_completion(asio::io_context& io, asio::awaitable<T> work) {
    std::optional<T> result;
    asio::co_spawn(io, detail::store_result(std::move(work), result), [](std::exception_ptr failure) {
        if (failure) std::rethrow_exception(failure);
    });
    io.run();
    return std::move(*result);
}

} // namespace rsexec
