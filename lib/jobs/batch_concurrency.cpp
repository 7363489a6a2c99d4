// -j auto: how many of the workers work, paced by the ConcurrencyController.
#include "batch_state.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "ftp/connection_limit.hpp"

namespace rsexec {

using namespace asio::experimental::awaitable_operators;

unsigned BatchRun::State::plan_pairs(std::size_t to_do, unsigned max_per_host) {
    if (options.jobs != 0) {
        summary.concurrency = summary.concurrency_peak = static_cast<unsigned>(std::min<std::size_t>(options.jobs, to_do));
        return options.jobs;
    }
    // Items the journal had done already are announced (skipped) before: not of these.
    planned = to_do == std::numeric_limits<std::size_t>::max()
        ? to_do
        : to_do + summary.done + summary.skipped + summary.failed;
    ConcurrencySettings settings = options.auto_pairs;
    // Each pair holds one connection to each of its servers: --max-per-host caps the pairs too.
    if (max_per_host != 0) settings.most = max_per_host;
    concurrency.emplace(settings, Clock::now());
    summary.concurrency_auto = true;
    summary.concurrency = summary.concurrency_peak =
        static_cast<unsigned>(std::min<std::size_t>(concurrency->target(), to_do));
    const unsigned most = concurrency->ceiling();
    worker_alive.assign(most + 1, 1);  // a worker not started yet is about to be
    pair_working.assign(most + 1, 0);
    if (options.copy.notice) options.copy.notice("-j auto: " + concurrency->reason());
    return most;
}

unsigned BatchRun::State::pairs_target() const {
    if (!concurrency) return 0;
    return block_mode ? std::min(block_mode_pairs, concurrency->target()) : concurrency->target();
}

bool BatchRun::State::beyond_target(unsigned worker_number) const {
    if (!concurrency) return false;
    // The pairs at work are the lowest-numbered workers still alive: one that ended (nothing
    // left for it) leaves its place to the next.
    unsigned rank = 1;
    for (unsigned w = 1; w < worker_number && w < worker_alive.size(); ++w) rank += worker_alive[w] ? 1 : 0;
    return rank > pairs_target();
}

// Block mode: the pair's window holds the files of a round trip at the servers' pace
// (window_size.hpp), so more pairs add logins and server work, not files/s, and measuring
// each step of a ramp costs round trips. The pairs beyond `block_mode_pairs` stop before
// their first file.
bool BatchRun::State::pipelining_in_block_mode(unsigned worker_number) {
    if (!concurrency) return false;
    if (!block_mode) {
        block_mode = true;
        if (options.copy.notice)
            options.copy.notice(fmt::format("-j auto: block mode: {} pairs, each with a window covering the round trip",
                                            pairs_target()));
    }
    return beyond_target(worker_number);
}

void BatchRun::State::pair_opened(unsigned worker_number) {
    if (concurrency && worker_number < pair_working.size()) pair_working[worker_number] = 1;
}

void BatchRun::State::worker_ended(unsigned worker_number) {
    if (!concurrency) return;
    if (worker_number < worker_alive.size()) worker_alive[worker_number] = pair_working[worker_number] = 0;
    pairs_changed.cancel();
}

asio::awaitable<bool> BatchRun::State::my_turn(unsigned worker_number, Site& src, Site& dst) {
    if (!concurrency) co_return true;
    while (beyond_target(worker_number) && !stopping) {
        // Waiting, hold no connection: the pairs at work, or the server's limit, may need it.
        co_await quit(src, dst);
        pair_working[worker_number] = 0;
        if (ready.empty() && exhausted) co_return false;
        co_await pairs_changed.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    co_return true;
}

asio::awaitable<bool> BatchRun::State::refused_for_load(Site& src, Site& dst, const Status& opened, std::size_t index,
                                                        unsigned worker_number) {
    if (!concurrency || opened) co_return false;
    const Error& error = opened.error();
    if (!refuses_for_connection_limit(error.reply_code, error.message)) co_return false;
    const JobItem& item = item_at(index);
    const std::string server = server_of(error.side == Side::destination ? item.destination : item.source);
    co_await quit(src, dst);
    pair_working[worker_number] = 0;
    // A server that refuses this run's every login is refusing, not full: the item fails (or is
    // retried) as any other.
    const unsigned held = limiter.open_to(server);
    if (held == 0) co_return false;
    ++summary.limit_refusals;
    const unsigned per_pair = server_of(item.source) == server_of(item.destination) ? 2 : 1;
    if (concurrency->refused(held / per_pair, Clock::now())) {
        if (options.copy.notice) options.copy.notice("-j auto: " + concurrency->reason());
        pairs_changed.cancel();
    }
    ready.push_front(index);  // unstarted: no event, no attempt spent
    // Not at once again: a pair of this run may be between two items' logins.
    asio::steady_timer timer(executor, backoff_for(1) / 4);
    co_await (timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) || abort_signal.wait());
    co_return true;
}

asio::awaitable<void> BatchRun::State::pace_pairs() {
    std::size_t counted = summary.done + summary.skipped + summary.failed;
    unsigned last = concurrency->target();
    while (!finished) {
        pacer.expires_after(std::chrono::milliseconds(50));
        co_await pacer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (finished) break;
        const auto now = Clock::now();
        const std::size_t settled = summary.done + summary.skipped + summary.failed;
        concurrency->completed(settled - counted);
        counted = settled;
        // The files left bound the pairs worth their logins (a shared journal's are not known).
        if (planned != std::numeric_limits<std::size_t>::max())
            concurrency->items_left(planned > settled ? planned - settled : 0);
        concurrency->pairs_open(static_cast<unsigned>(std::count(pair_working.begin(), pair_working.end(), 1)), now);
        // Once every item has started, files/s falls by itself: no measure of the pairs. In
        // block mode, no ramp.
        if (!block_mode && (!ready.empty() || !exhausted) && concurrency->tick(now) && options.copy.notice)
            options.copy.notice("-j auto: " + concurrency->reason());
        if (pairs_target() != last || stopping) {
            last = pairs_target();
            pairs_changed.cancel();
        }
        summary.concurrency = pairs_target();
        summary.concurrency_peak = std::max(summary.concurrency_peak, pairs_target());
    }
    summary.concurrency = pairs_target();
    summary.concurrency_peak = std::max(summary.concurrency_peak, pairs_target());
}

} // namespace rsexec
