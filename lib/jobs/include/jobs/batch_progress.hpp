#pragma once
// A batch's or mirror's progress as one status line shows it, from the run's events: files
// done of all, bytes moved (the finished files' and the running transfers' so far, which the
// stall watch reads with SIZE: a 2 GiB file counts while it moves, not only once done), the
// rate, the time left, and the largest transfer under way. Pure: times are given.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "client/progress_line.hpp"
#include "client/progress_meter.hpp"
#include "jobs/batch.hpp"

namespace rsexec {

class BatchProgress {
public:
    // `bytes_total`: the job's size when known beforehand (a mirror's listing); otherwise it is
    // estimated from the sizes seen so far.
    BatchProgress(std::size_t files_total, std::optional<std::uint64_t> bytes_total, Clock::time_point start);

    void on_event(const BatchEvent& event, Clock::time_point now);
    BatchStatus status(Clock::time_point now) const;

private:
    struct Running {
        std::string name;
        std::uint64_t moved = 0;               // bytes this attempt moved so far
        std::uint64_t size = 0;                // the copy's size so far
        std::optional<std::uint64_t> total{};
        bool measured = false;                 // a progress event came
    };
    std::uint64_t moved() const;

    std::size_t files_total_;
    std::size_t files_done_ = 0;
    std::optional<std::uint64_t> bytes_total_;
    std::uint64_t finished_bytes_ = 0;         // moved by the finished files
    std::uint64_t known_sizes_ = 0;            // the finished files' sizes, for the estimate
    std::size_t known_count_ = 0;
    std::map<std::size_t, Running> running_;
    ProgressMeter meter_;                      // over all the bytes moved: the rate
};

} // namespace rsexec
