#pragma once
// How far one transfer has come, from samples of the copy's size: the bytes, the rate over the
// last few seconds and the time left. Pure arithmetic on the times it is given, so that it is
// tested without a clock or a network; the samples come from the stall watch's SIZE polls.
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "ftp/deadline.hpp"

namespace rsexec {

struct TransferProgress {
    std::uint64_t bytes = 0;                // the copy's size so far (a resumed one's included)
    std::optional<std::uint64_t> total{};   // the source's size, when its SIZE answered
    std::uint64_t resumed_from = 0;         // where a resumed transfer began
    double rate = 0;                        // bytes per second over the last few seconds
    std::optional<double> eta{};            // seconds left; unknown without a total or a rate

    // 0 to 100; unknown without a total. An empty file is complete.
    std::optional<double> percent() const;
};

class ProgressMeter {
public:
    // The rate is measured over this much of the newest samples.
    static constexpr Clock::duration window = std::chrono::seconds(5);

    ProgressMeter(std::optional<std::uint64_t> total, std::uint64_t resumed_from, Clock::time_point start);

    // The copy's size at `now`; a size smaller than the last one is taken as the last one.
    void record(std::uint64_t bytes, Clock::time_point now);

    TransferProgress at(Clock::time_point now) const;

private:
    std::optional<std::uint64_t> total_;
    std::uint64_t resumed_from_;
    std::deque<std::pair<Clock::time_point, std::uint64_t>> samples_;  // oldest first
};

} // namespace rsexec
