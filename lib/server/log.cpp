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

Logger::~Logger() {
    std::lock_guard lock(mutex_);
    sweep();
}

void Logger::write(LogLevel level, const std::string& message) {
    std::lock_guard lock(mutex_);
    if (Clock::now() - last_sweep_ >= repeat_window) sweep();
    if (level <= LogLevel::warning) {
        if (auto it = watched_.find(message); it != watched_.end()) {
            ++it->second.count;
            return;
        }
        if (watched_.size() < max_watched) watched_.emplace(message, Repeats{level});
    }
    emit(level, message);
}

void Logger::emit(LogLevel level, const std::string& message) {
    const std::string line = fmt::format("rsexecd {}: {}\n", level_name(level), message);
    std::fwrite(line.data(), 1, line.size(), sink_);
    std::fflush(sink_);
}

void Logger::sweep() {
    for (auto it = watched_.begin(); it != watched_.end();) {
        if (it->second.count == 0) {
            it = watched_.erase(it);
            continue;
        }
        // Still repeating: summarised now, and watched for one more window.
        emit(it->second.level, fmt::format("{} (repeated {} times)", it->first, it->second.count));
        it->second.count = 0;
        ++it;
    }
    last_sweep_ = Clock::now();
}

} // namespace rsexec::server
