#pragma once
// The one status line a person watches at a terminal: for a copy, its bytes, percent, rate and
// time left; for a batch or mirror, files and bytes done of all, the rate, the time left and the
// largest transfer under way with its own percent. Text only: the caller draws it ("\r" and
// erase-line) and decides how often (progress_pace.hpp).
#include <cstdint>
#include <optional>
#include <string>

#include "client/progress_meter.hpp"

namespace rsexec {

// "12.3 MiB / 100.0 MiB  12%  4.1 MiB/s  ETA 21s"; without a total, no percent and "ETA --".
std::string transfer_line(const TransferProgress& progress);

struct BatchStatus {
    std::size_t files_done = 0;            // done, skipped or failed
    std::size_t files_total = 0;
    std::uint64_t bytes = 0;               // finished files' bytes and the running transfers' so far
    std::optional<std::uint64_t> bytes_total;
    bool bytes_total_estimated = false;    // from the sizes known so far: shown with "~"
    double rate = 0;                       // bytes per second over the last few seconds
    std::optional<double> eta;
    struct Current {
        std::string name;
        std::uint64_t bytes = 0;
        std::optional<double> percent;
    };
    std::optional<Current> current;        // the largest transfer under way
};

// "[3/10 files  1.2 GiB / ~4.0 GiB  110.5 MiB/s  ETA 25s]  big.iso 1.0 GiB 45%"
std::string batch_status_line(const BatchStatus& status);

// The line cut to `columns` characters (a terminal's width), so that "\r" returns to its start.
std::string fit_to_width(std::string line, std::size_t columns);

} // namespace rsexec
