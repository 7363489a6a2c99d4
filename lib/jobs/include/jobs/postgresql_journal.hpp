#pragma once
// The journal in PostgreSQL (libpq): one job shared by any number of workers on any machines.
// Items are claimed in chunks with SELECT ... FOR UPDATE SKIP LOCKED; each worker holds a lease
// it renews, and the running items of a worker whose lease ran out are claimed again by others.
// Connections to each server are counted in the database, so the job's cap holds fleet-wide.
#include "jobs/journal.hpp"

typedef struct pg_conn PGconn;

namespace rsexec {

class PostgresqlJournal final : public Journal {
public:
    // Connects (`uri` as libpq reads it) and creates or checks the schema.
    static Expected<std::unique_ptr<Journal>> open(const std::string& uri, JournalOptions options);
    ~PostgresqlJournal() override;

    const std::string& job() const override { return options_.job; }
    std::chrono::seconds lease() const override { return options_.lease; }
    bool shared() const override { return true; }
    Status begin_submit(unsigned max_per_host) override;
    Expected<std::vector<std::size_t>> submit_chunk(const std::vector<JobItem>& items, std::size_t first_seq) override;
    Status end_submit() override;
    void abandon_submit() override;
    Expected<std::vector<ClaimedItem>> claim(std::size_t count) override;
    Status report(const std::vector<Outcome>& outcomes) override;
    Status release(const std::vector<std::int64_t>& ids) override;
    Status renew_lease() override;
    Status leave() override;
    Expected<bool> acquire_connection(const std::string& server, unsigned cap) override;
    Status release_connection(const std::string& server) override;
    Expected<JobProgress> progress() override;
    Expected<std::vector<std::string>> jobs() override;
    Expected<std::vector<std::size_t>> done_among(const std::vector<std::string>& keys) override;
    Expected<std::vector<UnfinishedItem>> unfinished_items() override;
    Expected<bool> unfinished() override;
    std::uint64_t round_trips() const override { return round_trips_; }

private:
    class Result;
    PostgresqlJournal(PGconn* db, JournalOptions options) : db_(db), options_(std::move(options)) {}
    // `again`: the one retry after a reconnection.
    Expected<Result> query(const char* sql, const std::vector<std::string>& params, bool again = false);
    Status create_schema();
    Status find_job();

    PGconn* db_ = nullptr;
    JournalOptions options_;
    std::uint64_t round_trips_ = 0;
};

} // namespace rsexec
