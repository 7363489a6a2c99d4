#include "rsexec/journal.hpp"

#include <utility>

#include <sqlite3.h>

namespace rsexec {
namespace {

constexpr int schema_version = 1;

Error sql_error(sqlite3* db, const std::string& what) {
    return Error(Errc::bad_job, "journal: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// One prepared statement, finalized on scope exit.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    explicit operator bool() const { return stmt_ != nullptr; }
    sqlite3_stmt* get() const { return stmt_; }
    Statement& bind(int index, const std::string& text) {
        sqlite3_bind_text(stmt_, index, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int index, std::int64_t value) {
        sqlite3_bind_int64(stmt_, index, value);
        return *this;
    }

private:
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

const char* item_state_name(ItemState state) noexcept {
    switch (state) {
    case ItemState::pending: return "pending";
    case ItemState::running: return "running";
    case ItemState::done: return "done";
    case ItemState::failed: return "failed";
    }
    return "?";
}

Expected<Journal> Journal::open(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        Error error = sql_error(db, "cannot open " + path);
        sqlite3_close(db);
        return error;
    }
    Journal journal(db);
    sqlite3_busy_timeout(db, 5000);
    // WAL: a crash at any moment leaves the last committed state; synchronous=NORMAL is
    // durable across process kills, which is what a journal of transfers must survive.
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
                            "CREATE TABLE IF NOT EXISTS items ("
                            " key TEXT PRIMARY KEY, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
                            " bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
                            " updated TEXT NOT NULL DEFAULT (datetime('now')))"}) {
        if (auto done = journal.exec(sql); !done) return done.error();
    }
    if (auto done = journal.exec("INSERT OR IGNORE INTO meta VALUES ('schema', '" + std::to_string(schema_version) + "')");
        !done)
        return done.error();
    Statement version(db, "SELECT value FROM meta WHERE name = 'schema'");
    if (!version || sqlite3_step(version.get()) != SQLITE_ROW) return sql_error(db, "cannot read the schema version");
    const auto text = reinterpret_cast<const char*>(sqlite3_column_text(version.get(), 0));
    if (std::to_string(schema_version) != text)
        return Error(Errc::bad_job, "journal " + path + " has schema " + text + ", this rsexec reads " +
                                        std::to_string(schema_version));
    return journal;
}

Journal::Journal(Journal&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
    if (this != &other) {
        sqlite3_close(db_);
        db_ = std::exchange(other.db_, nullptr);
    }
    return *this;
}

Journal::~Journal() { sqlite3_close(db_); }

Status Journal::exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        Error error(Errc::bad_job, std::string("journal: ") + (message ? message : "error"));
        sqlite3_free(message);
        return error;
    }
    return success();
}

Expected<ItemState> Journal::enroll(const std::string& key) {
    Statement insert(db_, "INSERT OR IGNORE INTO items (key, state) VALUES (?1, 'pending')");
    if (!insert || sqlite3_step(insert.bind(1, key).get()) != SQLITE_DONE) return sql_error(db_, "enroll");
    Statement select(db_, "SELECT state FROM items WHERE key = ?1");
    if (!select || sqlite3_step(select.bind(1, key).get()) != SQLITE_ROW) return sql_error(db_, "enroll");
    const std::string state = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0));
    for (auto s : {ItemState::pending, ItemState::running, ItemState::done, ItemState::failed})
        if (state == item_state_name(s)) return s;
    return Error(Errc::bad_job, "journal: unknown state '" + state + "'");
}

Status Journal::update(const std::string& key, ItemState state, const std::string* error, const std::uint64_t* bytes,
                       bool count_attempt) {
    Statement stmt(db_, "UPDATE items SET state = ?2, attempts = attempts + ?3,"
                        " last_error = COALESCE(?4, last_error), bytes = COALESCE(?5, bytes),"
                        " updated = datetime('now') WHERE key = ?1");
    if (!stmt) return sql_error(db_, "update");
    stmt.bind(1, key).bind(2, std::string(item_state_name(state))).bind(3, std::int64_t{count_attempt ? 1 : 0});
    if (error) stmt.bind(4, *error);
    if (bytes) stmt.bind(5, static_cast<std::int64_t>(*bytes));
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) return sql_error(db_, "update");
    return success();
}

Status Journal::mark_running(const std::string& key) { return update(key, ItemState::running, nullptr, nullptr, true); }

Status Journal::mark_done(const std::string& key, std::uint64_t bytes) {
    const std::string none;
    return update(key, ItemState::done, &none, &bytes, false);
}

Status Journal::mark_failed(const std::string& key, const std::string& error) {
    return update(key, ItemState::failed, &error, nullptr, false);
}

Status Journal::mark_pending(const std::string& key, const std::string& reason) {
    return update(key, ItemState::pending, &reason, nullptr, false);
}

Expected<JournalCounts> Journal::counts() {
    Statement stmt(db_, "SELECT state, COUNT(*) FROM items GROUP BY state");
    if (!stmt) return sql_error(db_, "counts");
    JournalCounts counts;
    while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
        const std::string state = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
        const auto n = static_cast<std::size_t>(sqlite3_column_int64(stmt.get(), 1));
        if (state == "pending") counts.pending = n;
        if (state == "running") counts.running = n;
        if (state == "done") counts.done = n;
        if (state == "failed") counts.failed = n;
    }
    return counts;
}

Expected<int> Journal::attempts(const std::string& key) {
    Statement stmt(db_, "SELECT attempts FROM items WHERE key = ?1");
    if (!stmt || sqlite3_step(stmt.bind(1, key).get()) != SQLITE_ROW) return sql_error(db_, "attempts");
    return static_cast<int>(sqlite3_column_int(stmt.get(), 0));
}

} // namespace rsexec
