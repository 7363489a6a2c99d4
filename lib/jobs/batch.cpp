#include "jobs/batch.hpp"

#include <deque>
#include <random>
#include <set>
#include <unordered_map>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>

#include "jobs/connection_limiter.hpp"
#include "client/data_protection.hpp"
#include "client/file_size.hpp"
#include "client/pipeline.hpp"
#include "client/same_file.hpp"
#include "client/url_copy.hpp"

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

namespace {

std::string server_of(const FtpUrl& url) { return url.authority(); }

// The login a session stands for: reusable only for the same server and the same user.
std::string login_of(const FtpUrl& url, const Credentials& credentials) {
    return credentials.user + "@" + url.authority();
}

} // namespace

struct BatchRun::State {
    asio::any_io_executor executor;
    std::vector<JobItem> submitted;  // with their passwords, which the journal never holds
    BatchOptions options;
    std::unique_ptr<Journal> own_journal;  // when options.journal is null
    Journal* journal = nullptr;
    ConnectionLimiter limiter;
    // The items claimed from the journal, by local index (a deque: references stay valid).
    struct Entry {
        JobItem item;
        std::int64_t id = 0;
        std::size_t seq = 0;
        int earlier_claims = 0;
    };
    std::deque<Entry> entries;
    std::deque<std::size_t> ready;  // claimed, not started
    std::size_t chunk = 0;          // items per claim: options.claim_chunk, or 1 (give_back_unstarted)
    std::unordered_map<std::string, std::size_t> submitted_by_key;
    std::vector<Outcome> unreported;
    std::vector<BatchEvent> unannounced;  // their events
    bool exhausted = false;  // the journal had nothing more to claim
    bool stopping = false;
    bool aborting = false;
    bool finished = false;  // every worker has ended
    asio::steady_timer keeper;  // keep_journal's wait
    BatchSummary summary;
    std::set<ControlSession*> open_sessions;  // for abort_running
    std::mt19937 random{std::random_device{}()};

    State(asio::any_io_executor ex, std::vector<JobItem> list, BatchOptions opts)
        : executor(ex), submitted(std::move(list)), options(std::move(opts)), limiter(ex, options.max_per_host),
          chunk(full_chunk()), keeper(ex) {}

    std::size_t full_chunk() const { return std::max<std::size_t>(1, options.claim_chunk); }

    void emit(BatchEvent event) {
        if (options.on_event) options.on_event(event);
    }
    BatchEvent event(BatchEvent::Kind kind, std::size_t index, int attempt = 0) const {
        return {kind, entries[index].seq, &entries[index].item, attempt, std::nullopt, std::nullopt, {}};
    }
    const JobItem& item_at(std::size_t index) const { return entries[index].item; }

    void journal_failed(const Error& error) {
        if (!summary.journal_error) summary.journal_error = error;
    }

    // Outcomes go to the journal before they are announced, so that what a run reports done is
    // done in the journal however the run ends. A shared journal takes them in chunks (at most
    // 100 ms or 64 items apart): one round trip for many files.
    void record(std::size_t index, ItemState state, int attempts, std::uint64_t bytes, std::string error,
                BatchEvent announcement) {
        unreported.push_back({entries[index].id, state, bytes, attempts, std::move(error)});
        unannounced.push_back(std::move(announcement));
        if (!journal->shared() || unreported.size() >= 64) flush();
    }
    void flush() {
        if (unreported.empty()) return;
        if (auto reported = journal->report(unreported); !reported) {
            journal_failed(reported.error());
            return;  // kept: the next flush tries again
        }
        unreported.clear();
        for (auto& announcement : unannounced) emit(std::move(announcement));
        unannounced.clear();
    }

    // Flushes outcomes every 100 ms and renews a shared journal's lease, until the run ends.
    asio::awaitable<void> keep_journal() {
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

    // An item a pipeline handed back, with the source's size when its SIZE was answered.
    struct Returned {
        std::size_t index;
        std::optional<std::uint64_t> source_size;
    };

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

    // A session opened elsewhere, counted as this worker's own.
    asio::awaitable<void> adopt(Site& site, std::unique_ptr<ControlSession>& session, const FtpUrl& url) {
        if (!session || !session->is_open()) co_return;
        site.server = server_of(url);
        co_await limiter.acquire(site.server);
        site.login = login_of(url, credentials_for(url, options.netrc));
        site.session = std::move(session);
        open_sessions.insert(site.session.get());
        ++summary.logins;  // made for this run, before it began
        summary.peak_per_host = limiter.peak();
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

    // An item an earlier run or a lost worker started may have been copied and renamed before
    // its outcome reached the journal: a final file the size of the source is that copy.
    asio::awaitable<std::optional<CopyResult>> found_complete(Site& src, Site& dst, const JobItem& item,
                                                              const std::string& target) {
        auto copied = co_await size_of(*dst.session, target);
        if (!copied || !*copied || **copied == 0) co_return std::nullopt;
        auto original = co_await size_of(*src.session, item.source.path);
        if (!original || !*original || **original != **copied) co_return std::nullopt;
        CopyResult result;
        result.bytes = **copied;
        result.found_complete = true;
        co_return result;
    }

    // A copy onto itself would truncate or double the file: the item fails before any command
    // that changes a file, by name or by the addresses the two sessions reached.
    static std::optional<Error> onto_itself(const Site& src, const Site& dst, const JobItem& item,
                                            const std::string& target) {
        std::optional<asio::ip::address> src_address, dst_address;
        if (src.session && src.session->is_open()) src_address = src.session->peer_address();
        if (dst.session && dst.session->is_open()) dst_address = dst.session->peer_address();
        if (!same_file(item.source, item.source.path, item.destination, target, src_address, dst_address))
            return std::nullopt;
        return Error(Errc::bad_url, "source and destination are the same file (" + item.destination.authority() + " " +
                                        target + "): copying it onto itself would destroy it");
    }

    asio::awaitable<Expected<CopyResult>> attempt(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                  int attempt, std::optional<std::uint64_t> known_size) {
        const JobItem& item = item_at(index);
        if (auto opened = co_await ensure_pair(src, dst, item, worker); !opened) co_return opened.error();
        auto target = destination_path(item.source, item.destination);
        if (!target) co_return target.error();
        if (auto itself = onto_itself(src, dst, item, *target)) co_return *itself;
        if (attempt == 1 && entries[index].earlier_claims > 0 && !item.append) {
            if (auto found = co_await found_complete(src, dst, item, *target)) co_return *found;
        }
        CopyRequest request{item.source.path, *target,
                            item.append ? WriteMode::append : WriteMode::temporary_then_rename, known_size};
        CopyOptions copy = options.copy;
        // What an earlier attempt, run or worker left is continued; a first attempt has none.
        const bool started_before = attempt > 1 || entries[index].earlier_claims > 0;
        copy.resume = copy.resume || (options.resume_retries && started_before);
        const std::string watched = server_of(item.destination);
        copy.spare_slot = {[this, watched] { return limiter.try_acquire(watched); },
                           [this, watched] { limiter.release(watched); }};
        copy.progress = [this, index](std::uint64_t bytes) {
            auto progress = event(BatchEvent::Kind::progress, index);
            progress.bytes = bytes;
            emit(std::move(progress));
        };
        co_return co_await copy_file(*src.session, *dst.session, request, copy);
    }

    // Claims the next chunk of items from the journal; false when it has none now.
    bool claim_more() {
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
            // The submitted item, with its password, where this process submitted it.
            if (auto it = submitted_by_key.find(journal_key(entry.item)); it != submitted_by_key.end()) {
                const std::size_t line = entry.item.line;
                entry.item = submitted[it->second];
                entry.item.line = line;
            }
            ready.push_back(entries.size());
            entries.push_back(std::move(entry));
        }
        return true;
    }

    // The next item to work on, if it `fits`.
    std::optional<std::size_t> take(const std::function<bool(std::size_t)>& fits = {}) {
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
    void release_unstarted() {
        if (ready.empty()) return;
        std::vector<std::int64_t> ids;
        for (const auto index : ready) ids.push_back(entries[index].id);
        if (auto released = journal->release(ids); !released) {
            journal_failed(released.error());
            return;
        }
        ready.clear();
        exhausted = false;
    }
    void give_back_unstarted() {
        if (!journal->shared()) return;
        chunk = 1;
        release_unstarted();
    }

    // With a shared journal, nothing to claim now may mean items other workers hold: wait and
    // look again while any are running (a worker that stops renewing its lease loses them).
    asio::awaitable<bool> more_may_come() {
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

    void begin(std::size_t index, int attempt) { emit(event(BatchEvent::Kind::start, index, attempt)); }

    void succeeded(std::size_t index, int attempt, const CopyResult& result) {
        ++summary.done;
        summary.bytes += result.bytes.value_or(0);
        auto done = event(BatchEvent::Kind::done, index, attempt);
        done.result = result;
        // The journal keeps the file's size: a resumed copy moved only the rest.
        record(index, ItemState::done, attempt, result.bytes.value_or(0) + result.resumed_from, {}, std::move(done));
    }

    void interrupted(std::size_t index, int attempt, const Error& error) {
        ++summary.interrupted;
        auto stopped = event(BatchEvent::Kind::interrupted, index, attempt);
        stopped.error = error;
        record(index, ItemState::pending, attempt, 0, "interrupted", std::move(stopped));
    }

    // After a failed attempt: whether to try again (after the backoff), or the item is settled.
    asio::awaitable<bool> after_failure(std::size_t index, int attempt, const Error& error) {
        if (aborting) {
            interrupted(index, attempt, error);
            co_return false;
        }
        if (is_transient(error) && attempt <= static_cast<int>(options.retries) && !stopping) {
            const auto delay = backoff_for(attempt);
            auto retry = event(BatchEvent::Kind::retry, index, attempt);
            retry.error = error;
            retry.delay = delay;
            emit(std::move(retry));
            asio::steady_timer timer(executor, delay);
            co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            co_return true;
        }
        ++summary.failed;
        auto failed = event(BatchEvent::Kind::failed, index, attempt);
        failed.error = error;
        record(index, ItemState::failed, attempt, 0, error.describe(), std::move(failed));
        co_return false;
    }

    // One item the usual way (copy_file), from attempt `first` on; `known_size` is the source's
    // size a pipeline has just been told, for the first of them. Returns the pairing that
    // worked, for the pipeline of the items after it.
    asio::awaitable<std::optional<PairingAttempt>> copy_one(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                            int first,
                                                            std::optional<std::uint64_t> known_size = std::nullopt) {
        for (int attempt = first;; ++attempt) {
            begin(index, attempt);
            auto result = co_await this->attempt(src, dst, index, worker, attempt, known_size);
            known_size.reset();
            if (result) {
                succeeded(index, attempt, *result);
                if (result->found_complete) co_return std::nullopt;
                co_return PairingAttempt{result->dialect, result->listener};
            }
            // A failed item leaves its sessions in an unknown state: start the next clean.
            drop(src);
            drop(dst);
            if (!co_await after_failure(index, attempt, result.error())) co_return std::nullopt;
        }
    }

    // Whether an item can go through a pipeline at all, and with the sessions open now.
    bool can_pipeline_item(std::size_t index) const {
        const JobItem& item = item_at(index);
        // An item started before (an earlier run, a lost worker) resumes, one at a time.
        return entries[index].earlier_claims == 0 && options.pipelining != Pipelining::off && !item.append && !options.copy.resume &&
            (options.copy.verify == Verify::none || options.copy.verify == Verify::size);
    }
    bool can_pipeline(const Site& src, const Site& dst, std::size_t index) const {
        const JobItem& item = item_at(index);
        return can_pipeline_item(index) && src.session && src.session->is_open() && dst.session &&
            dst.session->is_open() &&
            src.login == login_of(item.source, credentials_for(item.source, options.netrc)) &&
            dst.login == login_of(item.destination, credentials_for(item.destination, options.netrc));
    }

    // Pipelines `first` and the items after it, as long as they are between the same two
    // logins. Failed items go to `failed` (attempt 1 spent), unfinished ones to `returned`.
    // Returns whether the pipeline finished any file (one that finishes none is not tried again).
    asio::awaitable<bool> pipeline(Site& src, Site& dst, std::size_t first, PairingAttempt pairing,
                                   std::deque<std::pair<std::size_t, Error>>& failed,
                                   std::deque<Returned>& returned) {
        PipelineOptions pipe;
        pipe.pairing = pairing;
        pipe.pairing_options = options.copy.pairing;
        // TLS on the data connections as copy_file would set it; what it cannot set up goes to
        // copy_file, which says why or tries another pairing.
        auto protection = plan_data_protection(*src.session, *dst.session, pairing);
        if (!protection) {
            returned.push_back({first, std::nullopt});
            co_return false;
        }
        if (auto applied = co_await apply_data_protection(*src.session, *dst.session, *protection); !applied) {
            drop(src);
            drop(dst);
            returned.push_back({first, std::nullopt});
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
        std::set<std::size_t> announced;  // a start event is out
        const auto announce = [&](std::size_t index) {
            if (announced.insert(index).second) begin(index, 1);
        };
        std::optional<std::size_t> pending_first = first;
        PipelineCallbacks callbacks;
        callbacks.next = [&]() -> std::optional<PipelineFile> {
            for (;;) {
                std::optional<std::size_t> index = pending_first;
                pending_first.reset();
                if (!index) index = take([&](std::size_t i) { return can_pipeline(src, dst, i); });
                if (!index) return std::nullopt;
                const JobItem& item = item_at(*index);
                Expected<std::string> target = destination_path(item.source, item.destination);
                if (target) {
                    if (auto itself = onto_itself(src, dst, item, *target)) target = *itself;
                }
                if (target) return PipelineFile{*index, item.source.path, *target};
                announce(*index);
                failed.emplace_back(*index, target.error());
            }
        };
        callbacks.started = announce;
        callbacks.finished = [&](std::size_t index, Expected<CopyResult> result) {
            announce(index);  // a file can fail before it starts (its source is missing)
            if (result) {
                finished_any = true;
                chunk = full_chunk();
                succeeded(index, 1, *result);
            } else {
                failed.emplace_back(index, result.error());
            }
        };
        callbacks.returned = [&](std::size_t index, std::optional<std::uint64_t> size) {
            returned.push_back({index, size});
        };
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
        std::deque<Returned> returned;                     // items a pipeline handed back
        // The pairing that last worked, and for which two logins.
        std::optional<PairingAttempt> paired;
        std::string paired_logins;
        bool proven = false;  // `paired` worked for a copy (rather than being the plan's first)
        bool pipelining = options.pipelining != Pipelining::off;
        const auto logins = [&] { return src.login + " " + dst.login; };
        if (worker_number == 1 && options.open_pair) {
            co_await adopt(src, options.open_pair->source, options.open_pair->source_url);
            co_await adopt(dst, options.open_pair->destination, options.open_pair->destination_url);
        }
        for (;;) {
            if (!failed.empty()) {
                auto [index, error] = std::move(failed.front());
                failed.pop_front();
                if (co_await after_failure(index, 1, error)) co_await copy_one(src, dst, index, worker_number, 2);
                continue;
            }
            if (!returned.empty()) {
                const Returned item = returned.front();
                returned.pop_front();
                const std::size_t index = item.index;
                if (item.source_size && *item.source_size > PipelineOptions{}.largest) {
                    // A long copy ahead: what the pipeline handed back with it goes back to be
                    // pipelined again, here or (with a shared journal) by workers elsewhere.
                    for (; !returned.empty(); returned.pop_back()) ready.push_front(returned.back().index);
                    give_back_unstarted();
                }
                if (stopping) {
                    // Taken by a pipeline but never sent: it stays pending for the next run.
                    interrupted(index, 1, Error(Errc::interrupted, "stopped before it was sent"));
                    continue;
                }
                if (auto worked = co_await copy_one(src, dst, index, worker_number, 1, item.source_size)) {
                    paired = worked;
                    paired_logins = logins();
                    proven = true;
                }
                continue;
            }
            auto index = take();
            if (!index) {
                // Waiting for other workers' items, hold no connection: they may need it.
                if (journal->shared()) co_await quit(src, dst);
                if (co_await more_may_come()) continue;
                break;
            }
            if (pipelining && can_pipeline_item(*index)) {
                if (auto opened = co_await ensure_pair(src, dst, item_at(*index), worker_number); opened) {
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
        co_await quit(src, dst);
    }

    asio::awaitable<void> quit(Site& src, Site& dst) {
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
    State& s = *state_;
    const auto started = Clock::now();
    s.journal = s.options.journal;
    if (!s.journal) {
        auto memory = open_journal(":memory:", {"batch", "local", std::chrono::seconds(30)});
        if (!memory) {
            s.summary.journal_error = memory.error();
            co_return s.summary;
        }
        s.own_journal = std::move(*memory);
        s.journal = s.own_journal.get();
    }
    std::size_t to_do = 0;
    if (!s.submitted.empty()) {
        auto done = s.journal->submit(s.submitted, s.options.max_per_host);
        if (!done) {
            s.summary.journal_error = done.error();
            co_return s.summary;
        }
        for (const std::size_t seq : *done) {
            ++s.summary.skipped;
            s.emit({BatchEvent::Kind::skipped, seq, &s.submitted[seq], 0, std::nullopt, std::nullopt, {}});
        }
        for (std::size_t i = 0; i < s.submitted.size(); ++i) s.submitted_by_key.emplace(journal_key(s.submitted[i]), i);
        to_do = s.submitted.size() - done->size();
    }
    if (s.journal->shared()) {
        // The job's cap holds across every worker: counted in the journal.
        unsigned cap = s.options.max_per_host;
        if (cap == 0) {
            auto progress = s.journal->progress();
            if (progress) cap = progress->max_per_host;
        }
        s.limiter.share(*s.journal, cap);
        to_do = s.options.jobs;
    }
    const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, s.options.jobs), to_do));
    // Workers run on one thread; each suspends only at its own network waits. The keeper flushes
    // outcomes and renews the lease until the last worker ends.
    asio::steady_timer all_done(s.executor, asio::steady_timer::time_point::max());
    unsigned remaining = workers + 1;
    auto ended = [&](std::exception_ptr failure) {
        if (--remaining == 1) {
            s.finished = true;
            s.keeper.cancel();
        }
        if (remaining == 0) all_done.cancel();
        if (failure) std::rethrow_exception(failure);
    };
    for (unsigned i = 0; i < workers; ++i) asio::co_spawn(s.executor, s.worker(i + 1), ended);
    if (workers == 0) s.finished = true;
    asio::co_spawn(s.executor, s.keep_journal(), ended);
    co_await all_done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    s.flush();
    s.release_unstarted();
    if (auto left = s.journal->leave(); !left) s.journal_failed(left.error());
    s.summary.journal_round_trips = s.journal->round_trips();
    s.summary.elapsed = Clock::now() - started;
    co_return s.summary;
}

} // namespace rsexec
