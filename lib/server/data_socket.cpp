#include "server/data_socket.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <openssl/ssl.h>

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

} // namespace

asio::awaitable<Status> DataSocket::secure(asio::ssl::context& context, TlsRole role, Clock::duration timeout) {
    if (tls_ || !plain_) co_return success();
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(std::move(*plain_), context);
    plain_.reset();
    const auto type = role == TlsRole::server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client;
    auto shaken = co_await within(timeout, tls_->async_handshake(type, use_tuple));
    if (!shaken)
        co_return Error(Errc::timeout, "no TLS handshake within " +
                                           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                                           " ms (is the other end a TLS " +
                                           std::string(role == TlsRole::server ? "client" : "server") + "?)");
    if (auto [ec] = *shaken; ec) co_return Error(Errc::tls_failed, "TLS handshake failed: " + ec.message());
    co_return success();
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> DataSocket::read_some(asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->async_read_some(buffer, use_tuple);
    co_return co_await plain_->async_read_some(buffer, use_tuple);
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> DataSocket::write(asio::const_buffer buffer) {
    if (tls_) co_return co_await asio::async_write(*tls_, buffer, use_tuple);
    co_return co_await asio::async_write(*plain_, buffer, use_tuple);
}

asio::awaitable<void> DataSocket::close_gracefully(Clock::duration limit) {
    if (tls_) {
        // RFC 8446 6.1: close_notify marks the true end of the data, not the TCP close.
        auto closed = co_await within(limit, tls_->async_shutdown(use_tuple));
        (void)closed; // a peer that closes without close_notify, or never answers, is not our failure
    }
    close();
}

std::string DataSocket::tls_version() const {
    if (!tls_) return {};
    return SSL_get_version(tls_->native_handle());
}

void DataSocket::close() {
    std::error_code ec;
    auto& socket = tcp();
    socket.shutdown(asio::socket_base::shutdown_both, ec);
    socket.close(ec);
}

} // namespace rsexec::server
