#pragma once
// Incremental FTP reply parser (RFC 959 4.2). It is fed whatever bytes the socket delivered,
// in chunks of any size, and says when a whole reply has arrived. It owns no socket.
//
//   single line:  "226 Transfer complete\r\n"
//   multi-line:   "211-Features:\r\n MDTM\r\n211 End\r\n" - ends only on a line that repeats
//                 the opening code followed by a space; lines in between may start with anything.
//
// Every input is bounded: an over-long line, too many lines or too many bytes is an error.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/error.hpp"
#include "ftp/reply.hpp"

namespace rsexec {

struct ReplyLimits {
    std::size_t max_line = 8 * 1024;
    std::size_t max_bytes = 1024 * 1024;
    std::size_t max_lines = 1000;
};

class ReplyParser {
public:
    explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

    // Consumes bytes from `data` up to the end of the current reply (or the first error) and
    // returns how many it took; the caller keeps the rest for the next reply.
    std::size_t feed(std::string_view data);

    bool ready() const noexcept { return ready_; }
    bool failed() const noexcept { return error_.has_value(); }
    const Error& error() const { return *error_; }

    // The finished reply; the parser starts over for the next one.
    Reply take();

private:
    void end_line();
    void fail(Errc code, std::string message);

    ReplyLimits limits_;
    Reply reply_;
    std::string line_;
    std::size_t bytes_ = 0;
    bool ready_ = false;
    std::optional<Error> error_;
};

} // namespace rsexec
