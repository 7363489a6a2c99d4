// The buffered pump: one bounded buffer between two ends, for TLS data connections (whose
// records are decrypted and encrypted again here) and for a digest of the stream.
#include "client/byte_pump.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <unistd.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>
#include <openssl/evp.h>

#include "client/relay_plan.hpp"

namespace rsexec {
namespace {

constexpr auto as_value = asio::experimental::as_tuple(asio::use_awaitable);

struct DigestContext {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
    DigestContext() { EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr); }
    void update(const char* data, std::size_t size) { EVP_DigestUpdate(context.get(), data, size); }
    std::string hex() {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_DigestFinal_ex(context.get(), digest, &length);
        static const char digits[] = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < length; ++i) {
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 15];
        }
        return out;
    }
};

// Reads what the end has, up to `size`; 0 at its end of file.
asio::awaitable<Expected<std::size_t>> read_some(PumpEnd& end, char* data, std::size_t size, Clock::duration limit) {
    if (end.file >= 0) {
        for (;;) {
            const ssize_t n = ::read(end.file, data, size);
            if (n >= 0) co_return static_cast<std::size_t>(n);
            if (errno == EINTR) continue;
            co_return Error(Errc::transfer_failed, "reading " + end.name + ": " + std::strerror(errno), end.side);
        }
    }
    auto reading = [&]() -> asio::awaitable<std::tuple<std::error_code, std::size_t>> {
        if (end.tls) co_return co_await end.tls->async_read_some(asio::buffer(data, size), as_value);
        co_return co_await end.socket->async_read_some(asio::buffer(data, size), as_value);
    };
    auto read = co_await within(limit, reading());
    if (!read) co_return Error(Errc::timeout, end.name + ": no data for the whole timeout", end.side);
    auto [ec, n] = *read;
    // A TLS peer that closes without close_notify (stream_truncated) is taken as the end of the
    // file: the sizes and the server's 226 still decide whether the copy is whole.
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return std::size_t{0};
    if (ec) co_return Error(Errc::transfer_failed, "reading " + end.name + ": " + ec.message(), end.side);
    co_return n;
}

asio::awaitable<Status> write_all(PumpEnd& end, const char* data, std::size_t size, Clock::duration limit) {
    if (end.file >= 0) {
        while (size > 0) {
            const ssize_t n = ::write(end.file, data, size);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) co_return Error(Errc::transfer_failed, "writing " + end.name + ": " + std::strerror(errno), end.side);
            data += n;
            size -= static_cast<std::size_t>(n);
        }
        co_return success();
    }
    // The whole buffer within the limit: a peer that takes nothing for that long has stalled.
    auto writing = [&]() -> asio::awaitable<std::error_code> {
        if (end.tls) {
            auto [ec, n] = co_await asio::async_write(*end.tls, asio::buffer(data, size), as_value);
            co_return ec;
        }
        auto [ec, n] = co_await asio::async_write(*end.socket, asio::buffer(data, size), as_value);
        co_return ec;
    };
    auto written = co_await within(limit, writing());
    if (!written) co_return Error(Errc::timeout, end.name + ": takes no data for the whole timeout", end.side);
    if (*written) co_return Error(Errc::transfer_failed, "writing " + end.name + ": " + written->message(), end.side);
    co_return success();
}

} // namespace

// The receiving end is told the file has ended: close_notify under TLS (RFC 4217 12.6: a data
// connection's end is its TLS closure), then the TCP FIN.
asio::awaitable<void> finish_sending(PumpEnd& end, Clock::duration limit) {
    if (!end.socket) co_return;
    if (end.tls) {
        auto shutting = [&]() -> asio::awaitable<std::error_code> {
            auto [ec] = co_await end.tls->async_shutdown(as_value);
            co_return ec;
        };
        (void)co_await within(std::min<Clock::duration>(limit, std::chrono::seconds(5)), shutting());
    }
    std::error_code ignored;
    end.socket->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    end.socket->close(ignored);
}

asio::awaitable<Expected<PumpResult>> pump_buffered(PumpEnd& from, PumpEnd& to, const PumpOptions& options) {
    std::vector<char> buffer(std::clamp<std::size_t>(options.buffer_bytes, 4096, relay_buffer_bytes));
    std::optional<DigestContext> digest;
    if (options.digest) digest.emplace();
    PumpResult result;
    auto last_told = Clock::now();
    for (;;) {
        auto n = co_await read_some(from, buffer.data(), buffer.size(), options.stall_limit);
        if (!n) co_return n.error();
        if (*n == 0) break;
        if (digest) digest->update(buffer.data(), *n);
        if (auto written = co_await write_all(to, buffer.data(), *n, options.stall_limit); !written)
            co_return written.error();
        result.bytes += *n;
        if (options.progress && Clock::now() - last_told > std::chrono::milliseconds(250)) {
            last_told = Clock::now();
            options.progress(result.bytes);
        }
    }
    co_await finish_sending(to, options.stall_limit);
    if (digest) result.sha256 = digest->hex();
    if (options.progress) options.progress(result.bytes);
    co_return result;
}

} // namespace rsexec
