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
