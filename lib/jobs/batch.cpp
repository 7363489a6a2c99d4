#include "batch_state.hpp"

#include <limits>

namespace rsexec {

const char* event_kind_name(BatchEvent::Kind kind) noexcept {
    switch (kind) {
    case BatchEvent::Kind::start: return "start";
    case BatchEvent::Kind::progress: return "progress";
    case BatchEvent::Kind::done: return "done";
    case BatchEvent::Kind::retry: return "retry";
    case BatchEvent::Kind::failed: return "error";
    case BatchEvent::Kind::skipped: return "skipped";
    case BatchEvent::Kind::interrupted: return "interrupted";
    }
    return "?";
}

const char* pipelining_name(Pipelining pipelining) noexcept {
    switch (pipelining) {
    case Pipelining::off: return "off";
    case Pipelining::commands: return "commands";
    case Pipelining::block: return "block";
    }
    return "?";
}

std::optional<Pipelining> parse_pipelining(std::string_view name) {
    for (auto pipelining : {Pipelining::off, Pipelining::commands, Pipelining::block})
        if (name == pipelining_name(pipelining)) return pipelining;
    return std::nullopt;
}

bool is_transient(const Error& error) {
    if (error.reply_code >= 400 && error.reply_code < 500) return true;
    if (error.code.category() != error_category()) return true;
    switch (static_cast<Errc>(error.code.value())) {
    case Errc::transient_reply:
    case Errc::resolve_failed:
    case Errc::connect_failed:
    case Errc::connection_closed:
    case Errc::timeout:
    case Errc::transfer_failed:
    case Errc::verification_failed: return true;
    default: return false;
    }
}

BatchRun::~BatchRun() = default;

void BatchRun::stop_starting() noexcept { state_->stopping = true; }

void BatchRun::abort_running() {
    state_->stopping = true;
    state_->aborting = true;
    state_->abort_signal.trigger("abort");
    for (ControlSession* session : state_->open_sessions) session->close();
}

asio::awaitable<BatchSummary> BatchRun::run() {
    State& s = *state_;
    const auto started = Clock::now();
    s.journal = s.options.journal;
    if (!s.journal) {
        // SQLite's private temporary database: on disk beyond its page cache, so that a job of
        // any length runs in bounded memory without a journal file.
        auto memory = open_journal("", {"batch", "local", std::chrono::seconds(30)});
        if (!memory) {
            s.summary.journal_error = memory.error();
            co_return s.summary;
        }
        s.own_journal = std::move(*memory);
        s.journal = s.own_journal.get();
    }
    std::size_t to_do = 0;
    if (s.source) {
        auto left = s.submit_source();
        if (!left) {
            s.summary.journal_error = left.error();
            co_return s.summary;
        }
        to_do = *left;
    }
    unsigned cap = s.options.max_per_host;
    if (s.journal->shared()) {
        // The job's cap holds across every worker: counted in the journal.
        if (cap == 0) {
            auto progress = s.journal->progress();
            if (progress) cap = progress->max_per_host;
        }
        s.limiter.share(*s.journal, cap);
        to_do = std::numeric_limits<std::size_t>::max();  // other processes' items too
    }
    const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, s.plan_pairs(to_do, cap)), to_do));
    s.spawned = workers;
    // Workers run on one thread; each suspends only at its own network waits. The keeper flushes
    // outcomes and renews the lease until the last worker ends; with -j auto the pacer sets how
    // many of the workers work.
    asio::steady_timer all_done(s.executor, asio::steady_timer::time_point::max());
    const unsigned helpers = s.concurrency ? 2 : 1;
    unsigned remaining = workers + helpers;
    auto ended = [&](std::exception_ptr failure) {
        if (--remaining == helpers) {
            s.finished = true;
            s.keeper.cancel();
            s.pacer.cancel();
        }
        if (remaining == 0) all_done.cancel();
        if (failure) std::rethrow_exception(failure);
    };
    for (unsigned i = 0; i < workers; ++i) asio::co_spawn(s.executor, s.worker(i + 1), ended);
    if (workers == 0) s.finished = true;
    asio::co_spawn(s.executor, s.keep_journal(), ended);
    if (s.concurrency) asio::co_spawn(s.executor, s.pace_pairs(), ended);
    co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    s.flush();
    s.release_unstarted();
    if (auto left = s.journal->leave(); !left) s.journal_failed(left.error());
    s.summary.journal_round_trips = s.journal->round_trips();
    s.summary.elapsed = Clock::now() - started;
    co_return s.summary;
}

} // namespace rsexec
