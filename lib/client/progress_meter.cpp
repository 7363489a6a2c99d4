#include "client/progress_meter.hpp"

#include <algorithm>

namespace rsexec {
namespace {

double seconds_of(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// A sample older than this is no longer news: the rate is measured up to `now`, so that a
// transfer that stopped growing shows its rate falling rather than frozen.
constexpr Clock::duration stale_after = std::chrono::seconds(2);

} // namespace

std::optional<double> TransferProgress::percent() const {
    if (!total) return std::nullopt;
    if (*total == 0) return 100.0;
    return std::min(100.0, 100.0 * static_cast<double>(bytes) / static_cast<double>(*total));
}

ProgressMeter::ProgressMeter(std::optional<std::uint64_t> total, std::uint64_t resumed_from, Clock::time_point start)
    : total_(total), resumed_from_(resumed_from) {
    samples_.emplace_back(start, resumed_from);
}

void ProgressMeter::record(std::uint64_t bytes, Clock::time_point now) {
    bytes = std::max(bytes, samples_.back().second);
    now = std::max(now, samples_.back().first);
    samples_.emplace_back(now, bytes);
    // The oldest sample kept is the newest one at least `window` old: the rate spans the window.
    while (samples_.size() > 2 && now - samples_[1].first >= window) samples_.pop_front();
}

TransferProgress ProgressMeter::at(Clock::time_point now) const {
    TransferProgress progress;
    progress.bytes = samples_.back().second;
    progress.total = total_;
    progress.resumed_from = resumed_from_;
    const auto& [first_time, first_bytes] = samples_.front();
    const auto& [last_time, last_bytes] = samples_.back();
    const auto end = now - last_time > stale_after ? std::max(now, last_time) : last_time;
    const double span = seconds_of(end - first_time);
    if (span > 0) progress.rate = static_cast<double>(last_bytes - first_bytes) / span;
    if (total_) {
        const std::uint64_t left = *total_ > progress.bytes ? *total_ - progress.bytes : 0;
        if (left == 0) progress.eta = 0.0;
        else if (progress.rate > 0) progress.eta = static_cast<double>(left) / progress.rate;
    }
    return progress;
}

} // namespace rsexec
