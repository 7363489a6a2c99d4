#include "copy_progress.hpp"

#include <iostream>

#include <fmt/core.h>
#include <unistd.h>

#include "batch_report.hpp"
#include "client/progress_line.hpp"

namespace rsexec::cli {
namespace {

BatchEvent event_of(BatchEvent::Kind kind, const JobItem& item) {
    BatchEvent event{};
    event.kind = kind;
    event.index = 0;
    event.item = &item;
    return event;
}

} // namespace

CopyProgress::CopyProgress(Output output, JobItem item) : output_(output), item_(std::move(item)) {}

void CopyProgress::begin() {
    if (output_ != Output::json) return;
    auto start = event_of(BatchEvent::Kind::start, item_);
    start.attempt = 1;
    std::cout << json_event_line(start) << '\n' << std::flush;
}

void CopyProgress::started(std::optional<std::uint64_t> total, std::uint64_t resumed_from) {
    const auto now = Clock::now();
    meter_.emplace(total, resumed_from, now);
    if (resumed_from > 0 && output_ != Output::json) {
        clear();
        std::cerr << fmt::format("rsexec: resuming from byte {}{}\n", resumed_from,
                                 total ? fmt::format(" of {}", *total) : std::string());
    }
}

void CopyProgress::progress(std::uint64_t bytes) {
    const auto now = Clock::now();
    if (!meter_) meter_.emplace(std::nullopt, 0, now);
    meter_->record(bytes, now);
    measured_ = true;
    if (output_ == Output::terminal) {
        if (pace_.draw_now(now)) draw(now);
        return;
    }
    auto event = event_of(BatchEvent::Kind::progress, item_);
    event.bytes = bytes;
    event.progress = meter_->at(now);
    (output_ == Output::json ? std::cout : std::cerr) << json_event_line(event) << '\n' << std::flush;
}

void CopyProgress::tick() {
    const auto now = Clock::now();
    // Nothing until the first poll: a copy shorter than a second shows no line at all.
    if (output_ == Output::terminal && measured_ && pace_.overdue(now) && pace_.draw_now(now)) draw(now);
}

void CopyProgress::draw(Clock::time_point now) {
    if (!meter_) return;
    const auto columns = terminal_columns(STDERR_FILENO);
    std::cerr << "\r\033[K" << fit_to_width(transfer_line(meter_->at(now)), columns ? columns : 200) << std::flush;
    shown_ = true;
}

void CopyProgress::clear() {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
}

void CopyProgress::finish(const Expected<CopyResult>& outcome, Clock::duration elapsed) {
    clear();
    if (output_ != Output::json) return;
    BatchSummary summary;
    summary.elapsed = elapsed;
    summary.logins = 2;
    summary.peak_per_host = item_.source.authority() == item_.destination.authority() ? 2 : 1;
    BatchEvent event = event_of(BatchEvent::Kind::done, item_);
    event.attempt = 1;
    if (outcome) {
        ++summary.done;
        summary.bytes = outcome->bytes.value_or(0);
        event.result = *outcome;
    } else {
        const bool interrupted = outcome.error().is(Errc::interrupted);
        ++(interrupted ? summary.interrupted : summary.failed);
        event.kind = interrupted ? BatchEvent::Kind::interrupted : BatchEvent::Kind::failed;
        event.error = outcome.error();
    }
    std::cout << json_event_line(event) << '\n' << json_summary_line(summary) << '\n' << std::flush;
}

} // namespace rsexec::cli
