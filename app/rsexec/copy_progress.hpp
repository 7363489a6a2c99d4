#pragma once
// What `rsexec copy` shows while the bytes move. At a terminal (stderr), one live line (bytes,
// percent, rate, time left), redrawn at most 10 times and at least once a second; otherwise
// `progress` events, one JSON object per line: on stdout with --json, among the run's other
// events (start, done, error, interrupted, summary: the batch's vocabulary), else on stderr,
// so that stdout keeps the one line scripts read.
#include <cstdint>
#include <optional>

#include "client/progress_meter.hpp"
#include "client/progress_pace.hpp"
#include "client/transfer.hpp"
#include "ftp/job_file.hpp"

namespace rsexec::cli {

class CopyProgress {
public:
    enum class Output {
        json,           // --json: every event on stdout
        events_stderr,  // stderr is no terminal: progress events there
        terminal,       // the live line on stderr
    };
    CopyProgress(Output output, JobItem item);

    Output output() const noexcept { return output_; }

    // The copy begins (json: the start event).
    void begin();
    // The transfer commands go out: the source's size and a resumed transfer's offset.
    void started(std::optional<std::uint64_t> total, std::uint64_t resumed_from);
    // The copy's size, as the stall watch reads it.
    void progress(std::uint64_t bytes);
    // The ticker's call: redraws a line that has gone a second unchanged.
    void tick();
    // The copy is over: the live line is cleared; json: its outcome and the summary.
    void finish(const Expected<CopyResult>& outcome, Clock::duration elapsed);

private:
    void draw(Clock::time_point now);
    void clear();

    Output output_;
    JobItem item_;
    std::optional<ProgressMeter> meter_;
    ProgressPace pace_;
    bool measured_ = false;  // a poll has told the copy's size
    bool shown_ = false;
};

} // namespace rsexec::cli
