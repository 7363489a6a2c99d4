#include "ftp/reply.hpp"

namespace rsexec {

std::string Reply::text() const {
    std::string out;
    for (const auto& line : lines) {
        if (!out.empty()) out += '\n';
        out += line;
    }
    return out;
}

std::string Reply::message() const {
    if (lines.empty()) return {};
    const std::string& last = lines.back();
    return last.size() > 4 ? last.substr(4) : std::string{};
}

} // namespace rsexec
