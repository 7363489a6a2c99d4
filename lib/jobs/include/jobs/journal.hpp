#pragma once
// The journal: a job's items and their states in a database, so that a batch run again after a
// crash skips what is done, and so that several workers (processes, machines) can share one job.
// Two implementations: SQLite (a file; one process at a time) and PostgreSQL (a shared queue with
// leases). Workers claim items in chunks and report outcomes in chunks: about one database round
// trip for many files.
//
// The journal never holds a password: items are stored with the URLs as displayed (the user,
// never the password). The process that submits a job keeps its passwords in memory; a worker
// elsewhere logs in with its own .netrc.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftp/expected.hpp"
#include "ftp/job_file.hpp"

namespace rsexec {

enum class ItemState { pending, running, done, failed };
const char* item_state_name(ItemState state) noexcept;
std::optional<ItemState> parse_item_state(std::string_view name) noexcept;

// The key an item has in the journal: its URLs as shown (never a password) and its mode.
std::string journal_key(const JobItem& item);
// A 64-bit hash of a journal_key (FNV-1a): the journals' compact lookup key, so that their index
// stays small whatever the URLs' length. Two keys may share it: a lookup also compares the key.
std::int64_t journal_ident(std::string_view key) noexcept;

// An item a worker claimed: for it alone until it reports the outcome, or its lease runs out.
struct ClaimedItem {
    std::int64_t id = 0;
    std::size_t seq = 0;       // position in the job as submitted
    JobItem item;              // URLs as stored: no password
    int earlier_claims = 0;    // > 0: an earlier run or a lost worker started it
};

struct Outcome {
    std::int64_t id = 0;
    ItemState state = ItemState::done;  // done, failed, or pending (interrupted: claim it again)
    std::uint64_t bytes = 0;
    int attempts = 1;
    std::string error;
    int exit_code = 0;                  // failed: the exit code `rsexec copy` would give (ftp/exit_code.hpp)
    bool relayed = false;               // the bytes went (or were going) through rsexec (client/relay.hpp)
};

// An item not done, as the journal holds it: what `rsexec status --failed` lists and what
// `--dump-failed` writes back as a job file.
struct UnfinishedItem {
    std::size_t seq = 0;       // position in the job as submitted
    std::size_t line = 0;      // 1-based line in the job file (0: not from a job file, e.g. mirror)
    ItemState state = ItemState::pending;
    std::string source, destination;  // as shown: never a password
    bool append = false;
    int attempts = 0;
    int exit_code = 0;         // of the last failure; 0 when none was recorded (or by an older rsexec)
    std::string last_error;
    bool relayed = false;      // its last attempt went through rsexec
};

struct WorkerProgress {
    std::string name;
    bool alive = false;        // its lease has not run out
    std::size_t running = 0, done = 0, failed = 0;
    std::uint64_t bytes = 0;
};

struct JobProgress {
    std::string job;
    std::size_t pending = 0, running = 0, done = 0, failed = 0;
    std::uint64_t bytes = 0;           // of the done items
    std::size_t relayed = 0;           // done items whose bytes went through rsexec
    double seconds = 0;                // first claim to last outcome
    unsigned max_per_host = 0;         // the job's cap on connections to one server (0: none)
    std::vector<WorkerProgress> workers;
    std::size_t total() const noexcept { return pending + running + done + failed; }
};

struct JournalOptions {
    std::string job;                   // the job's name; empty: the only (or oldest unfinished) job
    std::string worker;                // this process's name among the workers
    std::chrono::seconds lease{30};    // a worker silent this long has lost its items
};

class Journal {
public:
    virtual ~Journal() = default;

    // The job this journal works on (JournalOptions::job, or the one it found).
    virtual const std::string& job() const = 0;
    // Whether other processes may work on the same job (they then share connection caps and
    // take over the items of a worker that stops renewing its lease).
    virtual bool shared() const = 0;
    // A worker silent this long loses its items; it renews the lease a third of it apart.
    virtual std::chrono::seconds lease() const = 0;

    // Adds the items the journal does not know (keyed by journal_key) as pending; failed items
    // and items of a run that stopped go back to pending. Returns the positions of the items
    // already done. `max_per_host` becomes the job's cap for every worker.
    Expected<std::vector<std::size_t>> submit(const std::vector<JobItem>& items, unsigned max_per_host);
    // The same in chunks, for a job of any length in the memory of one chunk: begin_submit, then
    // submit_chunk for each chunk in job order (`first_seq`: the first item's position in the
    // job; returns the positions of its items already done), then end_submit. One transaction:
    // the job is in the journal whole or not at all (abandon_submit, or a crash, rolls it back).
    virtual Status begin_submit(unsigned max_per_host) = 0;
    virtual Expected<std::vector<std::size_t>> submit_chunk(const std::vector<JobItem>& items, std::size_t first_seq) = 0;
    virtual Status end_submit() = 0;
    virtual void abandon_submit() = 0;

    // Up to `count` items, in job order: pending ones, and running ones of workers whose lease
    // ran out. Renews this worker's lease.
    virtual Expected<std::vector<ClaimedItem>> claim(std::size_t count) = 0;
    virtual Status report(const std::vector<Outcome>& outcomes) = 0;
    // Items this worker claimed and never started go back to pending as if never claimed, for
    // other workers to take (and with no earlier claim to resume from).
    virtual Status release(const std::vector<std::int64_t>& ids) = 0;
    virtual Status renew_lease() = 0;
    // This worker stops: what it claimed and did not finish goes back to pending.
    virtual Status leave() = 0;

    // A connection slot to `server` counted for the whole job: false when `cap` are open.
    virtual Expected<bool> acquire_connection(const std::string& server, unsigned cap) = 0;
    virtual Status release_connection(const std::string& server) = 0;

    virtual Expected<JobProgress> progress() = 0;
    // The names of the jobs the journal holds (a SQLite journal holds one).
    virtual Expected<std::vector<std::string>> jobs() = 0;
    // Which of `keys` (journal_key) are items of the job that are done, as their positions in
    // `keys`: what a run would skip. Reads only; asked a chunk at a time.
    virtual Expected<std::vector<std::size_t>> done_among(const std::vector<std::string>& keys) = 0;
    // Every item of the job that is not done (pending, running or failed), in job order. Reads only.
    virtual Expected<std::vector<UnfinishedItem>> unfinished_items() = 0;
    // Whether any item of the job is pending or running (cheaper than progress()).
    virtual Expected<bool> unfinished() = 0;
    // Database round trips made so far (for the benchmark's overhead per item).
    virtual std::uint64_t round_trips() const = 0;
};

// `where` is a postgresql:// (or postgres://) URI, or else an SQLite file (":memory:" for none).
Expected<std::unique_ptr<Journal>> open_journal(const std::string& where, JournalOptions options);
bool is_postgresql_uri(std::string_view where) noexcept;

// How both implementations store an item, and back.
struct StoredItem {
    std::string key, source, destination;
    bool append = false;
    // The line's own policies (job file fields "overwrite", "relay", "mkdirs"); nullopt: unset,
    // the worker's flags decide.
    std::optional<std::string> overwrite, relay;
    std::optional<bool> mkdirs;
};
StoredItem stored_item(const JobItem& item);
Expected<JobItem> item_from_stored(const std::string& source, const std::string& destination, bool append,
                                   std::size_t line);
// A stored line's own policies back into its item (what item_from_stored leaves unset).
Status restore_line_policies(JobItem& item, const std::optional<std::string>& overwrite,
                             const std::optional<std::string>& relay, std::optional<bool> mkdirs);

} // namespace rsexec
