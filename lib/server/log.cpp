#include "server/log.hpp"

namespace rsexec::server {
namespace {

const char* level_name(LogLevel level) {
    switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warning: return "warning";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
    }
    return "?";
}

} // namespace

bool parse_log_level(std::string_view name, LogLevel& level) {
    for (auto candidate : {LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
        if (name == level_name(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

void Logger::write(LogLevel level, const std::string& message) {
    const std::string line = fmt::format("rsexecd {}: {}\n", level_name(level), message);
    std::fwrite(line.data(), 1, line.size(), sink_);
    std::fflush(sink_);
}

} // namespace rsexec::server
