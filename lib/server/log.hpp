#pragma once
// rsexecd's log: one line per event on stderr, with a level. The Logger is a value owned by
// whoever runs the server and passed by reference; there is no global sink.
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace rsexec::server {

enum class LogLevel { error, warning, info, debug };

// "error", "warning", "info", "debug"; nullopt-like false when the name is unknown.
bool parse_log_level(std::string_view name, LogLevel& level);

class Logger {
public:
    explicit Logger(LogLevel level = LogLevel::info, std::FILE* sink = stderr) : level_(level), sink_(sink) {}

    bool enabled(LogLevel level) const noexcept { return level <= level_; }

    template <class... Args>
    void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
        if (enabled(level)) write(level, fmt::format(format, std::forward<Args>(args)...));
    }
    template <class... Args>
    void error(fmt::format_string<Args...> format, Args&&... args) {
        log(LogLevel::error, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void warning(fmt::format_string<Args...> format, Args&&... args) {
        log(LogLevel::warning, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void info(fmt::format_string<Args...> format, Args&&... args) {
        log(LogLevel::info, format, std::forward<Args>(args)...);
    }
    template <class... Args>
    void debug(fmt::format_string<Args...> format, Args&&... args) {
        log(LogLevel::debug, format, std::forward<Args>(args)...);
    }

private:
    // One write per line, so lines of concurrent sessions never interleave.
    void write(LogLevel level, const std::string& message);

    LogLevel level_;
    std::FILE* sink_;
};

} // namespace rsexec::server
