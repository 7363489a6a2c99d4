#pragma once
// The state of one BatchRun, shared by batch*.cpp: the claimed items, the workers' sessions,
// the outcomes not yet recorded. Private to lib/jobs.
#include <deque>
#include <functional>
#include <random>
#include <set>
#include <unordered_map>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>

#include "jobs/batch.hpp"
#include "jobs/connection_limiter.hpp"
#include "client/data_protection.hpp"
#include "client/directory_destination.hpp"
#include "client/file_size.hpp"
#include "client/interruption.hpp"
#include "client/pipeline.hpp"
#include "client/same_file.hpp"
#include "client/url_copy.hpp"

namespace rsexec {

inline std::string server_of(const FtpUrl& url) { return url.authority(); }

// One end on this machine's disk (batch_local.cpp): an upload or a download, never paired.
bool is_local_item(const JobItem& item);

// The login a session stands for: reusable only for the same server and the same user.
inline std::string login_of(const FtpUrl& url, const Credentials& credentials) {
    return credentials.user + "@" + url.authority();
}

struct BatchRun::State {
    asio::any_io_executor executor;
    std::unique_ptr<ItemSource> source;  // the items to submit, with their passwords
    BatchOptions options;
    std::unique_ptr<Journal> own_journal;  // when options.journal is null
    Journal* journal = nullptr;
    ConnectionLimiter limiter;
    // The items claimed from the journal and not settled yet, by local index (references stay
    // valid); an entry goes once its outcome is recorded and announced.
    struct Entry {
        JobItem item;
        std::int64_t id = 0;
        std::size_t seq = 0;
        int earlier_claims = 0;
        bool relayed = false;  // its last attempt went through rsexec (the journal's relay column)
    };
    std::unordered_map<std::size_t, Entry> entries;
    std::size_t next_entry = 0;
    std::deque<std::size_t> ready;  // claimed, not started
    std::size_t chunk = 0;          // items per claim: options.claim_chunk, or 1 (give_back_unstarted)
    // What the journal does not hold of the items this process submitted: the passwords, by
    // login (scheme://user@host:port), and a line's passwords that differ from its login's first,
    // by position in the job (only for lines that have one).
    std::unordered_map<std::string, std::string> passwords;
    struct LinePolicies {
        std::optional<std::string> passwords[2];  // source, destination: when not the login's first
    };
    std::unordered_map<std::size_t, LinePolicies> line_policies;
    std::vector<Outcome> unreported;
    std::vector<BatchEvent> unannounced;  // their events
    std::vector<std::size_t> unannounced_index;  // their entries
    bool exhausted = false;  // the journal had nothing more to claim
    bool stopping = false;
    bool aborting = false;
    Interruption abort_signal;  // triggered with `aborting`: waits that race it end at once
    bool finished = false;  // every worker has ended
    asio::steady_timer keeper;  // keep_journal's wait
    BatchSummary summary;
    std::set<ControlSession*> open_sessions;  // for abort_running
    std::mt19937 random{std::random_device{}()};
    // -j auto: how many pairs work; workers beyond that many wait on `pairs_changed` (its
    // cancel() wakes them all). By worker number: alive (not ended), both sessions logged in.
    std::optional<ConcurrencyController> concurrency;
    asio::steady_timer pairs_changed;
    asio::steady_timer pacer;  // pace_pairs' wait
    std::vector<char> worker_alive, pair_working;
    unsigned spawned = 0;  // workers started
    std::size_t planned = 0;  // -j auto: the items this run is to do (none known: the maximum)
    std::set<std::size_t> directories_made;  // items whose missing directory was made (batch_directories.cpp)
    // Pairs of servers (relay_pair_name) whose pairing this run saw accepted, or refused every
    // way (then relayed), and those a worker's direct attempt is finding out about, by worker
    // (batch_pairings.cpp). `pairing_decided`'s cancel() wakes the workers waiting for one.
    std::set<std::string> pairs_accepted, pairs_refused;
    std::unordered_map<std::string, unsigned> pairs_probed;
    asio::steady_timer pairing_decided;

    State(asio::any_io_executor ex, std::unique_ptr<ItemSource> items, BatchOptions opts)
        : executor(ex), source(std::move(items)), options(std::move(opts)), limiter(ex, options.max_per_host),
          chunk(full_chunk()), abort_signal(ex), keeper(ex),
          pairs_changed(ex, asio::steady_timer::time_point::max()), pacer(ex),
          pairing_decided(ex, asio::steady_timer::time_point::max()) {
        remember_refusals();
    }

    std::size_t full_chunk() const { return std::max<std::size_t>(1, options.claim_chunk); }

    // `text` (a server's words in an error) without the item's passwords or any URL's
    // (batch_redaction.cpp): what is recorded or announced never holds one.
    std::string without_passwords(const JobItem& item, std::string text) const;

    void emit(BatchEvent event) {
        if (event.error && event.item) event.error->message = without_passwords(*event.item, event.error->message);
        if (options.on_event) options.on_event(event);
    }
    BatchEvent event(BatchEvent::Kind kind, std::size_t index, int attempt = 0) const {
        const Entry& entry = entries.at(index);
        return {kind, entry.seq, &entry.item, attempt, std::nullopt, std::nullopt, {}};
    }
    const JobItem& item_at(std::size_t index) const { return entries.at(index).item; }

    void journal_failed(const Error& error) {
        if (!summary.journal_error) summary.journal_error = error;
    }

    // Outcomes go to the journal before they are announced, so that what a run reports done is
    // done in the journal however the run ends. A shared journal takes them in chunks (at most
    // 100 ms or 64 items apart): one round trip for many files.
    void record(std::size_t index, ItemState state, int attempts, std::uint64_t bytes, std::string error,
                BatchEvent announcement);
    void flush();

    // Flushes outcomes every 100 ms and renews a shared journal's lease, until the run ends.
    asio::awaitable<void> keep_journal();

    // An item a pipeline handed back, with the source's size when its SIZE was answered.
    struct Returned {
        std::size_t index;
        std::optional<std::uint64_t> source_size;
        bool from_relay_pipeline = false;  // not to be offered to one again
    };

    // One side's session, reused while the next item names the same login.
    struct Site {
        std::unique_ptr<ControlSession> session;
        std::string login;
        std::string server;
    };

    void drop(Site& site);

    // Takes the connection slot for a session that is not open yet for this URL's login;
    // false when the open session already fits.
    asio::awaitable<bool> reserve(Site& site, const FtpUrl& url);

    // A session opened elsewhere, counted as this worker's own.
    asio::awaitable<void> adopt(Site& site, std::unique_ptr<ControlSession>& session, const FtpUrl& url);

    asio::awaitable<Status> open(Site& site, Side side, const FtpUrl& url, unsigned worker);

    // The two sessions an item needs, reusing those already open. Connection slots are taken in
    // a fixed order (source, then destination) so that two workers never wait on each other;
    // the logins then run side by side.
    asio::awaitable<Status> ensure_pair(Site& src, Site& dst, const JobItem& item, unsigned worker);

    Clock::duration backoff_for(int attempt);

    // An item an earlier run or a lost worker started may have been copied and renamed before
    // its outcome reached the journal: a final file the size of the source is that copy.
    asio::awaitable<std::optional<CopyResult>> found_complete(Site& src, Site& dst, const JobItem& item,
                                                              const std::string& target);

    // A copy onto itself would truncate or double the file: the item fails before any command
    // that changes a file, by name or by the addresses the two sessions reached.
    static std::optional<Error> onto_itself(const Site& src, const Site& dst, const JobItem& item,
                                            const std::string& target);

    asio::awaitable<Expected<CopyResult>> attempt(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                  int attempt, std::optional<std::uint64_t> known_size);

    // Submits the source's items to the journal a chunk at a time, keeping what the journal does
    // not hold; announces those done already. Returns how many are left to do.
    Expected<std::size_t> submit_source();
    void remember(const JobItem& item, std::size_t seq);
    // A claimed item as this process submitted it: its passwords and its line's policies back.
    void restore(JobItem& item, std::size_t seq) const;
    // Local items (batch_local.cpp): the server side's session only, the copy on it.
    asio::awaitable<Status> ensure_server(Site& site, Site& other, Side side, const FtpUrl& url, unsigned worker);
    asio::awaitable<std::optional<CopyResult>> found_complete_local(ControlSession& server, const JobItem& item);
    asio::awaitable<Expected<CopyResult>> attempt_local(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                        int attempt);
    bool relays_through_here(const Site& src, const Site& dst, const JobItem& item) const;

    // Claims the next chunk of items from the journal; false when it has none now.
    bool claim_more();

    // The next item to work on, if it `fits`.
    std::optional<std::size_t> take(const std::function<bool(std::size_t)>& fits = {});

    // Claimed items not started go back to the journal: when the run ends (a next run then finds
    // them unstarted, fit for a pipeline), and with a shared journal when a worker here is about
    // to spend long on one large file, so that workers elsewhere take them; this process then
    // claims one at a time until a pipeline finishes a file again.
    void release_unstarted();
    void give_back_unstarted();

    // With a shared journal, nothing to claim now may mean items other workers hold: wait and
    // look again while any are running (a worker that stops renewing its lease loses them).
    asio::awaitable<bool> more_may_come();

    void begin(std::size_t index, int attempt) { emit(event(BatchEvent::Kind::start, index, attempt)); }

    void succeeded(std::size_t index, int attempt, const CopyResult& result);

    // The overwrite policy kept the destination: a success, done in the journal.
    void kept(std::size_t index, int attempt, SkipReason reason);

    // The policy that holds for an item: its job-file line's, else the command's.
    Overwrite overwrite_for(std::size_t index) const {
        return item_at(index).overwrite.value_or(options.copy.overwrite);
    }

    void interrupted(std::size_t index, int attempt, const Error& error);

    // After a failed attempt: whether to try again (after the backoff), or the item is settled.
    asio::awaitable<bool> after_failure(std::size_t index, int attempt, const Error& error);

    // One item the usual way (copy_file), from attempt `first` on; `known_size` is the source's
    // size a pipeline has just been told, for the first of them. Returns the pairing that
    // worked, for the pipeline of the items after it.
    asio::awaitable<std::optional<PairingAttempt>> copy_one(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                            int first,
                                                            std::optional<std::uint64_t> known_size = std::nullopt,
                                                            bool announced = false);

    // Whether an item can go through a pipeline at all, and with the sessions open now.
    bool can_pipeline_item(std::size_t index) const;
    bool can_pipeline(const Site& src, const Site& dst, std::size_t index) const;
    bool refusing_pairs(const Site& src, const Site& dst) const;

    // A pair of servers found refusing every pairing is relayed by every worker from then on
    // (batch_pairings.cpp): copy_file's refusals are recorded here too, for known_refusing.
    void remember_refusals();
    // Before a worker's first direct attempt between two servers (its sessions open): while
    // another worker's attempt between them is undecided, waits for its outcome (bounded by the
    // session timeout), so that only one item pays for a pairing the servers refuse; otherwise
    // this worker's attempt is the one the others wait for, until pairing_accepted, a refusal,
    // or its end_probe.
    asio::awaitable<void> await_pairing(const Site& src, const Site& dst, unsigned worker);
    void pairing_accepted(const Site& src, const Site& dst);
    void end_probe(unsigned worker);

    // Pipelines `first` and the items after it, as long as they are between the same two
    // logins. Failed items go to `failed` (attempt 1 spent), unfinished ones to `returned`.
    // Returns whether the pipeline finished any file (one that finishes none is not tried again).
    asio::awaitable<bool> pipeline(Site& src, Site& dst, std::size_t first, PairingAttempt pairing,
                                   std::deque<std::pair<std::size_t, Error>>& failed,
                                   std::deque<Returned>& returned, unsigned worker_number);

    // What a direct or a relay pipeline reports of the batch's items, told apart only by
    // `relayed` (batch_pipeline_items.cpp): one start event an item, each file's outcome, the
    // items it hands back.
    struct PipelineItems {
        PipelineItems(State& run, const Site& source, const Site& destination,
                      std::deque<std::pair<std::size_t, Error>>& failed_items, std::deque<Returned>& returned_items,
                      bool relay_pipeline, std::size_t first)
            : state(run), src(source), dst(destination), failed(failed_items), returned(returned_items),
              relayed(relay_pipeline), pending_first(first) {}
        State& state;
        const Site& src;
        const Site& dst;
        std::deque<std::pair<std::size_t, Error>>& failed;
        std::deque<Returned>& returned;
        // The relay pipeline's items: their entries say relayed (for status --failed, should one
        // fail); those handed back are not offered to a relay pipeline again.
        bool relayed = false;
        std::optional<std::size_t> pending_first;  // the item the pipeline starts with
        std::set<std::size_t> announced;           // a start event is out
        bool finished_any = false;
        void announce(std::size_t index);
        // `take_next`: the next item for this pipeline, if any.
        PipelineCallbacks callbacks(std::function<std::optional<std::size_t>()> take_next);
    };

    // Items relayed through rsexec (--relay always, or servers known to refuse every pairing)
    // whose copies a relay pipeline can make (relay_pipeline.hpp), with the sessions open now.
    bool can_relay_pipeline(const Site& src, const Site& dst, std::size_t index) const;
    // What the direct and the relay pipeline send for an item (batch_workers.cpp).
    Expected<std::optional<PipelineFile>> pipeline_file(const Site& src, const Site& dst, std::size_t index) const;
    // Relays `first` and the items after it through one pair of sessions, as `pipeline` does.
    asio::awaitable<bool> relay_pipeline(Site& src, Site& dst, std::size_t first,
                                         std::deque<std::pair<std::size_t, Error>>& failed,
                                         std::deque<Returned>& returned);
    // `index` and the items after it through a relay pipeline, when it can go through one
    // (false: copy it another way); `enabled` turns false after a pipeline that did nothing.
    asio::awaitable<bool> try_relay_pipeline(Site& src, Site& dst, std::size_t index, unsigned worker,
                                             std::deque<std::pair<std::size_t, Error>>& failed,
                                             std::deque<Returned>& returned, bool& enabled);

    asio::awaitable<void> worker(unsigned worker_number);

    // -j auto (batch_concurrency.cpp). Sets up the controller; the number of workers to start.
    // `max_per_host`: the run's cap (a shared journal's job's, when the command gives none).
    unsigned plan_pairs(std::size_t to_do, unsigned max_per_host);
    // Feeds the controller every 50 ms until the run ends; wakes waiting workers on a change.
    asio::awaitable<void> pace_pairs();
    void note_pairs();  // the summary's concurrency fields
    // Before a worker takes a new item: waits while it is beyond the pairs at work (holding no
    // session); false when the job has nothing left to start.
    asio::awaitable<bool> my_turn(unsigned worker_number, Site& src, Site& dst);
    bool beyond_target(unsigned worker_number) const;
    // -j auto between servers in block mode (batch_concurrency.cpp): each pair's window covers the
    // round trip, so `block_mode_pairs` pairs carry the job, without the controller's ramp. Said
    // by a pipeline about to start in block mode; whether its worker is beyond those pairs.
    static constexpr unsigned block_mode_pairs = 2;
    bool block_mode = false;
    bool pipelining_in_block_mode(unsigned worker_number);
    unsigned pairs_target() const;
    void pair_opened(unsigned worker_number);
    void worker_ended(unsigned worker_number);
    // A login a server refused for its connection limit while this run holds other sessions to
    // it: the item goes back to be taken by a pair that works, the controller caps the pairs.
    asio::awaitable<bool> refused_for_load(Site& src, Site& dst, const Status& opened, std::size_t index,
                                           unsigned worker_number);
    // After an attempt whose STOR the destination refused (batch_directories.cpp): the directory
    // to make for the item, once per item, unless --no-mkdirs or its line's "mkdirs": false (then
    // `error` says so).
    std::optional<std::string> directory_to_make(std::size_t index, Error& error);
    // That directory made (MKD, parents first) on the sessions open now. True: try the item
    // again; false: `error` stands; an error: the MKD's refusal.
    asio::awaitable<Expected<bool>> make_missing_directory(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                           Error& error);
    // copy_one's failed attempt: the directory made on new sessions and the attempt made again,
    // or `error` as it was.
    asio::awaitable<Expected<CopyResult>> again_in_made_directory(Site& src, Site& dst, std::size_t index,
                                                                  unsigned worker, int attempt, Error error);

    asio::awaitable<void> quit(Site& src, Site& dst);
};

} // namespace rsexec
