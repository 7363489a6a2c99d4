#include "jobs/batch_progress.hpp"

#include <cmath>

namespace rsexec {

BatchProgress::BatchProgress(std::size_t files_total, std::optional<std::uint64_t> bytes_total,
                             Clock::time_point start)
    : files_total_(files_total), bytes_total_(bytes_total), meter_(std::nullopt, 0, start) {}

std::uint64_t BatchProgress::moved() const {
    std::uint64_t bytes = finished_bytes_;
    for (const auto& [index, running] : running_) bytes += running.moved;
    return bytes;
}

void BatchProgress::on_event(const BatchEvent& event, Clock::time_point now) {
    using Kind = BatchEvent::Kind;
    switch (event.kind) {
    case Kind::start:
        running_[event.index] = Running{};
        if (event.item) running_[event.index].name = event.item->source.file_name();
        break;
    case Kind::progress: {
        auto& running = running_[event.index];
        if (running.name.empty() && event.item) running.name = event.item->source.file_name();
        const TransferProgress progress = event.progress.value_or(TransferProgress{event.bytes});
        running.size = progress.bytes;
        running.moved = progress.bytes > progress.resumed_from ? progress.bytes - progress.resumed_from : 0;
        running.total = progress.total;
        running.measured = true;
        break;
    }
    case Kind::done:
        ++files_done_;
        if (event.result) {
            finished_bytes_ += event.result->bytes.value_or(0);
            known_sizes_ += event.result->bytes.value_or(0) + event.result->resumed_from;
            ++known_count_;
        }
        running_.erase(event.index);
        break;
    case Kind::skipped:
    case Kind::failed:
        ++files_done_;
        running_.erase(event.index);
        break;
    case Kind::retry:
    case Kind::interrupted: running_.erase(event.index); break;
    }
    meter_.record(moved(), now);
}

BatchStatus BatchProgress::status(Clock::time_point now) const {
    BatchStatus status;
    status.files_done = files_done_;
    status.files_total = files_total_;
    status.bytes = moved();
    status.rate = meter_.at(now).rate;
    if (bytes_total_) {
        status.bytes_total = bytes_total_;
    } else {
        // The files not seen yet are taken to be of the average size of those seen.
        std::uint64_t sizes = known_sizes_;
        std::size_t count = known_count_;
        for (const auto& [index, running] : running_)
            if (running.total) sizes += *running.total, ++count;
        const std::size_t accounted = files_done_ + (count - known_count_);
        const std::size_t unseen = files_total_ > accounted ? files_total_ - accounted : 0;
        if (count > 0) {
            const double average = static_cast<double>(sizes) / static_cast<double>(count);
            status.bytes_total = sizes + static_cast<std::uint64_t>(std::llround(average * static_cast<double>(unseen)));
            status.bytes_total_estimated = unseen > 0;
        }
    }
    if (status.bytes_total) {
        const std::uint64_t left = *status.bytes_total > status.bytes ? *status.bytes_total - status.bytes : 0;
        if (left == 0 && files_done_ >= files_total_) status.eta = 0.0;
        else if (status.rate > 0) status.eta = static_cast<double>(left) / status.rate;
    }
    // The largest transfer under way: the one a person waits for.
    const Running* largest = nullptr;
    for (const auto& [index, running] : running_) {
        if (!running.measured) continue;
        const auto weight = running.total.value_or(running.size);
        if (!largest || weight > largest->total.value_or(largest->size)) largest = &running;
    }
    if (largest) {
        TransferProgress own{largest->size, largest->total};
        status.current = BatchStatus::Current{largest->name, largest->size, own.percent()};
    }
    return status;
}

} // namespace rsexec
