#pragma once
// The journal in a SQLite file (WAL mode): the embedded default, for one process at a time.
// Its connection caps are the process's own (ConnectionLimiter); it has no leases to renew.
#include "jobs/journal.hpp"

struct sqlite3;

namespace rsexec {

class SqliteJournal final : public Journal {
public:
    // Opens or creates the file (":memory:": a journal that lives as long as the process); the
    // schema is created on first use, and a journal of the schema before is brought forward.
    static Expected<std::unique_ptr<Journal>> open(const std::string& path, JournalOptions options);
    ~SqliteJournal() override;

    const std::string& job() const override { return options_.job; }
    std::chrono::seconds lease() const override { return options_.lease; }
    bool shared() const override { return false; }
    Expected<std::vector<std::size_t>> submit(const std::vector<JobItem>& items, unsigned max_per_host) override;
    Expected<std::vector<ClaimedItem>> claim(std::size_t count) override;
    Status report(const std::vector<Outcome>& outcomes) override;
    Status release(const std::vector<std::int64_t>& ids) override;
    Status renew_lease() override { return success(); }
    Status leave() override;
    Expected<bool> acquire_connection(const std::string&, unsigned) override { return true; }
    Status release_connection(const std::string&) override { return success(); }
    Expected<JobProgress> progress() override;
    Expected<std::vector<std::string>> jobs() override;
    Expected<std::vector<std::string>> done_keys() override;
    Expected<std::vector<UnfinishedItem>> unfinished_items() override;
    Expected<bool> unfinished() override;
    std::uint64_t round_trips() const override { return round_trips_; }

private:
    SqliteJournal(sqlite3* db, JournalOptions options) : db_(db), options_(std::move(options)) {}
    Status exec(const std::string& sql);
    Status migrate();

    sqlite3* db_ = nullptr;
    JournalOptions options_;
    std::uint64_t round_trips_ = 0;
};

} // namespace rsexec
