#include "server/transfer.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
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

} // namespace

asio::awaitable<Status> send_file(asio::ip::tcp::socket& socket, const SendFile& plan, Progress& progress,
                                  Clock::duration stall) {
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

asio::awaitable<Status> receive_file(asio::ip::tcp::socket& socket, const ReceiveFile& plan, Progress& progress,
                                     Clock::duration stall) {
    std::vector<char> buffer(receive_chunk);
    for (;;) {
        auto got = co_await within(stall, socket.async_read_some(asio::buffer(buffer), use_tuple));
        if (!got) co_return stalled();
        auto [ec, n] = *got;
        if (ec == asio::error::eof) co_return success();
        if (ec) co_return Error(ec, "data connection failed");
        if (auto written = write_all(plan.file.get(), std::span<const char>(buffer.data(), n)); !written)
            co_return written;
        progress.bytes += n;
    }
}

asio::awaitable<Status> send_text(asio::ip::tcp::socket& socket, const SendText& plan, Progress& progress,
                                  Clock::duration stall) {
    auto sent = co_await within(stall, asio::async_write(socket, asio::buffer(plan.text), use_tuple));
    if (!sent) co_return stalled();
    auto [ec, n] = *sent;
    progress.bytes += n;
    if (ec) co_return Error(ec, "data connection failed");
    co_return success();
}

asio::awaitable<Status> send_file_blocks(asio::ip::tcp::socket& socket, const SendFile& plan, Progress& progress,
                                         Clock::duration stall) {
    std::error_code ec;
    socket.native_non_blocking(true, ec);
    if (ec) co_return Error(ec, "cannot make the data socket non-blocking");
    struct ::stat st {};
    if (::fstat(plan.file.get(), &st) != 0) co_return file_error("cannot read the file");
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

asio::awaitable<Status> receive_file_blocks(asio::ip::tcp::socket& socket, const ReceiveFile& plan,
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
    std::vector<char> buffer(receive_chunk);
    while (!decoder.finished()) {
        auto got = co_await within(stall, socket.async_read_some(asio::buffer(buffer), use_tuple));
        if (!got) co_return stalled();
        auto [ec, n] = *got;
        if (ec == asio::error::eof) co_return Error(Errc::transfer_failed, decoder.truncation());
        if (ec) co_return Error(ec, "data connection failed");
        if (auto taken = take(std::span<char>(buffer.data(), n)); !taken) co_return taken;
    }
    co_return success();
}

asio::awaitable<Status> send_text_blocks(asio::ip::tcp::socket& socket, const SendText& plan, Progress& progress,
                                         Clock::duration stall) {
    const auto framed = block::frame(plan.text);
    auto sent = co_await within(stall, asio::async_write(socket, asio::buffer(framed), use_tuple));
    if (!sent) co_return stalled();
    auto [ec, n] = *sent;
    if (ec) co_return Error(ec, "data connection failed");
    progress.bytes += plan.text.size();
    co_return success();
}

} // namespace rsexec::server
