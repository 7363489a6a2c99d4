// Workers: one item at a time, or a pipeline of items between the same two logins.
#include "batch_state.hpp"
#include "client/relay.hpp"

namespace rsexec {

asio::awaitable<Expected<CopyResult>> BatchRun::State::attempt(
    Site& src, Site& dst, std::size_t index, unsigned worker, int attempt, std::optional<std::uint64_t> known_size) {
    const JobItem& item = item_at(index);
    if (is_local_item(item)) co_return co_await attempt_local(src, dst, index, worker, attempt);
    if (auto opened = co_await ensure_pair(src, dst, item, worker); !opened) co_return opened.error();
    pair_opened(worker);
    // For status --failed: an item that fails before its transfer says how it was to be copied.
    entries.at(index).relayed = relays_through_here(src, dst, item);
    // Aborted while this item waited for a connection slot or its logins: abort_running closed
    // the sessions open then, not those opened after it.
    if (aborting) co_return Error(Errc::interrupted, "aborted while its control sessions were opening");
    auto target = destination_path(item.source, item.destination);
    if (!target) co_return target.error();
    if (auto itself = onto_itself(src, dst, item, *target)) co_return *itself;
    if (!item.destination.names_directory() && !options.destinations_name_files) {
        // cp(1), as rsexec copy: a destination that is an existing directory receives the file
        // under the source's name. Asked with the source's SIZE: no round trip of its own.
        auto placed = co_await place_in_directory(*src.session, item.source.path, *dst.session, *target, known_size);
        if (!placed) co_return placed.error();
        known_size = placed->source_size;
        if (placed->destination_path != *target) {
            *target = placed->destination_path;
            if (auto itself = onto_itself(src, dst, item, *target)) co_return *itself;
        }
    }
    if (attempt == 1 && entries.at(index).earlier_claims > 0 && !item.append) {
        if (auto found = co_await found_complete(src, dst, item, *target)) co_return *found;
    }
    CopyRequest request{item.source.path, *target,
                        item.append ? WriteMode::append : WriteMode::temporary_then_rename, known_size};
    CopyOptions copy = options.copy;
    if (item.relay) copy.relay = parse_relay_mode(*item.relay).value_or(copy.relay);
    copy.overwrite = overwrite_for(index);
    // What an earlier run or a lost worker left is continued (and kept for the next run when
    // this attempt fails too). A retry in this run continues its failed attempt's temporary file
    // only with --resume, which kept it; without, that attempt deleted it.
    copy.resume = copy.resume || entries.at(index).earlier_claims > 0;
    const std::string watched = server_of(item.destination);
    copy.spare_slot = {[this, watched] { return limiter.try_acquire(watched); },
                       [this, watched] { limiter.release(watched); }};
    // The item's rate and time left, measured from the stall watch's polls.
    auto meter = std::make_shared<std::optional<ProgressMeter>>();
    copy.started = [meter](std::optional<std::uint64_t> total, std::uint64_t resumed_from) {
        meter->emplace(total, resumed_from, Clock::now());
    };
    copy.progress = [this, index, meter](std::uint64_t bytes) {
        const auto now = Clock::now();
        if (!*meter) meter->emplace(std::nullopt, 0, now);
        (*meter)->record(bytes, now);
        auto progress = event(BatchEvent::Kind::progress, index);
        progress.bytes = bytes;
        progress.progress = (*meter)->at(now);
        emit(std::move(progress));
    };
    auto result = co_await copy_file(*src.session, *dst.session, request, copy);
    entries.at(index).relayed = result ? result->relayed : relays_through_here(src, dst, item);
    co_return result;
}

// One item the usual way (copy_file), from attempt `first` on; `known_size` is the source's
// size a pipeline has just been told, for the first of them. Returns the pairing that
// worked, for the pipeline of the items after it.
asio::awaitable<std::optional<PairingAttempt>> BatchRun::State::copy_one(
    Site& src, Site& dst, std::size_t index, unsigned worker, int first, std::optional<std::uint64_t> known_size,
    bool announced) {
    for (int attempt = first;; ++attempt) {
        if (!announced || attempt != first) begin(index, attempt);
        auto result = co_await this->attempt(src, dst, index, worker, attempt, known_size);
        known_size.reset();
        if (!result) result = co_await again_in_made_directory(src, dst, index, worker, attempt, result.error());
        if (result && result->skipped) {
            // Kept by the overwrite policy: a success, never a retry.
            kept(index, attempt, *result->skipped);
            co_return std::nullopt;
        }
        if (result) {
            succeeded(index, attempt, *result);
            // A relayed item's servers would refuse a pipeline's pairing too.
            if (result->found_complete || result->relayed) co_return std::nullopt;
            pairing_accepted(src, dst);
            co_return PairingAttempt{result->dialect, result->listener};
        }
        // A failed item leaves its sessions in an unknown state: start the next clean.
        drop(src);
        drop(dst);
        if (!co_await after_failure(index, attempt, result.error())) co_return std::nullopt;
    }
}

// Whether an item can go through a pipeline at all, and with the sessions open now.
bool BatchRun::State::can_pipeline_item(std::size_t index) const {
    const JobItem& item = item_at(index);
    // An item relayed always ("relay": "always") is never paired, so never pipelined.
    if (item.relay && *item.relay == "always") return false;
    // One end on disk: an upload or a download, one at a time.
    if (is_local_item(item)) return false;
    // An item started before (an earlier run, a lost worker) resumes, one at a time.
    // One the overwrite policy decides on is asked about first, one at a time too.
    return entries.at(index).earlier_claims == 0 && options.pipelining != Pipelining::off && !item.append &&
        !options.copy.resume && overwrite_for(index) == Overwrite::always &&
        (options.copy.verify == Verify::none || options.copy.verify == Verify::size);
}

bool BatchRun::State::can_pipeline(const Site& src, const Site& dst, std::size_t index) const {
    const JobItem& item = item_at(index);
    return can_pipeline_item(index) && src.session && src.session->is_open() && dst.session &&
        dst.session->is_open() &&
        src.login == login_of(item.source, credentials_for(item.source, options.netrc)) &&
        dst.login == login_of(item.destination, credentials_for(item.destination, options.netrc));
}

// Pipelines `first` and the items after it, as long as they are between the same two
// logins. Failed items go to `failed` (attempt 1 spent), unfinished ones to `returned`.
// Returns whether the pipeline finished any file (one that finishes none is not tried again).
asio::awaitable<bool> BatchRun::State::pipeline(
    Site& src, Site& dst, std::size_t first, PairingAttempt pairing, std::deque<std::pair<std::size_t, Error>>& failed, std::deque<Returned>& returned,
    unsigned worker_number) {
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
    pipe.preserve_times = options.copy.preserve_times;
    pipe.times_not_kept = options.copy.times_not_kept;
    pipe.notice = options.copy.notice;
    pipe.behind_transfers =
        pipelines_behind_transfers(src.session->features(), src.session->greeting()) &&
        pipelines_behind_transfers(dst.session->features(), dst.session->greeting());
    pipe.block_mode = options.pipelining == Pipelining::block &&
        offers_block_mode(src.session->features()) && offers_block_mode(dst.session->features());
    // The window's floor in block mode: with no delay the round trip is a fraction of a
    // millisecond, and what keeps the servers busy between the client's turns on a loaded CPU is
    // files queued, not the bandwidth-delay product: 64 a pair, as 8 pairs of 16 had.
    if (pipe.block_mode) pipe.window.min_files = 4 * WindowLimits{}.min_files;
    // -j auto: a pair beyond the few that carry a block-mode job gives its item back unstarted.
    if (pipe.block_mode && pipelining_in_block_mode(worker_number)) {
        ready.push_front(first);
        co_return true;
    }
    PipelineItems items{*this, src, dst, failed, returned, false, first};
    const PipelineCallbacks callbacks = items.callbacks([&]() -> std::optional<std::size_t> {
        if (beyond_target(worker_number)) return std::nullopt;  // -j auto took this pair away
        return take([&](std::size_t i) { return can_pipeline(src, dst, i); });
    });
    if (auto ran = co_await run_pipeline(*src.session, *dst.session, pipe, callbacks); !ran) {
        drop(src);
        drop(dst);
    }
    // A pipeline that finished nothing (its pairing refused) hands back the window it took: this
    // worker copies the first the usual way, to find what works; the rest go back to every
    // worker, and to the relay pipeline when the servers turn out to refuse each other.
    if (!items.finished_any)
        for (; returned.size() > 1; returned.pop_back()) ready.push_front(returned.back().index);
    co_return items.finished_any;
}

// What a pipeline sends for an item: its file; nullopt when the item is to be copied the usual
// way (its destination may name a directory and the server has no MLST to tell); an error when
// its destination cannot be.
Expected<std::optional<PipelineFile>> BatchRun::State::pipeline_file(const Site& src, const Site& dst,
                                                                     std::size_t index) const {
    const JobItem& item = item_at(index);
    Expected<std::string> target = destination_path(item.source, item.destination);
    if (!target) return target.error();
    if (auto itself = onto_itself(src, dst, item, *target)) return *itself;
    PipelineFile file{index, item.source.path, *target, {}};
    if (!item.destination.names_directory() && !options.destinations_name_files) {
        // It may name a directory, to receive the file under the source's name: the pipeline
        // asks MLST; a server without it is asked the usual way.
        const std::string inside = *target + "/" + item.source.file_name();
        if (!dst.session->features().has("MLST") || onto_itself(src, dst, item, inside))
            return std::optional<PipelineFile>();
        file.into_directory = inside;
    }
    return std::optional<PipelineFile>(std::move(file));
}

// Servers known to refuse every pairing, or never to be paired (--relay always): their items are
// relayed one by one, not pipelined (a pipeline pairs the servers).
bool BatchRun::State::refusing_pairs(const Site& src, const Site& dst) const {
    const auto& copy = options.copy;
    if (copy.relay == RelayMode::always) return true;
    return copy.relay == RelayMode::automatic && copy.known_refusing && src.session && dst.session &&
        copy.known_refusing(relay_pair_name(*src.session, *dst.session));
}

asio::awaitable<void> BatchRun::State::worker(unsigned worker_number) {
    Site src, dst;
    std::deque<std::pair<std::size_t, Error>> failed;  // first attempts that failed in a pipeline
    std::deque<Returned> returned;                     // items a pipeline handed back
    // The pairing that last worked, and for which two logins.
    std::optional<PairingAttempt> paired;
    std::string paired_logins;
    bool proven = false;  // `paired` worked for a copy (rather than being the plan's first)
    bool pipelining = options.pipelining != Pipelining::off;
    bool relay_pipelining = pipelining;
    const auto logins = [&] { return src.login + " " + dst.login; };
    if (worker_number == 1 && options.open_pair) {
        co_await adopt(src, options.open_pair->source, options.open_pair->source_url);
        co_await adopt(dst, options.open_pair->destination, options.open_pair->destination_url);
    }
    for (;;) {
        if (!failed.empty()) {
            // Plain locals: GCC 12 mishandles structured bindings across co_await.
            const std::size_t index = failed.front().first;
            Error error = std::move(failed.front().second);
            failed.pop_front();
            // Refused for a missing directory: made, and the item's first attempt goes on.
            auto made = co_await make_missing_directory(src, dst, index, worker_number, error);
            if (made && *made) {
                co_await copy_one(src, dst, index, worker_number, 1, std::nullopt, true);
                continue;
            }
            if (!made) error = made.error();
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
            // Handed back by a direct pipeline whose pairing the servers refused: relayed together.
            // (Not a co_await inside &&: GCC 12 fails on it.)
            bool relayed = false;
            if (!item.from_relay_pipeline && item.source_size.value_or(0) <= PipelineOptions{}.largest)
                relayed = co_await try_relay_pipeline(src, dst, index, worker_number, failed, returned, relay_pipelining);
            if (relayed) continue;
            if (auto worked = co_await copy_one(src, dst, index, worker_number, 1, item.source_size)) {
                paired = worked;
                paired_logins = logins();
                proven = true;
            }
            continue;
        }
        // Whatever this worker's direct attempts found out is known by now.
        end_probe(worker_number);
        if (!co_await my_turn(worker_number, src, dst)) break;
        auto index = take();
        if (!index) {
            // Waiting for other workers' items, hold no connection: they may need it.
            if (journal->shared()) co_await quit(src, dst);
            if (co_await more_may_come()) continue;
            break;
        }
        if (concurrency && !is_local_item(item_at(*index))) {
            // -j auto: a login refused for the server's connection limit costs the item nothing.
            // (A local item logs in to its one server itself.)
            auto opened = co_await ensure_pair(src, dst, item_at(*index), worker_number);
            if (co_await refused_for_load(src, dst, opened, *index, worker_number)) continue;
            if (!opened) {
                // The item's first attempt failed at its logins, as copy_one's would have.
                begin(*index, 1);
                drop(src);
                drop(dst);
                if (co_await after_failure(*index, 1, opened.error()))
                    co_await copy_one(src, dst, *index, worker_number, 2);
                continue;
            }
            pair_opened(worker_number);
        }
        const bool relayed = co_await try_relay_pipeline(src, dst, *index, worker_number, failed, returned, relay_pipelining);
        if (relayed) continue;
        if (pipelining && can_pipeline_item(*index)) {
            auto opened = co_await ensure_pair(src, dst, item_at(*index), worker_number);
            // Another worker's direct attempt between these servers first: when they refuse,
            // this item is relayed at once, with the sessions open now.
            if (opened) co_await await_pairing(src, dst, worker_number);
            bool relayed_now = false;
            if (opened && refusing_pairs(src, dst))
                relayed_now = co_await try_relay_pipeline(src, dst, *index, worker_number, failed, returned,
                                                          relay_pipelining);
            if (relayed_now) continue;
            if (opened && !refusing_pairs(src, dst)) {
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
                    if (!co_await pipeline(src, dst, *index, *paired, failed, returned, worker_number)) {
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
    end_probe(worker_number);
    co_await quit(src, dst);
    worker_ended(worker_number);
}

} // namespace rsexec
