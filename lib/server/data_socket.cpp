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
    // TLS writes a record (16 KiB and a header) at a time, less than loopback's MSS: without
    // TCP_NODELAY, Nagle holds every such write until the last one is acknowledged.
    std::error_code option_ec;
    plain_->set_option(asio::ip::tcp::no_delay(true), option_ec);
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
    if (!tls_) co_return co_await plain_->async_read_some(buffer, use_tuple);
    if (deferred_) co_return std::tuple<std::error_code, std::size_t>(std::exchange(deferred_, {}), 0);
    // (No structured bindings here: they would live across co_await, which GCC 12 mishandles.)
    const auto first = co_await tls_->async_read_some(buffer, use_tuple);
    const std::error_code ec = std::get<0>(first);
    std::size_t n = std::get<1>(first);
    // Read on while decrypted bytes are buffered or raw bytes wait in the socket: those reads
    // complete without the peer doing anything more (at worst the rest of a record in flight).
    while (!ec && n < buffer.size()) {
        std::error_code available_ec;
        const auto raw = tls_->next_layer().available(available_ec);
        if (SSL_pending(tls_->native_handle()) <= 0 && (available_ec || raw == 0)) break;
        const auto more = co_await tls_->async_read_some(buffer + n, use_tuple);
        n += std::get<1>(more);
        if (std::get<0>(more)) {
            deferred_ = std::get<0>(more);
            break;
        }
    }
    co_return std::tuple<std::error_code, std::size_t>(ec, n);
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
