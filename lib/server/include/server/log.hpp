#pragma once
// rsexecd's log: one line per event on stderr, with a level. The Logger is a value owned by
// whoever runs the server and passed by reference; there is no global sink.
// A warning or error repeated word for word (a flood of failed accepts, refused connections) is
// written once, then as one "(repeated N times)" line per second at most, so a flood cannot fill
// the disk.
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
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
    // Writes the counts of repeats not yet reported.
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

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

    // How often a repeated line is summarised, and how many distinct lines are watched for repeats.
    static constexpr std::chrono::seconds repeat_window{1};
    static constexpr std::size_t max_watched = 256;

private:
    using Clock = std::chrono::steady_clock;
    struct Repeats {
        LogLevel level;
        std::size_t count = 0; // since the line (or its last summary) was written
    };

    // One write per line, so lines of concurrent sessions never interleave.
    void write(LogLevel level, const std::string& message);
    void emit(LogLevel level, const std::string& message);
    // Summarises the repeats of the last window and forgets lines that were not repeated.
    void sweep();

    LogLevel level_;
    std::FILE* sink_;
    std::mutex mutex_; // the hashing pool's threads may log too
    std::map<std::string, Repeats, std::less<>> watched_;
    Clock::time_point last_sweep_ = Clock::now();
};

} // namespace rsexec::server
