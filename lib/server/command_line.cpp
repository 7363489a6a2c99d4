#include "server/command_line.hpp"

#include <algorithm>

namespace rsexec::server {

std::optional<CommandLine> CommandFramer::next() {
    const auto lf = buffer_.find('\n');
    if (discarding_) {
        if (lf == std::string::npos) {
            buffer_.clear();
            return std::nullopt;
        }
        buffer_.erase(0, lf + 1);
        discarding_ = false;
        return next();
    }
    if (lf == std::string::npos) {
        if (buffer_.size() <= max_line_) return std::nullopt;
        buffer_.clear();
        discarding_ = true;
        return CommandLine{{}, true};
    }
    if (lf > max_line_) {
        buffer_.erase(0, lf + 1);
        return CommandLine{{}, true};
    }
    std::string_view line(buffer_.data(), lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    CommandLine out{strip_telnet(line), false};
    // A bare CR or a NUL inside a line (RFC 854: CR NUL is a bare CR, NUL a no-op) has no place in
    // a path or a verb, and echoed back in a reply a CR would split it.
    std::erase_if(out.text, [](char c) { return c == '\r' || c == '\0'; });
    buffer_.erase(0, lf + 1);
    return out;
}

std::string strip_telnet(std::string_view line) {
    constexpr unsigned char iac = 255;
    std::string out;
    out.reserve(line.size());
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c != iac) {
            out += line[i];
            continue;
        }
        if (i + 1 >= line.size()) break;
        const auto command = static_cast<unsigned char>(line[++i]);
        if (command == iac) out += line[i];
        else if (command >= 251 && command <= 254) ++i; // WILL, WONT, DO, DONT take an option byte
    }
    return out;
}

} // namespace rsexec::server
