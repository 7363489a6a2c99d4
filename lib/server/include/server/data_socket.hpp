#pragma once
// One data connection, clear or TLS-protected (RFC 4217 PROT P). Transfers read and write
// through it without knowing which; the TCP socket underneath stays reachable for waits,
// sendfile(2) on clear connections, ABOR and shutdown.
//
// A TLS data connection ends in stream mode with close_notify both ways (close_gracefully), so
// the receiver can tell the end of the file from a connection cut short: a receiver that sees
// the TCP connection close without close_notify fails the transfer.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include "ftp/deadline.hpp"
#include "ftp/expected.hpp"
#include "server/tls.hpp"

namespace rsexec::server {

class DataSocket {
public:
    explicit DataSocket(asio::ip::tcp::socket socket) : plain_(std::move(socket)) {}

    // The TLS handshake in `role`, within `timeout`; afterwards every read and write is TLS.
    asio::awaitable<Status> secure(asio::ssl::context& context, TlsRole role, Clock::duration timeout);

    bool is_tls() const noexcept { return tls_ != nullptr; }
    // "TLSv1.3" and the like once secured; empty on a clear connection.
    std::string tls_version() const;
    asio::ip::tcp::socket& tcp() { return tls_ ? tls_->next_layer() : *plain_; }

    // On TLS, one TLS record (16 KiB at most) is decrypted per read; records already arrived are
    // read on into `buffer` before returning, so a transfer does not pay a wait per 16 KiB. An
    // error met after some bytes is returned by the next call.
    asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buffer);
    // All of `buffer`, or an error.
    asio::awaitable<std::tuple<std::error_code, std::size_t>> write(asio::const_buffer buffer);

    // The end of a stream-mode transfer: on TLS, close_notify sent and the peer's awaited (within
    // `limit`), then the TCP close; a clear connection closes at once.
    asio::awaitable<void> close_gracefully(Clock::duration limit);
    // Closes at once (failures, ABOR, the end of a kept block-mode connection).
    void close();

private:
    std::optional<asio::ip::tcp::socket> plain_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> tls_;
    std::error_code deferred_; // read_some: the error behind the bytes last returned
};

} // namespace rsexec::server
