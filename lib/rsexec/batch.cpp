#include "rsexec/batch.hpp"

#include <deque>
#include <random>
#include <set>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>

#include "rsexec/connection_limiter.hpp"
#include "rsexec/data_protection.hpp"
#include "rsexec/pipeline.hpp"
#include "rsexec/url_copy.hpp"

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

std::string journal_key(const JobItem& item) {
    return item.source.display() + " -> " + item.destination.display() + (item.append ? " append" : "");
}

namespace {

std::string server_of(const FtpUrl& url) { return url.authority(); }

// The login a session stands for: reusable only for the same server and the same user.
std::string login_of(const FtpUrl& url, const Credentials& credentials) {
    return credentials.user + "@" + url.authority();
}

} // namespace

struct BatchRun::State {
    asio::any_io_executor executor;
    std::vector<JobItem> items;
    BatchOptions options;
    ConnectionLimiter limiter;
    std::size_t next = 0;
    bool stopping = false;
    bool aborting = false;
    BatchSummary summary;
    std::set<ControlSession*> open_sessions;  // for abort_running
    std::mt19937 random{std::random_device{}()};

    State(asio::any_io_executor ex, std::vector<JobItem> list, BatchOptions opts)
        : executor(ex), items(std::move(list)), options(std::move(opts)), limiter(ex, options.max_per_host) {}

    void emit(BatchEvent event) {
        if (options.on_event) options.on_event(event);
    }

    // One side's session, reused while the next item names the same login.
    struct Site {
        std::unique_ptr<ControlSession> session;
        std::string login;
        std::string server;
    };

    void drop(Site& site) {
        if (!site.session) return;
        open_sessions.erase(site.session.get());
        site.session->close();
        site.session.reset();
        limiter.release(site.server);
        site.login.clear();
    }

    // Takes the connection slot for a session that is not open yet for this URL's login;
    // false when the open session already fits.
    asio::awaitable<bool> reserve(Site& site, const FtpUrl& url) {
        const auto login = login_of(url, credentials_for(url, options.netrc));
        if (site.session && site.session->is_open() && site.login == login) co_return false;
        drop(site);
        site.server = server_of(url);
        co_await limiter.acquire(site.server);
        site.login = login;
        co_return true;
    }

    asio::awaitable<Status> open(Site& site, Side side, const FtpUrl& url, unsigned worker) {
        SessionOptions session_options = options.session;
        session_options.label = std::string(side_name(side)) + "#" + std::to_string(worker);
        site.session = std::make_unique<ControlSession>(executor, side, std::move(session_options));
        open_sessions.insert(site.session.get());
        ++summary.logins;
        summary.peak_per_host = limiter.peak();
        auto opened = co_await site.session->open(url.host, url.port, credentials_for(url, options.netrc), url.implicit_tls());
        if (!opened) drop(site);
        co_return opened;
    }

    // The two sessions an item needs, reusing those already open. Connection slots are taken in
    // a fixed order (source, then destination) so that two workers never wait on each other;
    // the logins then run side by side.
    asio::awaitable<Status> ensure_pair(Site& src, Site& dst, const JobItem& item, unsigned worker) {
        const bool open_src = co_await reserve(src, item.source);
        const bool open_dst = co_await reserve(dst, item.destination);
        Status src_opened = success(), dst_opened = success();
        if (open_src && open_dst) {
            using namespace asio::experimental::awaitable_operators;
            std::tie(src_opened, dst_opened) = co_await (open(src, Side::source, item.source, worker) &&
                                                         open(dst, Side::destination, item.destination, worker));
        } else if (open_src) {
            src_opened = co_await open(src, Side::source, item.source, worker);
        } else if (open_dst) {
            dst_opened = co_await open(dst, Side::destination, item.destination, worker);
        }
        if (!src_opened) {
            drop(dst);  // the pair is not usable: do not hold the other slot
            co_return src_opened;
        }
        co_return dst_opened;
    }

    Clock::duration backoff_for(int attempt) {
        std::uniform_real_distribution<double> jitter(0.5, 1.5);
        const double factor = static_cast<double>(1u << std::min(attempt - 1, 10)) * jitter(random);
        return std::chrono::duration_cast<Clock::duration>(options.backoff * factor);
    }

    asio::awaitable<Expected<CopyResult>> attempt(Site& src, Site& dst, std::size_t index, unsigned worker) {
        const JobItem& item = items[index];
        if (auto opened = co_await ensure_pair(src, dst, item, worker); !opened) co_return opened.error();
        auto target = destination_path(item.source, item.destination);
        if (!target) co_return target.error();
        CopyRequest request{item.source.path, *target,
                            item.append ? WriteMode::append : WriteMode::temporary_then_rename};
        CopyOptions copy = options.copy;
        copy.resume = copy.resume || options.resume_retries;
        copy.progress = [this, &item, index](std::uint64_t bytes) {
            BatchEvent event{BatchEvent::Kind::progress, index, &item, 0, std::nullopt, std::nullopt, {}};
            event.bytes = bytes;
            emit(std::move(event));
        };
        co_return co_await copy_file(*src.session, *dst.session, request, copy);
    }

    // The next item to work on, past those the journal records as done.
    std::optional<std::size_t> take(const std::function<bool(const JobItem&)>& fits = {}) {
        while (!stopping && next < items.size()) {
            if (fits && !fits(items[next])) return std::nullopt;
            const std::size_t index = next++;
            const JobItem& item = items[index];
            if (options.journal) {
                auto state = options.journal->enroll(journal_key(item));
                if (state && *state == ItemState::done) {
                    ++summary.skipped;
                    emit({BatchEvent::Kind::skipped, index, &item, 0, std::nullopt, std::nullopt, {}});
                    continue;
                }
            }
            return index;
        }
        return std::nullopt;
    }

    void begin(std::size_t index, int attempt) {
        if (options.journal) (void)options.journal->mark_running(journal_key(items[index]));
        emit({BatchEvent::Kind::start, index, &items[index], attempt, std::nullopt, std::nullopt, {}});
    }

    void succeeded(std::size_t index, int attempt, const CopyResult& result) {
        ++summary.done;
        summary.bytes += result.bytes.value_or(0);
        if (options.journal) (void)options.journal->mark_done(journal_key(items[index]), result.bytes.value_or(0));
        emit({BatchEvent::Kind::done, index, &items[index], attempt, result, std::nullopt, {}});
    }

    // After a failed attempt: whether to try again (after the backoff), or the item is settled.
    asio::awaitable<bool> after_failure(std::size_t index, int attempt, const Error& error) {
        const JobItem& item = items[index];
        const std::string key = journal_key(item);
        if (aborting) {
            ++summary.interrupted;
            if (options.journal) (void)options.journal->mark_pending(key, "interrupted");
            emit({BatchEvent::Kind::interrupted, index, &item, attempt, std::nullopt, error, {}});
            co_return false;
        }
        if (is_transient(error) && attempt <= static_cast<int>(options.retries) && !stopping) {
            const auto delay = backoff_for(attempt);
            emit({BatchEvent::Kind::retry, index, &item, attempt, std::nullopt, error, delay});
            asio::steady_timer timer(executor, delay);
            co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            co_return true;
        }
        ++summary.failed;
        if (options.journal) (void)options.journal->mark_failed(key, error.describe());
        emit({BatchEvent::Kind::failed, index, &item, attempt, std::nullopt, error, {}});
        co_return false;
    }

    // One item the usual way (copy_file), from attempt `first` on. Returns the pairing that
    // worked, for the pipeline of the items after it.
    asio::awaitable<std::optional<PairingAttempt>> copy_one(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                            int first) {
        for (int attempt = first;; ++attempt) {
            begin(index, attempt);
            auto result = co_await this->attempt(src, dst, index, worker);
            if (result) {
                succeeded(index, attempt, *result);
                co_return PairingAttempt{result->dialect, result->listener};
            }
            // A failed item leaves its sessions in an unknown state: start the next clean.
            drop(src);
            drop(dst);
            if (!co_await after_failure(index, attempt, result.error())) co_return std::nullopt;
        }
    }

    // Whether an item can go through a pipeline at all, and with the sessions open now.
    bool can_pipeline_item(const JobItem& item) const {
        return options.pipelining != Pipelining::off && !item.append && !options.copy.resume &&
            (options.copy.verify == Verify::none || options.copy.verify == Verify::size);
    }
    bool can_pipeline(const Site& src, const Site& dst, const JobItem& item) const {
        return can_pipeline_item(item) && src.session && src.session->is_open() && dst.session &&
            dst.session->is_open() &&
            src.login == login_of(item.source, credentials_for(item.source, options.netrc)) &&
            dst.login == login_of(item.destination, credentials_for(item.destination, options.netrc));
    }

    // Pipelines `first` and the items after it, as long as they are between the same two
    // logins. Failed items go to `failed` (attempt 1 spent), unfinished ones to `returned`.
    // Returns whether the pipeline finished any file (one that finishes none is not tried again).
    asio::awaitable<bool> pipeline(Site& src, Site& dst, std::size_t first, PairingAttempt pairing,
                                   std::deque<std::pair<std::size_t, Error>>& failed,
                                   std::deque<std::size_t>& returned) {
        PipelineOptions pipe;
        pipe.pairing = pairing;
        pipe.pairing_options = options.copy.pairing;
        // TLS on the data connections as copy_file would set it; what it cannot set up goes to
        // copy_file, which says why or tries another pairing.
        auto protection = plan_data_protection(*src.session, *dst.session, pairing);
        if (!protection) {
            returned.push_back(first);
            co_return false;
        }
        if (auto applied = co_await apply_data_protection(*src.session, *dst.session, *protection); !applied) {
            drop(src);
            drop(dst);
            returned.push_back(first);
            co_return false;
        }
        pipe.pairing_options.cpsv = protection->cpsv;
        pipe.verify_size = options.copy.verify == Verify::size;
        pipe.behind_transfers =
            pipelines_behind_transfers(src.session->features(), src.session->greeting()) &&
            pipelines_behind_transfers(dst.session->features(), dst.session->greeting());
        pipe.block_mode = options.pipelining == Pipelining::block &&
            offers_block_mode(src.session->features()) && offers_block_mode(dst.session->features());
        bool finished_any = false;
        std::optional<std::size_t> pending_first = first;
        PipelineCallbacks callbacks;
        callbacks.next = [&]() -> std::optional<PipelineFile> {
            for (;;) {
                std::optional<std::size_t> index = pending_first;
                pending_first.reset();
                if (!index) index = take([&](const JobItem& item) { return can_pipeline(src, dst, item); });
                if (!index) return std::nullopt;
                const JobItem& item = items[*index];
                begin(*index, 1);
                auto target = destination_path(item.source, item.destination);
                if (target) return PipelineFile{*index, item.source.path, *target};
                failed.emplace_back(*index, target.error());
            }
        };
        callbacks.finished = [&](std::size_t index, Expected<CopyResult> result) {
            if (result) {
                finished_any = true;
                succeeded(index, 1, *result);
            } else {
                failed.emplace_back(index, result.error());
            }
        };
        callbacks.returned = [&](std::size_t index) { returned.push_back(index); };
        callbacks.stopping = [this] { return stopping; };
        if (auto ran = co_await run_pipeline(*src.session, *dst.session, pipe, callbacks); !ran) {
            drop(src);
            drop(dst);
        }
        co_return finished_any;
    }

    asio::awaitable<void> worker(unsigned worker_number) {
        Site src, dst;
        std::deque<std::pair<std::size_t, Error>> failed;  // first attempts that failed in a pipeline
        std::deque<std::size_t> returned;                  // items a pipeline handed back
        // The pairing that last worked, and for which two logins.
        std::optional<PairingAttempt> paired;
        std::string paired_logins;
        bool proven = false;  // `paired` worked for a copy (rather than being the plan's first)
        bool pipelining = options.pipelining != Pipelining::off;
        const auto logins = [&] { return src.login + " " + dst.login; };
        for (;;) {
            if (!failed.empty()) {
                auto [index, error] = std::move(failed.front());
                failed.pop_front();
                if (co_await after_failure(index, 1, error)) co_await copy_one(src, dst, index, worker_number, 2);
                continue;
            }
            if (!returned.empty()) {
                const std::size_t index = returned.front();
                returned.pop_front();
                if (stopping) {
                    // Taken by a pipeline but never sent: it stays pending for the next run.
                    ++summary.interrupted;
                    if (options.journal) (void)options.journal->mark_pending(journal_key(items[index]), "interrupted");
                    emit({BatchEvent::Kind::interrupted, index, &items[index], 1, std::nullopt,
                          Error(Errc::interrupted, "stopped before it was sent"), {}});
                    continue;
                }
                if (auto worked = co_await copy_one(src, dst, index, worker_number, 1)) {
                    paired = worked;
                    paired_logins = logins();
                    proven = true;
                }
                continue;
            }
            auto index = take();
            if (!index) break;
            if (pipelining && can_pipeline_item(items[*index])) {
                if (auto opened = co_await ensure_pair(src, dst, items[*index], worker_number); opened) {
                    // Until a copy shows what works, the pipeline pairs as copy_file would first.
                    if (!paired || paired_logins != logins()) {
                        const bool ipv6 = src.session->peer_address().is_v6() || dst.session->peer_address().is_v6();
                        paired = pairing_plan(src.session->features(), dst.session->features(), options.copy.passive,
                                              options.copy.dialect, ipv6)
                                     .front();
                        paired_logins = logins();
                        proven = false;
                    }
                    const bool block = options.pipelining == Pipelining::block &&
                        offers_block_mode(src.session->features()) && offers_block_mode(dst.session->features());
                    // RFC 438 pairing takes three steps a file: pipelined only in block mode.
                    if (block || paired->dialect != Dialect::rfc438) {
                        // One that finishes nothing with a pairing a copy proved is not tried again;
                        // with the plan's first guess, the copies of the files it handed back
                        // find the pairing that works.
                        if (!co_await pipeline(src, dst, *index, *paired, failed, returned)) {
                            if (proven) pipelining = false;
                            paired.reset();
                        }
                        continue;
                    }
                }
            }
            if (auto worked = co_await copy_one(src, dst, *index, worker_number, 1)) {
                paired = worked;
                paired_logins = logins();
                proven = true;
            }
        }
        for (Site* site : {&src, &dst}) {
            if (site->session && site->session->is_open()) co_await site->session->command("QUIT");
            drop(*site);
        }
    }
};

BatchRun::BatchRun(asio::any_io_executor executor, std::vector<JobItem> items, BatchOptions options)
    : state_(std::make_unique<State>(executor, std::move(items), std::move(options))) {}

BatchRun::~BatchRun() = default;

void BatchRun::stop_starting() noexcept { state_->stopping = true; }

void BatchRun::abort_running() {
    state_->stopping = true;
    state_->aborting = true;
    for (ControlSession* session : state_->open_sessions) session->close();
}

asio::awaitable<BatchSummary> BatchRun::run() {
    const auto started = Clock::now();
    const unsigned workers = std::max(1u, std::min<unsigned>(state_->options.jobs, static_cast<unsigned>(state_->items.size())));
    // Workers run on one thread; each suspends only at its own network waits.
    asio::steady_timer all_done(state_->executor, asio::steady_timer::time_point::max());
    unsigned remaining = workers;
    for (unsigned i = 0; i < workers; ++i) {
        asio::co_spawn(state_->executor, state_->worker(i + 1), [&](std::exception_ptr failure) {
            if (--remaining == 0) all_done.cancel();
            if (failure) std::rethrow_exception(failure);
        });
    }
    if (remaining > 0 && !state_->items.empty())
        co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    state_->summary.elapsed = Clock::now() - started;
    co_return state_->summary;
}

} // namespace rsexec
