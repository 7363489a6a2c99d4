#pragma once
// The journal in a SQLite file (WAL mode): the embedded default, for one process at a time.
// Its connection caps are the process's own (ConnectionLimiter); it has no leases to renew.
#include "jobs/journal.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace rsexec {

class SqliteJournal final : public Journal {
public:
    // Opens or creates the file (":memory:": a journal that lives as long as the process, in
    // memory; "": the same on disk beyond SQLite's page cache, removed when closed); the
    // schema is created on first use, and a journal of the schema before is brought forward.
    static Expected<std::unique_ptr<Journal>> open(const std::string& path, JournalOptions options);
    ~SqliteJournal() override;

    const std::string& job() const override { return options_.job; }
    std::chrono::seconds lease() const override { return options_.lease; }
    bool shared() const override { return false; }
    Status begin_submit(unsigned max_per_host) override;
    Expected<std::vector<std::size_t>> submit_chunk(const std::vector<JobItem>& items, std::size_t first_seq) override;
    Status end_submit() override;
    void abandon_submit() override;
    Expected<std::vector<ClaimedItem>> claim(std::size_t count) override;
    Status report(const std::vector<Outcome>& outcomes) override;
    Status release(const std::vector<std::int64_t>& ids) override;
    Status renew_lease() override { return success(); }
    Status leave() override;
    Expected<bool> acquire_connection(const std::string&, unsigned) override { return true; }
    Status release_connection(const std::string&) override { return success(); }
    Expected<JobProgress> progress() override;
    Expected<std::vector<std::string>> jobs() override;
    Expected<std::vector<std::size_t>> done_among(const std::vector<std::string>& keys) override;
    Expected<std::vector<UnfinishedItem>> unfinished_items() override;
    Expected<bool> unfinished() override;
    std::uint64_t round_trips() const override { return round_trips_; }

private:
    SqliteJournal(sqlite3* db, JournalOptions options) : db_(db), options_(std::move(options)) {}
    Status exec(const std::string& sql);
    Status migrate();
    Status migrate_to_5();  // schema 4 -> 5: the relayed column
    Status migrate_to_6();  // schema 5 -> 6: items found by journal_ident; a line's own policies

    sqlite3* db_ = nullptr;
    // Between begin_submit and end_submit: an item's row by its key, its update, its insert.
    sqlite3_stmt* find_stmt_ = nullptr;
    sqlite3_stmt* update_stmt_ = nullptr;
    sqlite3_stmt* insert_stmt_ = nullptr;
    void finalize_submit();
    bool bulk_ = false;  // a submission into a journal without items: the ident index made at its end
    sqlite3_stmt* report_stmt_ = nullptr;  // report's UPDATE, prepared once: a local run reports every item alone
    unsigned submit_max_per_host_ = 0;
    JournalOptions options_;
    std::uint64_t round_trips_ = 0;
};

} // namespace rsexec
