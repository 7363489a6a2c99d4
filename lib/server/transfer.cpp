#include "server/transfer.hpp"

#include <vector>

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <sys/sendfile.h>

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Bytes handed to sendfile(2) per call, and read per chunk on the receiving side.
constexpr std::size_t send_chunk = 4 * 1024 * 1024;
constexpr std::size_t receive_chunk = 256 * 1024;

Error stalled() { return Error(Errc::timeout, "data connection stalled"); }

Error file_error(const char* what) { return Error(std::error_code(errno, std::generic_category()), what); }

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
            if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)
                co_return Error(std::error_code(errno, std::system_category()), "data connection closed by peer");
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
        for (std::size_t done = 0; done < n;) {
            const auto written = ::write(plan.file.get(), buffer.data() + done, n - done);
            if (written < 0) {
                if (errno == EINTR) continue;
                co_return file_error("cannot write the file");
            }
            done += static_cast<std::size_t>(written);
        }
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

} // namespace rsexec::server
