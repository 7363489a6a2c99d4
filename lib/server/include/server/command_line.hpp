#pragma once
// Framing the control connection into command lines (RFC 959 4.1: "VERB arg" ended by CRLF).
// Fed whatever bytes arrived; yields whole lines. Bounded: a line longer than the limit is
// reported once as too long and its bytes are dropped up to the next LF, so memory never grows
// with what a client sends. Telnet commands (IAC IP, IAC DM, which clients send before ABOR as
// RFC 959 4.1.3 asks) are removed; a lone LF ends a line as well as CRLF.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rsexec::server {

struct CommandLine {
    std::string text;       // without CR LF and Telnet commands
    bool too_long = false;  // the line exceeded the limit; text is empty
};

class CommandFramer {
public:
    explicit CommandFramer(std::size_t max_line = 4096) : max_line_(max_line) {}

    // Takes all of `data`. Call next() until it returns nullopt before feeding more, so the
    // buffer holds at most one line plus one chunk.
    void feed(std::string_view data) { buffer_.append(data); }
    std::optional<CommandLine> next();
    // Bytes of a line whose end has not come yet (after next() returned nullopt).
    bool holds_partial_line() const noexcept { return !buffer_.empty() || discarding_; }
    // Drops everything buffered (AUTH TLS: bytes that came before the handshake); how many.
    std::size_t discard() {
        const auto dropped = buffer_.size();
        buffer_.clear();
        discarding_ = false;
        return dropped;
    }

private:
    std::size_t max_line_;
    std::string buffer_;
    bool discarding_ = false; // inside a too-long line, waiting for its LF
};

// RFC 854: removes "IAC x" (and "IAC WILL/WONT/DO/DONT opt") sequences; "IAC IAC" is a 0xFF byte.
std::string strip_telnet(std::string_view line);

} // namespace rsexec::server
