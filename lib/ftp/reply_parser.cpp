#include "ftp/reply_parser.hpp"

#include <utility>

namespace rsexec {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 959 4.2: three digits, the first 1-5 (RFC 438's 255 fits).
int parse_code(std::string_view line) {
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) return 0;
    if (line[0] < '1' || line[0] > '5') return 0;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

} // namespace

std::size_t ReplyParser::feed(std::string_view data) {
    std::size_t used = 0;
    while (used < data.size() && !ready_ && !error_) {
        const char c = data[used++];
        if (++bytes_ > limits_.max_bytes) {
            fail(Errc::reply_too_large, "reply longer than " + std::to_string(limits_.max_bytes) + " bytes");
            break;
        }
        if (c == '\n') {
            end_line();
            continue;
        }
        if (line_.size() >= limits_.max_line) {
            fail(Errc::reply_too_large, "reply line longer than " + std::to_string(limits_.max_line) + " bytes");
            break;
        }
        line_ += c;
    }
    return used;
}

void ReplyParser::end_line() {
    // Servers send CRLF (RFC 959); some send a bare LF.
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (reply_.lines.size() >= limits_.max_lines) {
        fail(Errc::reply_too_large, "reply of more than " + std::to_string(limits_.max_lines) + " lines");
        return;
    }
    std::string line = std::exchange(line_, {});
    if (reply_.lines.empty()) {
        const int code = parse_code(line);
        const bool separator_ok = line.size() == 3 || line[3] == ' ' || line[3] == '-';
        if (code == 0 || !separator_ok) {
            fail(Errc::malformed_reply, "malformed reply line: " + line.substr(0, 80));
            return;
        }
        reply_.code = code;
        ready_ = line.size() == 3 || line[3] == ' ';
    } else {
        // RFC 959 4.2: only "<same code><space>" closes a multi-line reply.
        ready_ = line.size() >= 4 && parse_code(line) == reply_.code && line[3] == ' ';
    }
    reply_.lines.push_back(std::move(line));
}

void ReplyParser::fail(Errc code, std::string message) { error_.emplace(code, std::move(message)); }

Reply ReplyParser::take() {
    Reply out = std::exchange(reply_, {});
    ready_ = false;
    bytes_ = 0;
    line_.clear();
    return out;
}

} // namespace rsexec
