// Claiming items from the journal, handing back those not started.
#include "batch_state.hpp"

namespace rsexec {

// Claims the next chunk of items from the journal; false when it has none now.
bool BatchRun::State::claim_more() {
    if (exhausted) return false;
    auto claimed = journal->claim(chunk);
    if (!claimed) {
        journal_failed(claimed.error());
        exhausted = true;
        return false;
    }
    if (claimed->empty()) {
        exhausted = true;
        return false;
    }
    for (auto& claim : *claimed) {
        Entry entry{std::move(claim.item), claim.id, claim.seq, claim.earlier_claims};
        restore(entry.item, entry.seq);
        const std::size_t index = next_entry++;
        ready.push_back(index);
        entries.emplace(index, std::move(entry));
    }
    return true;
}

// The next item to work on, if it `fits`.
std::optional<std::size_t> BatchRun::State::take(const std::function<bool(std::size_t)>& fits) {
    if (stopping) return std::nullopt;
    if (ready.empty() && !claim_more()) return std::nullopt;
    if (fits && !fits(ready.front())) return std::nullopt;
    const std::size_t index = ready.front();
    ready.pop_front();
    return index;
}

// Claimed items not started go back to the journal: when the run ends (a next run then finds
// them unstarted, fit for a pipeline), and with a shared journal when a worker here is about
// to spend long on one large file, so that workers elsewhere take them; this process then
// claims one at a time until a pipeline finishes a file again.
void BatchRun::State::release_unstarted() {
    if (ready.empty()) return;
    std::vector<std::int64_t> ids;
    for (const auto index : ready) ids.push_back(entries.at(index).id);
    if (auto released = journal->release(ids); !released) {
        journal_failed(released.error());
        return;
    }
    for (const auto index : ready) entries.erase(index);
    ready.clear();
    exhausted = false;
}

void BatchRun::State::give_back_unstarted() {
    if (!journal->shared()) return;
    chunk = 1;
    release_unstarted();
}

// With a shared journal, nothing to claim now may mean items other workers hold: wait and
// look again while any are running (a worker that stops renewing its lease loses them).
asio::awaitable<bool> BatchRun::State::more_may_come() {
    if (!journal->shared() || stopping) co_return false;
    auto unfinished = journal->unfinished();
    if (!unfinished) {
        journal_failed(unfinished.error());
        co_return false;
    }
    if (!*unfinished) co_return false;
    asio::steady_timer timer(executor, std::min<Clock::duration>(std::chrono::seconds(1), journal->lease() / 4));
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    exhausted = false;
    co_return true;
}

} // namespace rsexec
