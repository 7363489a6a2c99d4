#pragma once
// The batch engine: many paired transfers through N workers, items claimed from a journal. Each worker keeps its two logged-in
// control sessions and reuses them for the next item between the same two servers, so a batch
// of a thousand files between two sites costs a handful of logins. Transient failures are
// retried with exponential backoff and jitter; one item's failure never stops the others.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "ftp/job_file.hpp"
#include "jobs/concurrency_controller.hpp"
#include "jobs/journal.hpp"
#include "ftp/netrc.hpp"
#include "client/progress_meter.hpp"
#include "client/transfer.hpp"

namespace rsexec {

struct BatchEvent {
    enum class Kind { start, progress, done, retry, failed, skipped, interrupted };
    Kind kind;
    std::size_t index = 0;             // position in the item list
    const JobItem* item = nullptr;
    int attempt = 0;                   // 1 for the first try
    std::optional<CopyResult> result;  // done
    std::optional<Error> error;        // retry, failed, interrupted
    Clock::duration delay{};           // retry: the wait before the next attempt
    std::uint64_t bytes = 0;           // progress: the copy's size so far
    std::optional<TransferProgress> progress{};  // progress: the size, total, rate and time left
    // skipped: why; nullopt when the journal has the item done from an earlier run.
    std::optional<SkipReason> skip_reason = std::nullopt;
};
const char* event_kind_name(BatchEvent::Kind kind) noexcept;

// How far a worker pipelines the commands of consecutive files between the same two servers
// (pipeline.hpp): not at all, commands only, or also block mode where both servers offer it.
enum class Pipelining { off, commands, block };
const char* pipelining_name(Pipelining pipelining) noexcept;
std::optional<Pipelining> parse_pipelining(std::string_view name);

// Two sessions already logged in (mirror's, after its listing): the first worker starts with
// them instead of logging in again.
struct OpenPair {
    std::unique_ptr<ControlSession> source, destination;
    FtpUrl source_url, destination_url;
};

struct BatchOptions {
    // Concurrent session pairs; 0: -j auto (ConcurrencyController), at most max_per_host pairs
    // when it is set, else auto_pairs.most.
    unsigned jobs = 0;
    ConcurrencySettings auto_pairs;
    unsigned max_per_host = 0;         // 0: no cap
    unsigned retries = 3;              // further attempts after the first, for transient failures
    Clock::duration backoff = std::chrono::seconds(1);
    CopyOptions copy;
    Pipelining pipelining = Pipelining::block;
    SessionOptions session;
    const Netrc* netrc = nullptr;
    // Where the items come from and their outcomes go: the items given to BatchRun are submitted
    // to it first (what it records as done is skipped); a shared journal may also hold items
    // other processes submitted. Null: a journal in memory.
    Journal* journal = nullptr;
    std::size_t claim_chunk = 16;      // items claimed per round trip to the journal
    std::shared_ptr<OpenPair> open_pair;
    std::function<void(const BatchEvent&)> on_event;
    // An item whose STOR is refused gets its missing destination directory made (MKD, parents
    // first) and is tried once more (--no-mkdirs: false; a job-file line's "mkdirs" wins).
    bool make_directories = true;
    // The items' destinations name files, never directories that exist (a mirror's plan, read
    // from the destination's listing): no "is it a directory?" question per file (MLST, else
    // SIZE and CWD), so they are pipelined between servers without MLST too.
    bool destinations_name_files = false;
};

struct BatchSummary {
    // skipped: done in the journal already, or kept by the overwrite policy.
    std::size_t done = 0, skipped = 0, failed = 0, interrupted = 0;
    std::uint64_t bytes = 0;
    Clock::duration elapsed{};
    unsigned logins = 0;               // control sessions opened
    unsigned peak_per_host = 0;        // most sessions open to one server at once
    std::uint64_t journal_round_trips = 0;
    std::optional<Error> journal_error;  // the journal could not be read or written
    // The pairs at work when the run ended (-j N: N); -j auto's most at once, and the logins
    // servers refused for their connection limit (each item then went to another pair).
    unsigned concurrency = 0, concurrency_peak = 0, limit_refusals = 0;
    bool concurrency_auto = false;
};

// Whether a failure may go away by itself (4yz, lost connections, timeouts) or will not (5yz).
bool is_transient(const Error& error);

// Where a run's items come from, a chunk at a time: a job of any length is submitted to the
// journal in the memory of one chunk.
class ItemSource {
public:
    virtual ~ItemSource() = default;
    // The next items, up to `max`, in job order; none at the end.
    virtual Expected<std::vector<JobItem>> next(std::size_t max) = 0;
};

// A list already in memory (a mirror's plan, a test's items) as a source.
std::unique_ptr<ItemSource> items_in_memory(std::vector<JobItem> items);

class BatchRun {
public:
    BatchRun(asio::any_io_executor executor, std::vector<JobItem> items, BatchOptions options);
    // The items read from `source` as the run submits them. Of each item the run keeps only its
    // passwords (one per user@server: a session serves every item of its login) and the policies
    // its line sets; the rest comes back from the journal when the item is claimed.
    BatchRun(asio::any_io_executor executor, std::unique_ptr<ItemSource> source, BatchOptions options);
    ~BatchRun();

    asio::awaitable<BatchSummary> run();
    // A first SIGINT: start no new item, let the running ones finish.
    void stop_starting() noexcept;
    // A second one: abort the running transfers too (their items stay pending in the journal).
    void abort_running();

private:
    struct State;
    std::unique_ptr<State> state_;
};

} // namespace rsexec
