#pragma once
// Moves one file's bytes through rsexec: from a data connection (or a local file) to another
// data connection (or a local file), with bounded memory whatever the file's size. The relay
// and local copies use it; which of the two ways runs is relay_plan.hpp's choose_pump:
//   pump_buffered - reads into one buffer of buffer_bytes and writes it out (TLS, digest);
//   pump_splice   - splice(2) socket -> pipe -> socket in the kernel (splice_pump.cpp).
// Every wait is bounded by the stall limit: an end that neither gives nor takes a byte that
// long ends the pump with Errc::timeout, naming its side.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include "ftp/deadline.hpp"
#include "ftp/error.hpp"
#include "ftp/expected.hpp"
#include "client/relay_plan.hpp"

namespace rsexec {

// One end: a data connection (under TLS when `tls` is set), or a local file's descriptor.
struct PumpEnd {
    Side side = Side::source;
    asio::ip::tcp::socket* socket = nullptr;
    asio::ssl::stream<asio::ip::tcp::socket&>* tls = nullptr;
    int file = -1;
    std::string name;  // for messages: "src data connection", "/tmp/x"
};

// splice(2)'s pipe, which a caller may keep from one transfer to the next (a pipeline of small
// files): made once rather than per file. It is empty after a pump that succeeded; a pump that
// fails closes it (bytes may be left in it), and the next one makes a new one.
class SplicePipe {
public:
    SplicePipe() = default;
    SplicePipe(const SplicePipe&) = delete;
    SplicePipe& operator=(const SplicePipe&) = delete;
    ~SplicePipe() { close(); }
    // Makes the pipe when there is none, of relay_buffer_bytes where the kernel allows it; false
    // when no pipe can be made.
    bool open();
    void close() noexcept;
    int read_end() const noexcept { return read_end_; }
    int write_end() const noexcept { return write_end_; }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    int read_end_ = -1;
    int write_end_ = -1;
    std::size_t capacity_ = 0;
};

struct PumpOptions {
    Clock::duration stall_limit = std::chrono::seconds(30);
    // Told the bytes moved so far, at most a few times a second.
    std::function<void(std::uint64_t)> progress;
    bool digest = false;  // SHA-256 of the stream (pump_buffered only)
    SplicePipe* pipe = nullptr;  // pump_splice: the caller's pipe, kept between transfers
    std::size_t buffer_bytes = relay_buffer_bytes;  // pump_buffered's buffer
};

struct PumpResult {
    std::uint64_t bytes = 0;
    std::optional<std::string> sha256;  // hex, when asked for
};

// The ends are the caller's, named, and outlive the pump (GCC 12 mishandles class-type coroutine
// parameters passed by value).
asio::awaitable<Expected<PumpResult>> pump_buffered(PumpEnd& from, PumpEnd& to, const PumpOptions& options);

// Tells a receiving data connection the file has ended (close_notify under TLS, then FIN) and
// closes it; nothing for a file. Both pumps end with it.
asio::awaitable<void> finish_sending(PumpEnd& end, Clock::duration limit);

// Whether splice(2) exists here (Linux).
bool splice_available() noexcept;
// Neither end under TLS. A kernel that refuses splice for these
// descriptors (EINVAL before the first byte) makes it fall back to pump_buffered itself.
asio::awaitable<Expected<PumpResult>> pump_splice(PumpEnd& from, PumpEnd& to, const PumpOptions& options);

} // namespace rsexec
