#pragma once
// An FTP reply (RFC 959 4.2): a three-digit code and one or more lines of text.
#include <string>
#include <vector>

namespace rsexec {

struct Reply {
    int code = 0;
    std::vector<std::string> lines; // as received, without the line ending

    // RFC 959 4.2.1: the first digit says how the command went.
    bool preliminary() const noexcept { return code / 100 == 1; }
    bool completion() const noexcept { return code / 100 == 2; }
    bool intermediate() const noexcept { return code / 100 == 3; }
    bool transient_negative() const noexcept { return code / 100 == 4; }
    bool permanent_negative() const noexcept { return code / 100 == 5; }

    // The reply as one string, lines joined by '\n'.
    std::string text() const;
    // The last line without its code: "Transfer complete" of "226 Transfer complete".
    std::string message() const;
};

} // namespace rsexec
