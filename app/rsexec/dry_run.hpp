#pragma once
// --dry-run for batch and mirror: what a run would do, item by item, without changing anything.
// Printed like a run: one JSON `plan` event per action and a `summary` (with --json or when
// stdout is not a terminal), else a line per action for people.
#include <optional>
#include <memory>
#include <set>
#include <string>

#include <asio/awaitable.hpp>

#include "journal_options.hpp"
#include "ftp/features.hpp"
#include "ftp/job_file.hpp"
#include "jobs/journal.hpp"
#include "client/pairing.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {

// How a pair of servers would be paired: the first attempt of the pairing plan, or why not.
struct PairDialect {
    std::optional<PairingAttempt> attempt;  // nullopt: they share no way (error unset) or unreachable
    std::optional<Error> error;             // the pair could not be reached
    const char* local = nullptr;            // "upload" or "download": one end on disk, nothing to pair
    std::string describe() const;           // "rfc438 with dst listening", "none", "unreachable: ..."
};

PairDialect dialect_of(const Features& source, const Features& destination, const TransferSettings& settings,
                       bool ipv6);
// Logs in to both servers of `item`, reads their FEAT and QUITs.
asio::awaitable<PairDialect> probe_pair(const JobItem& item, const TransferSettings& settings);

// Why a run would skip `item` under `policy` because of what is at its destination (nullopt: it
// would copy). Logs in to both servers, asks them as a run would (the destination as a
// directory, SIZE, MDTM, digests with --verify checksum), and QUITs.
asio::awaitable<Expected<std::optional<SkipReason>>> overwrite_skip(const JobItem& item, const TransferSettings& settings,
                                                                    Overwrite policy);

// The journal --journal names (else `default_where`), only if it exists: a dry run never makes
// one (null: none).
Expected<std::unique_ptr<Journal>> existing_journal(const JournalSettings& settings, const std::string& default_where,
                                                    const std::string& default_job);
// The journal_key of each of `items` a run would skip as done in that journal.
Expected<std::set<std::string>> done_in_journal(const JournalSettings& settings, const std::string& default_where,
                                                const std::string& default_job, const std::vector<JobItem>& items);

class PlanReport {
public:
    explicit PlanReport(bool json) : json_(json) {}
    // A copy a run would make, or skip: `skip_reason` "done" (done in the journal), or an
    // overwrite policy's reason ("exists", ...) with its `explanation` for people.
    void copy(std::size_t index, const JobItem& item, const PairDialect* dialect, const char* skip_reason,
              const char* explanation = "done in the journal");
    // A mirror's file the overwrite policy keeps (not an item: counted as up to date).
    void kept(const JobItem& item, SkipReason reason);
    void make_directory(const FtpUrl& directory);
    void remove(const FtpUrl& path, bool directory);
    // The closing summary; `up_to_date`: files a mirror found the same at both ends.
    void summary(std::optional<std::size_t> up_to_date = std::nullopt);

private:
    bool json_;
    std::size_t planned_ = 0, skipped_ = 0, made_ = 0, removed_ = 0;
};

} // namespace rsexec::cli
