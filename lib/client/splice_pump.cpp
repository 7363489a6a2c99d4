// The zero-copy pump (Linux): splice(2) moves the bytes from the source's socket into a pipe and
// from the pipe to the destination's socket (or a file), all in the kernel. The sockets are
// non-blocking; when neither step can move a byte, Asio waits for the socket that holds things
// up to become readable or writable (async_wait), raced against the stall limit.
#include "client/byte_pump.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "client/relay_plan.hpp"

namespace rsexec {
namespace {

constexpr auto as_value = asio::experimental::as_tuple(asio::use_awaitable);

int descriptor(PumpEnd& end) { return end.file >= 0 ? end.file : end.socket->native_handle(); }

} // namespace

bool SplicePipe::open() {
    if (read_end_ >= 0) return true;
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    read_end_ = fds[0];
    write_end_ = fds[1];
#ifdef F_SETPIPE_SZ
    // The pipe is the transfer's whole buffer: relay_buffer_bytes where the kernel allows it
    // (/proc/sys/fs/pipe-max-size), else its default 64 KiB.
    (void)::fcntl(write_end_, F_SETPIPE_SZ, static_cast<int>(relay_buffer_bytes));
    const int capacity_or_error = ::fcntl(write_end_, F_GETPIPE_SZ);
    capacity_ = capacity_or_error > 0 ? static_cast<std::size_t>(capacity_or_error) : 65536;
#else
    capacity_ = 65536;
#endif
    return true;
}

void SplicePipe::close() noexcept {
    if (read_end_ >= 0) ::close(read_end_);
    if (write_end_ >= 0) ::close(write_end_);
    read_end_ = write_end_ = -1;
    capacity_ = 0;
}

bool splice_available() noexcept {
#ifdef __linux__
    return true;
#else
    return false;
#endif
}

asio::awaitable<Expected<PumpResult>> pump_splice(PumpEnd& from, PumpEnd& to, const PumpOptions& options) {
#ifndef __linux__
    co_return co_await pump_buffered(from, to, options);
#else
    using namespace asio::experimental::awaitable_operators;
    SplicePipe own_pipe;
    SplicePipe& pipe = options.pipe ? *options.pipe : own_pipe;
    if (!pipe.open()) co_return co_await pump_buffered(from, to, options);
    // Whatever ends the pump but its success may leave bytes in the pipe: the next one gets a new one.
    struct CloseUnlessEmptied {
        SplicePipe& pipe;
        bool emptied = false;
        ~CloseUnlessEmptied() {
            if (!emptied) pipe.close();
        }
    } guard{pipe};
    const std::size_t capacity = pipe.capacity();

    std::error_code ignored;
    if (from.socket) from.socket->native_non_blocking(true, ignored);
    if (to.socket) to.socket->native_non_blocking(true, ignored);
    const int in = descriptor(from);
    const int out = descriptor(to);

    PumpResult result;
    std::size_t in_pipe = 0;
    bool end_of_file = false;
    auto last_told = Clock::now();
    auto executor = co_await asio::this_coro::executor;
    for (;;) {
        bool moved = false;
        bool read_blocked = false;
        bool write_blocked = false;
        if (!end_of_file && in_pipe < capacity) {
            const ssize_t n = ::splice(in, nullptr, pipe.write_end(), nullptr, capacity - in_pipe,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                in_pipe += static_cast<std::size_t>(n);
                moved = true;
            } else if (n == 0) {
                end_of_file = true;
                moved = true;
            } else if (errno == EAGAIN) {
                read_blocked = true;
            } else if (errno == EINVAL && result.bytes == 0 && in_pipe == 0) {
                // These descriptors cannot be spliced (an unusual file system): the buffered
                // pump does the same work.
                co_return co_await pump_buffered(from, to, options);
            } else if (errno != EINTR) {
                co_return Error(Errc::transfer_failed, "reading " + from.name + ": " + std::strerror(errno), from.side);
            }
        }
        if (in_pipe > 0) {
            const ssize_t n = ::splice(pipe.read_end(), nullptr, out, nullptr, in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                in_pipe -= static_cast<std::size_t>(n);
                result.bytes += static_cast<std::uint64_t>(n);
                moved = true;
            } else if (n < 0 && errno == EAGAIN) {
                write_blocked = true;
            } else if (n < 0 && errno != EINTR) {
                co_return Error(Errc::transfer_failed, "writing " + to.name + ": " + std::strerror(errno), to.side);
            }
        }
        if (end_of_file && in_pipe == 0) break;
        if (options.progress && Clock::now() - last_told > std::chrono::milliseconds(250)) {
            last_told = Clock::now();
            options.progress(result.bytes);
        }
        if (moved) continue;

        // Nothing moved: wait for the socket that holds things up. Bytes already in the pipe go
        // out first (a pipe full of partly filled pages refuses more although the socket has
        // some: waiting for that socket would spin). A file end never blocks.
        const bool wait_write = write_blocked && to.socket;
        const bool wait_read = !write_blocked && read_blocked && from.socket;
        if (!wait_read && !wait_write) continue;
        asio::steady_timer timer(executor, options.stall_limit);
        if (wait_write) {
            auto first = co_await (to.socket->async_wait(asio::socket_base::wait_write, as_value) ||
                                   timer.async_wait(as_value));
            if (first.index() == 1)
                co_return Error(Errc::timeout, to.name + ": takes no data for the whole timeout", to.side);
        } else {
            auto first = co_await (from.socket->async_wait(asio::socket_base::wait_read, as_value) ||
                                   timer.async_wait(as_value));
            if (first.index() == 1)
                co_return Error(Errc::timeout, from.name + ": no data for the whole timeout", from.side);
        }
    }
    guard.emptied = true;
    if (from.socket) from.socket->native_non_blocking(false, ignored);
    co_await finish_sending(to, options.stall_limit);
    if (options.progress) options.progress(result.bytes);
    co_return result;
#endif
}

} // namespace rsexec
