#include "server/transfer.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "server/block_mode.hpp"

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Bytes handed to sendfile(2) per call, and read per chunk on the receiving side.
constexpr std::size_t send_chunk = 4 * 1024 * 1024;
constexpr std::size_t receive_chunk = 256 * 1024;
// Bytes read from the file and written through TLS at a time (PROT P, no sendfile(2)).
constexpr std::size_t tls_chunk = 256 * 1024;
// Block mode: a file this small (from its offset) is framed in memory and sent with one send(2).
constexpr std::size_t small_file = 16 * 1024;

Error stalled() { return Error(Errc::timeout, "data connection stalled"); }

Error file_error(const char* what) { return Error(std::error_code(errno, std::generic_category()), what); }

bool peer_gone(int error) { return error == EPIPE || error == ECONNRESET || error == ENOTCONN; }

Error peer_closed() { return Error(std::error_code(errno, std::system_category()), "data connection closed by peer"); }

Status write_all(int fd, std::span<const char> data) {
    while (!data.empty()) {
        const auto written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return file_error("cannot write the file");
        }
        data = data.subspan(static_cast<std::size_t>(written));
    }
    return success();
}

// RFC 8446 6.1: a TLS connection closed without close_notify may have been cut short.
Error read_failed(const std::error_code& ec) {
    if (ec == asio::ssl::error::stream_truncated)
        return Error(ec, "data connection closed without TLS close_notify (truncated)");
    return Error(ec, "data connection failed");
}

// pread(2) of up to `buffer.size()` bytes at `offset`; 0 at the end of the file.
ssize_t read_at(int fd, std::span<char> buffer, off_t offset) {
    for (;;) {
        const auto n = ::pread(fd, buffer.data(), buffer.size(), offset);
        if (n >= 0 || errno != EINTR) return n;
    }
}

asio::awaitable<Status> send_file_tls(DataSocket& socket, const SendFile& plan, Progress& progress,
                                      Clock::duration stall) {
    std::vector<char> buffer(tls_chunk);
    auto offset = static_cast<off_t>(plan.offset);
    for (;;) {
        const auto n = read_at(plan.file.get(), std::span<char>(buffer), offset);
        if (n < 0) co_return file_error("cannot read the file");
        if (n == 0) co_return success();
        auto sent = co_await within(stall, socket.write(asio::buffer(buffer.data(), static_cast<std::size_t>(n))));
        if (!sent) co_return stalled();
        if (auto [ec, written] = *sent; ec) co_return Error(ec, "data connection failed");
        offset += n;
        progress.bytes += static_cast<std::uint64_t>(n);
    }
}

// Block mode through TLS: blocks of up to 65535 bytes framed in memory, about 256 KiB a write.
asio::awaitable<Status> send_file_blocks_tls(DataSocket& socket, const SendFile& plan, Progress& progress,
                                             Clock::duration stall) {
    struct ::stat st {};
    if (::fstat(plan.file.get(), &st) != 0) co_return file_error("cannot read the file");
    const auto end = static_cast<off_t>(st.st_size);
    constexpr std::size_t blocks_per_write = tls_chunk / block::max_count;
    std::vector<char> buffer(blocks_per_write * (block::header_size + block::max_count) + block::header_size);
    auto offset = static_cast<off_t>(plan.offset);
    bool last = false;
    while (!last) {
        std::size_t used = 0;
        for (std::size_t n = 0; n < blocks_per_write && !last; ++n) {
            const auto count = static_cast<std::size_t>(std::min<off_t>(end - offset, block::max_count));
            last = count == 0;
            if (last) {
                const auto header = block::encode_header(block::end_of_file, 0);
                std::memcpy(buffer.data() + used, header.data(), header.size());
                used += header.size();
                break;
            }
            const auto got = read_at(plan.file.get(), std::span<char>(buffer.data() + used + block::header_size, count),
                                     offset);
            if (got < 0) co_return file_error("cannot read the file");
            if (got == 0) {
                errno = EIO;
                co_return file_error("the file shrank while being sent");
            }
            const auto header = block::encode_header(0, static_cast<std::uint16_t>(got));
            std::memcpy(buffer.data() + used, header.data(), header.size());
            used += header.size() + static_cast<std::size_t>(got);
            offset += got;
        }
        auto sent = co_await within(stall, socket.write(asio::buffer(buffer.data(), used)));
        if (!sent) co_return stalled();
        if (auto [ec, written] = *sent; ec) co_return Error(ec, "data connection failed");
        progress.bytes = static_cast<std::uint64_t>(offset) - plan.offset;
    }
    co_return success();
}

// Block mode, a file of at most `small_file` bytes from `offset` to `end`: its block and the EOF
// block framed in memory and sent with one send(2), where the general path takes a cork, two
// headers, a sendfile and an uncork: five system calls for a 4 KiB file.
asio::awaitable<Status> send_small_file_blocks(asio::ip::tcp::socket& socket, int file, off_t offset, off_t end,
                                               Progress& progress, Clock::duration stall) {
    const auto count = static_cast<std::size_t>(end - offset);
    const auto framed = std::make_unique_for_overwrite<char[]>(count + 2 * block::header_size);
    std::size_t used = 0;
    if (count > 0) {
        const auto header = block::encode_header(0, static_cast<std::uint16_t>(count));
        std::memcpy(framed.get(), header.data(), header.size());
        used = header.size();
        for (std::size_t got = 0; got < count;) {
            const auto n = read_at(file, std::span<char>(framed.get() + used + got, count - got),
                                   offset + static_cast<off_t>(got));
            if (n < 0) co_return file_error("cannot read the file");
            if (n == 0) {
                errno = EIO;
                co_return file_error("the file shrank while being sent");
            }
            got += static_cast<std::size_t>(n);
        }
        used += count;
    }
    const auto eof = block::encode_header(block::end_of_file, 0);
    std::memcpy(framed.get() + used, eof.data(), eof.size());
    used += eof.size();
    std::size_t sent_bytes = 0;
    for (;;) {
        const auto sent = ::send(socket.native_handle(), framed.get() + sent_bytes, used - sent_bytes,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent >= 0) {
            sent_bytes += static_cast<std::size_t>(sent);
            if (sent_bytes == used) break;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            if (peer_gone(errno)) co_return peer_closed();
            co_return Error(std::error_code(errno, std::system_category()), "data connection failed");
        }
        // A full send buffer: wait, as the general path does (this also lets ABOR, STAT in).
        auto ready = co_await within(stall, socket.async_wait(asio::socket_base::wait_write, use_tuple));
        if (!ready) co_return stalled();
        if (auto [wait_ec] = *ready; wait_ec) co_return Error(wait_ec, "data connection failed");
    }
    progress.bytes += count;
    co_return success();
}

} // namespace

asio::awaitable<Status> send_file(DataSocket& data, const SendFile& plan, Progress& progress,
                                  Clock::duration stall) {
    if (data.is_tls()) co_return co_await send_file_tls(data, plan, progress, stall);
    auto& socket = data.tcp();
    std::error_code ec;
    socket.native_non_blocking(true, ec);
    if (ec) co_return Error(ec, "cannot make the data socket non-blocking");
    auto offset = static_cast<off_t>(plan.offset);
    for (;;) {
        // Waiting before each burst also gives the control connection its turn (ABOR, STAT).
        auto ready = co_await within(stall, socket.async_wait(asio::socket_base::wait_write, use_tuple));
        if (!ready) co_return stalled();
        if (auto [wait_ec] = *ready; wait_ec) co_return Error(wait_ec, "data connection failed");
        for (std::size_t burst = 0; burst < 4; ++burst) {
            const auto sent = ::sendfile(socket.native_handle(), plan.file.get(), &offset, send_chunk);
            if (sent > 0) {
                progress.bytes += static_cast<std::uint64_t>(sent);
                continue;
            }
            if (sent == 0) co_return success(); // end of file
            if (errno == EAGAIN || errno == EINTR) break;
            // EPIPE, ECONNRESET: the peer went away; EIO and friends: the file.
            if (peer_gone(errno)) co_return peer_closed();
            co_return file_error("cannot read the file");
        }
    }
}

asio::awaitable<Status> receive_file(DataSocket& socket, const ReceiveFile& plan, Progress& progress,
                                     Clock::duration stall) {
    // Not zeroed: a small file touches a page or two of it, not all 256 KiB.
    const auto buffer = std::make_unique_for_overwrite<char[]>(receive_chunk);
    for (;;) {
        auto got = co_await within(stall, socket.read_some(asio::buffer(buffer.get(), receive_chunk)));
        if (!got) co_return stalled();
        auto [ec, n] = *got;
        if (ec == asio::error::eof) co_return success();
        if (ec) co_return read_failed(ec);
        if (auto written = write_all(plan.file.get(), std::span<const char>(buffer.get(), n)); !written)
            co_return written;
        progress.bytes += n;
    }
}

asio::awaitable<Status> send_text(DataSocket& socket, const SendText& plan, Progress& progress,
                                  Clock::duration stall) {
    auto sent = co_await within(stall, socket.write(asio::buffer(plan.text)));
    if (!sent) co_return stalled();
    auto [ec, n] = *sent;
    progress.bytes += n;
    if (ec) co_return Error(ec, "data connection failed");
    co_return success();
}

asio::awaitable<Status> send_file_blocks(DataSocket& data, const SendFile& plan, Progress& progress,
                                         Clock::duration stall) {
    if (data.is_tls()) co_return co_await send_file_blocks_tls(data, plan, progress, stall);
    auto& socket = data.tcp();
    struct ::stat st {};
    if (::fstat(plan.file.get(), &st) != 0) co_return file_error("cannot read the file");
    if (st.st_size >= static_cast<off_t>(plan.offset) &&
        st.st_size - static_cast<off_t>(plan.offset) <= static_cast<off_t>(small_file))
        co_return co_await send_small_file_blocks(socket, plan.file.get(), static_cast<off_t>(plan.offset),
                                                  static_cast<off_t>(st.st_size), progress, stall);
    std::error_code ec;
    if (!socket.native_non_blocking()) socket.native_non_blocking(true, ec);  // kept across files: no ioctl each
    if (ec) co_return Error(ec, "cannot make the data socket non-blocking");
    // Corked: headers and data leave in full segments, not one push per 64 KiB block; the
    // EOF block uncorks.
    const int cork = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
    // The file as it is now: bytes appended meanwhile are not sent, a file that shrinks fails.
    const auto end = static_cast<off_t>(st.st_size);
    auto offset = static_cast<off_t>(plan.offset);
    block::Header header{};
    std::size_t header_sent = 0;
    std::size_t block_left = 0; // data bytes of the current block still to send
    bool last = false;          // the current block is the EOF block
    const auto next_block = [&] {
        const auto count = static_cast<std::size_t>(std::min<off_t>(end - offset, block::max_count));
        last = count == 0;
        header = block::encode_header(last ? block::end_of_file : 0, static_cast<std::uint16_t>(count));
        header_sent = 0;
        block_left = count;
    };
    next_block();
    for (;;) {
        // Waiting before each burst also gives the control connection its turn (ABOR, STAT).
        auto ready = co_await within(stall, socket.async_wait(asio::socket_base::wait_write, use_tuple));
        if (!ready) co_return stalled();
        if (auto [wait_ec] = *ready; wait_ec) co_return Error(wait_ec, "data connection failed");
        for (std::size_t burst = 0; burst < send_chunk * 4;) {
            if (header_sent < header.size()) {
                if (last) {
                    const int uncork = 0;
                    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &uncork, sizeof uncork);
                }
                const auto sent = ::send(socket.native_handle(), header.data() + header_sent,
                                         header.size() - header_sent, MSG_NOSIGNAL);
                if (sent >= 0) {
                    header_sent += static_cast<std::size_t>(sent);
                    continue;
                }
                if (errno == EAGAIN || errno == EINTR) break;
                if (peer_gone(errno)) co_return peer_closed();
                co_return Error(std::error_code(errno, std::system_category()), "data connection failed");
            }
            if (block_left > 0) {
                const auto sent = ::sendfile(socket.native_handle(), plan.file.get(), &offset, block_left);
                if (sent > 0) {
                    block_left -= static_cast<std::size_t>(sent);
                    burst += static_cast<std::size_t>(sent);
                    progress.bytes += static_cast<std::uint64_t>(sent);
                    continue;
                }
                if (sent == 0) {
                    errno = EIO;
                    co_return file_error("the file shrank while being sent");
                }
                if (errno == EAGAIN || errno == EINTR) break;
                if (peer_gone(errno)) co_return peer_closed();
                co_return file_error("cannot read the file");
            }
            if (last) co_return success();
            next_block();
        }
    }
}

asio::awaitable<Status> receive_file_blocks(DataSocket& socket, const ReceiveFile& plan,
                                            std::string& unread, Progress& progress, Clock::duration stall) {
    block::BlockDecoder decoder;
    // The file data of `input` moves down over the block headers it holds, to be written with
    // one write(2); what follows the EOF block goes back to `unread`.
    const auto take = [&](std::span<char> input) -> Status {
        char* const start = input.data();
        char* end = start;
        std::span<const char> rest(input.data(), input.size());
        while (!rest.empty() && !decoder.finished()) {
            const auto step = decoder.next(rest);
            if (!step.data.empty()) {
                std::memmove(end, step.data.data(), step.data.size());
                end += step.data.size();
            }
            rest = rest.subspan(step.consumed);
        }
        if (auto written = write_all(plan.file.get(), std::span<const char>(start, end)); !written) return written;
        progress.bytes += static_cast<std::uint64_t>(end - start);
        if (decoder.finished()) unread.assign(rest.data(), rest.size());
        return success();
    };
    std::string carried = std::exchange(unread, {});
    if (auto taken = take(std::span<char>(carried.data(), carried.size())); !taken) co_return taken;
    const auto buffer = std::make_unique_for_overwrite<char[]>(receive_chunk);  // not zeroed, as above
    while (!decoder.finished()) {
        auto got = co_await within(stall, socket.read_some(asio::buffer(buffer.get(), receive_chunk)));
        if (!got) co_return stalled();
        auto [ec, n] = *got;
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
            co_return Error(Errc::transfer_failed, decoder.truncation());
        if (ec) co_return read_failed(ec);
        if (auto taken = take(std::span<char>(buffer.get(), n)); !taken) co_return taken;
    }
    co_return success();
}

asio::awaitable<Status> send_text_blocks(DataSocket& socket, const SendText& plan, Progress& progress,
                                         Clock::duration stall) {
    const auto framed = block::frame(plan.text);
    auto sent = co_await within(stall, socket.write(asio::buffer(framed)));
    if (!sent) co_return stalled();
    auto [ec, n] = *sent;
    if (ec) co_return Error(ec, "data connection failed");
    progress.bytes += plan.text.size();
    co_return success();
}

} // namespace rsexec::server
