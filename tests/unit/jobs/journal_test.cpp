#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobs/journal.hpp"

using namespace rsexec;

namespace {
struct TempJournalPath {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
        ("rsexec-journal-test-" + std::to_string(::getpid()) + ".sqlite");
    ~TempJournalPath() {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    }
};

JobItem item(const std::string& name, std::size_t line) {
    return {line, *parse_ftp_url("ftp://alice:secret@a.example/data/" + name),
            *parse_ftp_url("ftp://bob:hidden@b.example/in/"), false};
}

std::vector<JobItem> three_items() { return {item("f1", 1), item("f2", 2), item("f3", 3)}; }

std::unique_ptr<Journal> open_at(const std::string& path, const std::string& worker = "w1") {
    auto journal = open_journal(path, {"job.txt", worker, std::chrono::seconds(30)});
    REQUIRE(journal);
    return std::move(*journal);
}

std::string file_text(const std::filesystem::path& path) {
    std::string text;
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
        std::fclose(f);
    }
    return text;
}
} // namespace

TEST_CASE("items are claimed in job order, a chunk at a time, and each only once") {
    auto journal = open_at(":memory:");
    auto done = journal->submit(three_items(), 0);
    REQUIRE(done);
    CHECK(done->empty());
    auto first = journal->claim(2);
    REQUIRE(first);
    REQUIRE(first->size() == 2);
    CHECK((*first)[0].seq == 0);
    CHECK((*first)[1].seq == 1);
    CHECK((*first)[0].item.line == 1);
    CHECK((*first)[0].item.source.path == "data/f1");
    CHECK((*first)[0].earlier_claims == 0);
    auto second = journal->claim(2);
    REQUIRE(second);
    REQUIRE(second->size() == 1);
    CHECK((*second)[0].seq == 2);
    CHECK(journal->claim(2)->empty());
    CHECK(*journal->unfinished());
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->running == 3);
    CHECK(progress->pending == 0);
}

TEST_CASE("released items are pending again, as if never claimed, and only this worker's") {
    TempJournalPath path;
    auto journal = open_at(path.path.string(), "w1");
    REQUIRE(journal->submit(three_items(), 0));
    auto claimed = journal->claim(3);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    // Another worker cannot release what w1 holds.
    auto other = open_at(path.path.string(), "w2");
    REQUIRE(other->release({(*claimed)[0].id}));
    CHECK(other->claim(3)->empty());
    REQUIRE(journal->release({(*claimed)[1].id, (*claimed)[2].id}));
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->running == 1);
    CHECK(progress->pending == 2);
    auto again = other->claim(3);
    REQUIRE(again);
    REQUIRE(again->size() == 2);
    CHECK((*again)[0].seq == 1);
    CHECK((*again)[0].earlier_claims == 0);  // never started: nothing to resume
    CHECK((*again)[1].earlier_claims == 0);
}

TEST_CASE("a journal keeps no password: items come back with their users only") {
    TempJournalPath file;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(three_items(), 0));
        auto claimed = journal->claim(1);
        REQUIRE(claimed);
        CHECK((*claimed)[0].item.source.user == "alice");
        CHECK_FALSE((*claimed)[0].item.source.password);
    }
    const auto text = file_text(file.path) + file_text(file.path.string() + "-wal");
    CHECK(text.find("alice") != std::string::npos);
    CHECK(text.find("secret") == std::string::npos);
    CHECK(text.find("hidden") == std::string::npos);
    struct stat info {};
    REQUIRE(::stat(file.path.c_str(), &info) == 0);
    CHECK((info.st_mode & 077) == 0);
}

TEST_CASE("outcomes persist: a second run skips what is done and retries the rest") {
    TempJournalPath file;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(three_items(), 0));
        auto claimed = journal->claim(3);
        REQUIRE(claimed);
        REQUIRE(journal->report({{(*claimed)[0].id, ItemState::done, 42, 1, ""},
                                 {(*claimed)[1].id, ItemState::failed, 0, 4, "src: RETR f2: 550 No such file"}}));
        // The third stays running: this run "crashed".
    }
    auto journal = open_at(file.path.string(), "w2");
    const auto progress_before = journal->progress();
    REQUIRE(progress_before);
    CHECK(progress_before->done == 1);
    CHECK(progress_before->failed == 1);
    CHECK(progress_before->running == 1);
    CHECK(progress_before->bytes == 42);
    auto done = journal->submit(three_items(), 0);
    REQUIRE(done);
    CHECK(*done == std::vector<std::size_t>{0});
    auto claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 2);
    CHECK((*claimed)[0].seq == 1);
    CHECK((*claimed)[1].seq == 2);
    CHECK((*claimed)[1].earlier_claims == 1);  // the crashed run had started it: resume it
    // An interrupted item goes back to pending; leave() returns what this worker did not finish.
    REQUIRE(journal->report({{(*claimed)[0].id, ItemState::pending, 0, 1, "interrupted"}}));
    REQUIRE(journal->leave());
    auto after = journal->progress();
    REQUIRE(after);
    CHECK(after->pending == 2);
    CHECK(after->running == 0);
    auto rest = journal->claim(10);
    REQUIRE(rest);
    std::vector<Outcome> outcomes;
    for (const auto& claimed_item : *rest) outcomes.push_back({claimed_item.id, ItemState::done, 1, 1, ""});
    REQUIRE(journal->report(outcomes));
    CHECK_FALSE(*journal->unfinished());
}

TEST_CASE("an item the job file no longer lists is not claimed") {
    TempJournalPath file;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(three_items(), 0));
    }
    auto journal = open_at(file.path.string());
    REQUIRE(journal->submit({item("f1", 1), item("f3", 2)}, 0));
    auto claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 2);
    CHECK((*claimed)[0].item.source.path == "data/f1");
    CHECK((*claimed)[1].item.source.path == "data/f3");
    CHECK(journal->progress()->total() == 2);
}

TEST_CASE("a journal of the first schema is brought forward and keeps its states") {
    TempJournalPath file;
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
        const auto key = journal_key(item("f1", 1));
        const std::string sql =
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
            " updated TEXT NOT NULL DEFAULT (datetime('now')));"
            "INSERT INTO items (key, state, bytes) VALUES ('" + key + "', 'done', 7);";
        REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    auto journal = open_at(file.path.string());
    auto done = journal->submit(three_items(), 0);
    REQUIRE(done);
    CHECK(*done == std::vector<std::size_t>{0});
    CHECK(journal->claim(10)->size() == 2);
}

TEST_CASE("a journal that is not a database is a clear error") {
    TempJournalPath file;
    { std::FILE* f = std::fopen(file.path.c_str(), "w"); std::fputs("not sqlite at all, just text\n", f); std::fclose(f); }
    const auto journal = open_journal(file.path.string(), {});
    REQUIRE_FALSE(journal);
    CHECK(journal.error().message.find("journal") != std::string::npos);
}

TEST_CASE("a PostgreSQL journal that cannot be reached is a clear error, without the password") {
    const auto journal = open_journal("postgresql://rsexec:topsecret@127.0.0.1:1/jobs?connect_timeout=2", {});
    REQUIRE_FALSE(journal);
    CHECK(journal.error().message.find("journal postgresql://rsexec:***@127.0.0.1:1/jobs") != std::string::npos);
    CHECK(journal.error().message.find("topsecret") == std::string::npos);
}

TEST_CASE("items not done are listed in job order with their line, exit code and last error, without password") {
    auto journal = open_at(":memory:");
    REQUIRE(journal->submit(three_items(), 0));
    auto claimed = journal->claim(3);
    REQUIRE(claimed);
    Outcome failed{(*claimed)[1].id, ItemState::failed, 0, 2, "src: RETR f2: 550 No such file"};
    failed.exit_code = 5;
    REQUIRE(journal->report({{(*claimed)[0].id, ItemState::done, 42, 1, ""}, failed}));
    REQUIRE(journal->leave());
    auto items = journal->unfinished_items();
    REQUIRE(items);
    REQUIRE(items->size() == 2);
    CHECK((*items)[0].line == 2);
    CHECK((*items)[0].state == ItemState::failed);
    CHECK((*items)[0].exit_code == 5);
    CHECK((*items)[0].attempts == 2);
    CHECK((*items)[0].last_error == "src: RETR f2: 550 No such file");
    CHECK((*items)[0].source == "ftp://alice@a.example:21/data/f2");
    CHECK((*items)[0].destination.find("hidden") == std::string::npos);
    CHECK((*items)[1].line == 3);
    CHECK((*items)[1].state == ItemState::pending);
    CHECK((*items)[1].exit_code == 0);
}

TEST_CASE("a journal of the second schema is brought forward: its failed items listed, their exit code unknown") {
    TempJournalPath file;
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
        const auto stored = stored_item(item("f2", 2));
        const std::string sql =
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '2'), ('job', 'job.txt');"
            "CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
            " updated TEXT NOT NULL DEFAULT (datetime('now')), seq INTEGER NOT NULL DEFAULT 0,"
            " line INTEGER NOT NULL DEFAULT 0, src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '',"
            " append INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '', claims INTEGER NOT NULL DEFAULT 0,"
            " started REAL, finished REAL);"
            "CREATE INDEX items_queue ON items (state, seq);"
            "INSERT INTO items (key, state, attempts, last_error, seq, line, src, dst) VALUES ('" + stored.key +
            "', 'failed', 1, 'src: RETR f2: 550 No such file', 1, 2, '" + stored.source + "', '" +
            stored.destination + "');";
        REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    auto journal = open_at(file.path.string());
    auto items = journal->unfinished_items();
    REQUIRE(items);
    REQUIRE(items->size() == 1);
    CHECK((*items)[0].line == 2);
    CHECK((*items)[0].exit_code == 0);
    CHECK((*items)[0].last_error == "src: RETR f2: 550 No such file");
    // Run again, the item records its exit code now.
    REQUIRE(journal->submit(three_items(), 0));
    auto claimed = journal->claim(3);
    REQUIRE(claimed);
    Outcome failed{(*claimed)[1].id, ItemState::failed, 0, 1, "src: RETR f2: 550 No such file"};
    failed.exit_code = 5;
    REQUIRE(journal->report({failed}));
    auto after = journal->unfinished_items();
    REQUIRE(after);
    CHECK((*after)[1].exit_code == 5);
}

namespace {
// progress() as the items say it, by a full count in a connection of its own (what progress()
// computed before the journal kept counters).
JobProgress counted_progress(const std::filesystem::path& path) {
    JobProgress counted;
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT state, worker, COUNT(*), SUM(bytes), MIN(started), MAX(finished) FROM items"
                                   " WHERE src <> '' GROUP BY worker, state ORDER BY worker",
                               -1, &stmt, nullptr) == SQLITE_OK);
    double first = 0, last = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const std::string state = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
        const auto n = static_cast<std::size_t>(sqlite3_column_int64(stmt, 2));
        const auto bytes = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 3));
        WorkerProgress* worker = nullptr;
        if (!name.empty()) {
            if (counted.workers.empty() || counted.workers.back().name != name) counted.workers.push_back({name});
            worker = &counted.workers.back();
        }
        if (state == "pending") counted.pending += n;
        WorkerProgress unnamed;
        if (!worker) worker = &unnamed;
        if (state == "running") {
            counted.running += n;
            worker->running += n;
        }
        if (state == "failed") {
            counted.failed += n;
            worker->failed += n;
        }
        if (state == "done") {
            counted.done += n;
            counted.bytes += bytes;
            worker->done += n;
            worker->bytes += bytes;
            last = std::max(last, sqlite3_column_double(stmt, 5));
        }
        if (sqlite3_column_type(stmt, 4) != SQLITE_NULL && (first == 0 || sqlite3_column_double(stmt, 4) < first))
            first = sqlite3_column_double(stmt, 4);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (first > 0 && last > first) counted.seconds = last - first;
    return counted;
}

void check_progress_is_counted(Journal& journal, const std::filesystem::path& path, const char* after) {
    INFO("after " << after);
    const auto kept = journal.progress();
    REQUIRE(kept);
    const auto counted = counted_progress(path);
    CHECK(kept->pending == counted.pending);
    CHECK(kept->running == counted.running);
    CHECK(kept->done == counted.done);
    CHECK(kept->failed == counted.failed);
    CHECK(kept->bytes == counted.bytes);
    CHECK(kept->seconds == doctest::Approx(counted.seconds));
    REQUIRE(kept->workers.size() == counted.workers.size());
    for (std::size_t i = 0; i < counted.workers.size(); ++i) {
        CHECK(kept->workers[i].name == counted.workers[i].name);
        CHECK(kept->workers[i].running == counted.workers[i].running);
        CHECK(kept->workers[i].done == counted.workers[i].done);
        CHECK(kept->workers[i].failed == counted.workers[i].failed);
        CHECK(kept->workers[i].bytes == counted.workers[i].bytes);
    }
}

std::string schema_of(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'schema'", -1, &stmt, nullptr) == SQLITE_OK);
    std::string version = sqlite3_step(stmt) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) : "";
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return version;
}
} // namespace

TEST_CASE("the journal's progress counters agree with a full count after every kind of change") {
    TempJournalPath file;
    std::vector<JobItem> five;
    for (std::size_t i = 1; i <= 5; ++i) five.push_back(item("f" + std::to_string(i), i));
    {
        auto journal = open_at(file.path.string(), "w1");
        CHECK(schema_of(file.path) == "6");
        check_progress_is_counted(*journal, file.path, "opening");
        REQUIRE(journal->submit(five, 0));
        check_progress_is_counted(*journal, file.path, "submit");
        auto claimed = journal->claim(4);
        REQUIRE(claimed);
        REQUIRE(claimed->size() == 4);
        check_progress_is_counted(*journal, file.path, "claim");
        REQUIRE(journal->report({{(*claimed)[0].id, ItemState::done, 42, 1, ""},
                                 {(*claimed)[1].id, ItemState::failed, 0, 4, "src: RETR f2: 550 No such file"}}));
        check_progress_is_counted(*journal, file.path, "report of done and failed");
        REQUIRE(journal->report({{(*claimed)[2].id, ItemState::pending, 0, 1, "interrupted"}}));
        check_progress_is_counted(*journal, file.path, "report of an interrupted item");
        REQUIRE(journal->release({(*claimed)[2].id}));  // no longer running: nothing changes
        check_progress_is_counted(*journal, file.path, "release of an item not running");
        auto again = journal->claim(1);
        REQUIRE(again);
        REQUIRE(journal->release({(*again)[0].id}));
        check_progress_is_counted(*journal, file.path, "release");
        REQUIRE(journal->claim(1));
        REQUIRE(journal->leave());
        check_progress_is_counted(*journal, file.path, "leave");
        const auto kept = journal->progress();
        CHECK(kept->done == 1);
        CHECK(kept->failed == 1);
        CHECK(kept->running == 0);
        CHECK(kept->pending == 3);
        REQUIRE(journal->claim(1));
        // This run stops here without a word: the item just claimed (f3) stays running as w1's.
    }
    // Another process takes over after the interrupted run; the job file lost f5 and gained f6.
    auto journal = open_at(file.path.string(), "w2");
    check_progress_is_counted(*journal, file.path, "reopening after an interrupted run");
    CHECK(journal->progress()->running == 1);
    std::vector<JobItem> edited(five.begin(), five.begin() + 4);
    edited.push_back(item("f6", 6));
    REQUIRE(journal->submit(edited, 0));
    check_progress_is_counted(*journal, file.path, "submit taking over the stopped run's items");
    CHECK(journal->progress()->running == 0);
    CHECK(journal->progress()->total() == 5);
    auto rest = journal->claim(10);
    REQUIRE(rest);
    REQUIRE(rest->size() == 4);
    CHECK((*rest)[1].earlier_claims > 0);  // f3 was started by the stopped run
    check_progress_is_counted(*journal, file.path, "claim by the second worker");
    std::vector<Outcome> outcomes;
    for (const auto& claimed_item : *rest) outcomes.push_back({claimed_item.id, ItemState::done, 10, 1, ""});
    REQUIRE(journal->report(outcomes));
    check_progress_is_counted(*journal, file.path, "the last report");
    const auto finished = journal->progress();
    CHECK(finished->done == 5);
    CHECK(finished->bytes == 82);
    CHECK(finished->seconds >= 0);
}

TEST_CASE("a journal of the third schema is brought forward with its progress counted") {
    TempJournalPath file;
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
        std::string sql =
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '3'), ('job', 'job.txt');"
            "CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
            " bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
            " updated TEXT NOT NULL DEFAULT (datetime('now')), seq INTEGER NOT NULL DEFAULT 0,"
            " line INTEGER NOT NULL DEFAULT 0, src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '',"
            " append INTEGER NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '', claims INTEGER NOT NULL DEFAULT 0,"
            " started REAL, finished REAL, exit_code INTEGER NOT NULL DEFAULT 0);"
            "CREATE INDEX items_queue ON items (state, seq);";
        const char* states[] = {"done", "failed", "running"};
        for (int i = 0; i < 3; ++i) {
            const auto stored = stored_item(item("f" + std::to_string(i + 1), static_cast<std::size_t>(i + 1)));
            sql += "INSERT INTO items (key, state, bytes, seq, line, src, dst, worker, started, finished) VALUES ('" +
                   stored.key + "', '" + states[i] + "', " + std::to_string(10 * (i + 1)) + ", " + std::to_string(i) +
                   ", " + std::to_string(i + 1) + ", '" + stored.source + "', '" + stored.destination +
                   "', 'old', " + std::to_string(1000 + i) + ", " + std::to_string(2000 + i) + ");";
        }
        REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    auto journal = open_at(file.path.string());
    CHECK(schema_of(file.path) == "6");
    check_progress_is_counted(*journal, file.path, "bringing schema 3 forward");
    const auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->done == 1);
    CHECK(progress->failed == 1);
    CHECK(progress->running == 1);
    CHECK(progress->bytes == 10);
    CHECK(progress->seconds == doctest::Approx(1000));
    REQUIRE(progress->workers.size() == 1);
    CHECK(progress->workers[0].name == "old");
    auto done = journal->submit(three_items(), 0);
    REQUIRE(done);
    CHECK(*done == std::vector<std::size_t>{0});
    check_progress_is_counted(*journal, file.path, "submit on the brought-forward journal");
}

TEST_CASE("a job submitted in chunks keeps its order, says which items are done, and rolls back whole") {
    TempJournalPath temp;
    {
        auto journal = open_at(temp.path.string());
        REQUIRE(journal->submit(three_items(), 0));
        auto claimed = journal->claim(3);
        REQUIRE(claimed);
        REQUIRE(claimed->size() == 3);
        REQUIRE(journal->report({{(*claimed)[2].id, ItemState::done, 5, 1, "", 0}}));
    }
    auto journal = open_at(temp.path.string());
    // f3 (done) comes in the second chunk, at position 3 of the job.
    REQUIRE(journal->begin_submit(2));
    auto first = journal->submit_chunk({item("f0", 1), item("f1", 2)}, 0);
    REQUIRE(first);
    CHECK(first->empty());
    auto second = journal->submit_chunk({item("f2", 3), item("f3", 4)}, 2);
    REQUIRE(second);
    CHECK(*second == std::vector<std::size_t>{3});
    REQUIRE(journal->end_submit());
    auto done = journal->done_among({journal_key(item("f3", 0)), journal_key(item("f0", 0)), "nothing"});
    REQUIRE(done);
    CHECK(*done == std::vector<std::size_t>{0});
    auto claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    CHECK((*claimed)[0].seq == 0);
    CHECK((*claimed)[2].seq == 2);
    CHECK((*claimed)[2].item.source.path == "data/f2");
    CHECK(!(*claimed)[0].item.source.password);  // the journal holds no password
    REQUIRE(journal->leave());

    // A submission abandoned halfway leaves the journal as it was.
    REQUIRE(journal->begin_submit(0));
    REQUIRE(journal->submit_chunk({item("new", 1)}, 0));
    journal->abandon_submit();
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->total() == 4);
    CHECK(progress->done == 1);
    CHECK(progress->max_per_host == 2);
}

TEST_CASE("the journal keeps which items were relayed: progress counts the done ones, unfinished items say it") {
    TempJournalPath file;
    auto journal = open_at(file.path.string());
    REQUIRE(journal->submit(three_items(), 0));
    auto claimed = journal->claim(3);
    REQUIRE(claimed);
    Outcome relayed{(*claimed)[0].id, ItemState::done, 10, 1, ""};
    relayed.relayed = true;
    Outcome direct{(*claimed)[1].id, ItemState::done, 20, 1, ""};
    Outcome failed{(*claimed)[2].id, ItemState::failed, 0, 1, "src: RETR f3: 550 No such file"};
    failed.relayed = true;
    REQUIRE(journal->report({relayed, direct, failed}));
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->done == 2);
    CHECK(progress->relayed == 1);
    auto unfinished = journal->unfinished_items();
    REQUIRE(unfinished);
    REQUIRE(unfinished->size() == 1);
    CHECK((*unfinished)[0].relayed);
}

TEST_CASE("a journal of the fourth schema gains the relay column and keeps its counts") {
    TempJournalPath file;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(three_items(), 0));
        auto claimed = journal->claim(1);
        REQUIRE(claimed);
        REQUIRE(journal->report({{(*claimed)[0].id, ItemState::done, 42, 1, ""}}));
    }
    {
        // Back to schema 4 as the previous rsexec made it: no relayed column, no index on it.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
        REQUIRE(sqlite3_exec(db,
                             "DROP INDEX items_relayed; ALTER TABLE items DROP COLUMN relayed;"
                             "UPDATE meta SET value = '4' WHERE name = 'schema';",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
    }
    auto journal = open_at(file.path.string());
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->done == 1);
    CHECK(progress->pending == 2);
    CHECK(progress->bytes == 42);
    CHECK(progress->relayed == 0);
    CHECK(schema_of(file.path) == "6");
    auto claimed = journal->claim(1);
    REQUIRE(claimed);
    Outcome relayed{(*claimed)[0].id, ItemState::done, 7, 1, ""};
    relayed.relayed = true;
    REQUIRE(journal->report({relayed}));
    CHECK(journal->progress()->relayed == 1);
}

TEST_CASE("a line's own overwrite, relay and mkdirs come back with its claim") {
    TempJournalPath file;
    auto items = three_items();
    items[0].overwrite = Overwrite::never;
    items[1].relay = "never";
    items[2].mkdirs = false;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(items, 0));
    }
    // Another process (a worker) claims them from the file.
    auto journal = open_at(file.path.string(), "w2");
    auto claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    CHECK((*claimed)[0].item.overwrite == Overwrite::never);
    CHECK(!(*claimed)[0].item.relay);
    CHECK(!(*claimed)[0].item.mkdirs);
    CHECK((*claimed)[1].item.relay == std::optional<std::string>("never"));
    CHECK(!(*claimed)[1].item.overwrite);
    CHECK((*claimed)[2].item.mkdirs == std::optional<bool>(false));
    REQUIRE(journal->leave());
    // Submitted again with the lines changed: the journal keeps the job file's latest fields.
    items[0].overwrite = std::nullopt;
    items[1].relay = "always";
    REQUIRE(journal->submit(items, 0));
    claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    CHECK(!(*claimed)[0].item.overwrite);
    CHECK((*claimed)[1].item.relay == std::optional<std::string>("always"));
}

TEST_CASE("items are found by their hashed key, and a key sharing another's hash is told apart") {
    TempJournalPath file;
    {
        auto journal = open_at(file.path.string());
        REQUIRE(journal->submit(three_items(), 0));
        auto claimed = journal->claim(10);
        REQUIRE(claimed);
        REQUIRE(journal->report({{(*claimed)[0].id, ItemState::done, 5, 1, "", 0}}));
    }
    // A done item whose key differs from f2's but has the same ident: a collision as the hash may make.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.path.c_str(), &db) == SQLITE_OK);
    const std::string f2 = journal_key(item("f2", 2));
    const std::string sql = "INSERT INTO items (ident, key, state, seq, line, src, dst) VALUES (" +
                            std::to_string(journal_ident(f2)) + ", 'ftp://x@c.example/other -> ftp://x@c.example/in/',"
                            " 'done', 9, 9, 'ftp://x@c.example/other', 'ftp://x@c.example/in/')";
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto journal = open_at(file.path.string());
    auto done = journal->done_among({f2, journal_key(item("f1", 1)), journal_key(item("f3", 3))});
    REQUIRE(done);
    CHECK(*done == std::vector<std::size_t>{1});
    // Submitted again: f1 is done, f2 is not taken for the other item, and no item is doubled.
    auto again = journal->submit(three_items(), 0);
    REQUIRE(again);
    CHECK(*again == std::vector<std::size_t>{0});
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->done == 2);  // f1 and the other item
    CHECK(progress->pending == 2);
    CHECK(journal_ident("a") != journal_ident("b"));
    CHECK(journal_ident("") == static_cast<std::int64_t>(0xcbf29ce484222325u));
}

TEST_CASE("a line listed twice in a new job is one item, at its last listing, found by its key afterwards") {
    TempJournalPath file;
    auto journal = open_at(file.path.string());
    auto twice = item("f1", 3);
    twice.overwrite = Overwrite::never;
    auto done = journal->submit({item("f1", 1), item("f2", 2), twice}, 0);
    REQUIRE(done);
    CHECK(done->empty());
    auto progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->pending == 2);
    auto claimed = journal->claim(10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 2);
    CHECK((*claimed)[0].item.source.path == "data/f2");
    CHECK((*claimed)[1].seq == 2);
    CHECK((*claimed)[1].item.overwrite == Overwrite::never);
    REQUIRE(journal->report({{(*claimed)[1].id, ItemState::done, 5, 1, "", 0}, {(*claimed)[0].id, ItemState::failed, 0, 1, "x", 5}}));
    auto found = journal->done_among({journal_key(item("f2", 0)), journal_key(item("f1", 0))});
    REQUIRE(found);
    CHECK(*found == std::vector<std::size_t>{1});
    // Submitted again (no longer a new job): f1 is found done, f2 goes back to pending.
    auto again = journal->submit({item("f1", 1), item("f2", 2)}, 0);
    REQUIRE(again);
    CHECK(*again == std::vector<std::size_t>{0});
    progress = journal->progress();
    REQUIRE(progress);
    CHECK(progress->done == 1);
    CHECK(progress->pending == 1);
}
