#pragma once
// How many files a block-mode pipeline keeps in flight: the bandwidth-delay product. A file is
// in flight from its RETR/STOR to their final replies, at least one control round trip; to keep
// the data connection busy through that round trip, the window holds what the pair finishes in
// one round trip, with headroom (files/s x RTT x headroom), bounded by a count and by bytes.
// While the window itself is what binds, the pair finishes a window per round trip, in a burst
// at the servers' pace: the rate is counted over that burst, so the window reaches the servers'
// pace within a round trip or two rather than doubling each round trip (as TCP's slow start
// does), and stays there. Pure arithmetic on the samples and times it is
// given: tested without a clock or a network.
#include <cstdint>
#include <deque>
#include <optional>

#include "ftp/deadline.hpp"

namespace rsexec {

struct WindowLimits {
    unsigned min_files = 16;                     // never fewer (the window before any measurement)
    unsigned max_files = 512;                    // never more: the items a pair holds, the servers' queues
    std::uint64_t min_bytes = 8u << 20;          // bytes in flight beyond the first file
    std::uint64_t max_bytes = 64u << 20;         // the memory bound
    double headroom = 2.0;                       // round trips of work in flight
    Clock::duration rate_span = std::chrono::seconds(1);  // the most the rate is measured over
};

struct Window {
    unsigned files = 16;
    std::uint64_t bytes = 8u << 20;
};

class WindowSize {
public:
    explicit WindowSize(WindowLimits limits = {});

    // One command's time from its write to its reply. The smallest seen is the round trip: a
    // reply that queued behind others' work says more about the queue than about the path.
    void round_trip(Clock::duration sample);
    // The first transfer went out: the rate is measured from here.
    void started(Clock::time_point now);
    // A file finished (renamed), of `bytes`.
    void completed(std::uint64_t bytes, Clock::time_point now);

    Window at(Clock::time_point now) const;

    std::optional<Clock::duration> rtt() const { return rtt_; }
    // Files and bytes finished per second over the last round trip (or since started, if later),
    // or over the burst they finished in, when that was shorter.
    double files_per_second(Clock::time_point now) const;
    double bytes_per_second(Clock::time_point now) const;

private:
    double span_seconds(Clock::time_point now) const;
    double pace(Clock::time_point now, bool in_bytes) const;
    void forget_before(Clock::time_point now);

    WindowLimits limits_;
    std::optional<Clock::duration> rtt_;
    std::optional<Clock::time_point> started_;
    std::deque<std::pair<Clock::time_point, std::uint64_t>> done_;  // oldest first
};

} // namespace rsexec
