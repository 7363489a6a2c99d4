// Outcomes: recorded in the journal (in chunks when shared), then announced as events.
#include "batch_state.hpp"

#include "ftp/exit_code.hpp"

namespace rsexec {

// Outcomes go to the journal before they are announced, so that what a run reports done is
// done in the journal however the run ends. A shared journal takes them in chunks (at most
// 100 ms or 64 items apart): one round trip for many files.
void BatchRun::State::record(
    std::size_t index, ItemState state, int attempts, std::uint64_t bytes, std::string error, BatchEvent announcement) {
    unreported.push_back({entries.at(index).id, state, bytes, attempts, without_passwords(entries.at(index).item, std::move(error))});
    if (state == ItemState::failed && announcement.error)
        unreported.back().exit_code = static_cast<int>(exit_code_for(*announcement.error));
    unreported.back().relayed = announcement.result ? announcement.result->relayed
                                                    : state == ItemState::failed && entries.at(index).relayed;
    unannounced.push_back(std::move(announcement));
    unannounced_index.push_back(index);
    if (!journal->shared() || unreported.size() >= 64) flush();
}

void BatchRun::State::flush() {
    if (unreported.empty()) return;
    if (auto reported = journal->report(unreported); !reported) {
        journal_failed(reported.error());
        return;  // kept: the next flush tries again
    }
    unreported.clear();
    for (auto& announcement : unannounced) emit(std::move(announcement));
    unannounced.clear();
    // Settled for this run (an interrupted item is pending again, for the next one): its entry
    // goes, so that a run keeps the items in hand rather than every item of the job.
    for (const auto index : unannounced_index) entries.erase(index);
    unannounced_index.clear();
}

// Flushes outcomes every 100 ms and renews a shared journal's lease, until the run ends.
asio::awaitable<void> BatchRun::State::keep_journal() {
    auto renewed = Clock::now();
    const auto renew_every = std::chrono::duration_cast<Clock::duration>(journal->lease() / 3);
    while (!finished) {
        keeper.expires_after(std::chrono::milliseconds(100));
        co_await keeper.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        flush();
        if (journal->shared() && Clock::now() - renewed >= renew_every) {
            if (auto done = journal->renew_lease(); !done) journal_failed(done.error());
            renewed = Clock::now();
        }
    }
}

void BatchRun::State::succeeded(std::size_t index, int attempt, const CopyResult& result) {
    ++summary.done;
    summary.bytes += result.bytes.value_or(0);
    auto done = event(BatchEvent::Kind::done, index, attempt);
    done.result = result;
    // The journal keeps the file's size: a resumed copy moved only the rest.
    record(index, ItemState::done, attempt, result.bytes.value_or(0) + result.resumed_from, {}, std::move(done));
}

void BatchRun::State::kept(std::size_t index, int attempt, SkipReason reason) {
    ++summary.skipped;
    auto skipped = event(BatchEvent::Kind::skipped, index, attempt);
    skipped.skip_reason = reason;
    record(index, ItemState::done, attempt, 0, std::string("skipped: ") + skip_reason_name(reason), std::move(skipped));
}

void BatchRun::State::interrupted(std::size_t index, int attempt, const Error& error) {
    ++summary.interrupted;
    auto stopped = event(BatchEvent::Kind::interrupted, index, attempt);
    stopped.error = error;
    record(index, ItemState::pending, attempt, 0, "interrupted", std::move(stopped));
}

} // namespace rsexec
