#include "client/window_size.hpp"

#include <algorithm>
#include <cmath>

namespace rsexec {
namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The rate follows the last round trip's completions, so that a window that binds grows by its
// headroom each round trip; never over less than 10 ms (at no delay a few files would make the
// rate), nor more than the limit's span. A rate measured high costs only memory, which the
// bounds keep; one measured low costs speed.
Clock::duration rate_span(const WindowLimits& limits, std::optional<Clock::duration> rtt) {
    const Clock::duration floor = std::chrono::milliseconds(10);
    const Clock::duration wanted = rtt ? std::max(*rtt, floor) : limits.rate_span;
    return std::min(wanted, limits.rate_span);
}

} // namespace

WindowSize::WindowSize(WindowLimits limits) : limits_(limits) {
    limits_.max_files = std::max(limits_.max_files, limits_.min_files);
    limits_.max_bytes = std::max(limits_.max_bytes, limits_.min_bytes);
}

void WindowSize::round_trip(Clock::duration sample) {
    if (sample < Clock::duration::zero()) return;
    if (!rtt_ || sample < *rtt_) rtt_ = sample;
}

void WindowSize::started(Clock::time_point now) {
    if (!started_) started_ = now;
}

void WindowSize::completed(std::uint64_t bytes, Clock::time_point now) {
    started(now);
    done_.emplace_back(now, bytes);
    forget_before(now);
}

void WindowSize::forget_before(Clock::time_point now) {
    const auto oldest = now - rate_span(limits_, rtt_);
    while (!done_.empty() && done_.front().first < oldest) done_.pop_front();
}

// The time the rate is measured over: the span, or since the first transfer went out when that
// is more recent; never less than a round trip (no file finishes sooner after the first start).
double WindowSize::span_seconds(Clock::time_point now) const {
    Clock::duration span = rate_span(limits_, rtt_);
    if (started_) span = std::min(span, now - *started_);
    if (rtt_) span = std::max(span, *rtt_);
    return seconds(span);
}

// While the window is what binds, a window's files finish together, as fast as the servers go,
// and then nothing until the next window has come round: counted over the round trip, the rate
// is the window's, and the window only doubles each round trip. Counted over the burst (from
// the first file finished in the span), it is the servers' pace, which the window then covers in
// one round trip. Only a burst of half the floor's files or more says so, and it is counted over at
// least an eighth of a round trip and a millisecond: replies read in one chunk carry nearly one
// time, which says nothing of the servers' pace.
double WindowSize::pace(Clock::time_point now, bool in_bytes) const {
    double span = span_seconds(now);
    if (span <= 0) return 0;
    const auto oldest = now - rate_span(limits_, rtt_);
    std::size_t files = 0;
    double bytes = 0;
    std::optional<Clock::time_point> first;
    for (const auto& [when, size] : done_) {
        if (when < oldest || when > now) continue;
        if (!first) first = when;
        ++files;
        bytes += static_cast<double>(size);
    }
    if (rtt_ && first && 2 * files >= limits_.min_files) {
        const double floor = std::max(seconds(*rtt_) / 8, 0.001);
        span = std::min(span, std::max(seconds(now - *first), floor));
    }
    return (in_bytes ? bytes : static_cast<double>(files)) / span;
}

double WindowSize::files_per_second(Clock::time_point now) const { return pace(now, false); }

double WindowSize::bytes_per_second(Clock::time_point now) const { return pace(now, true); }

Window WindowSize::at(Clock::time_point now) const {
    Window window{limits_.min_files, limits_.min_bytes};
    if (!rtt_) return window;
    const double rtt = seconds(*rtt_);
    const double files = std::ceil(files_per_second(now) * rtt * limits_.headroom);
    const double bytes = std::ceil(bytes_per_second(now) * rtt * limits_.headroom);
    window.files = static_cast<unsigned>(
        std::clamp(files, static_cast<double>(limits_.min_files), static_cast<double>(limits_.max_files)));
    window.bytes = static_cast<std::uint64_t>(
        std::clamp(bytes, static_cast<double>(limits_.min_bytes), static_cast<double>(limits_.max_bytes)));
    return window;
}

} // namespace rsexec
