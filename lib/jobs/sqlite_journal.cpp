#include "jobs/sqlite_journal.hpp"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rsexec {
namespace {

constexpr int schema_version = 6;

// Counts, bytes, first start and last finish per (state, worker) of the items the job file lists
// (src <> ''), kept by triggers in the transaction of every change to an item, so that progress()
// reads a few rows instead of scanning every item. Items leave that set only in submit(), which
// counts them afresh (a minimum cannot be taken back by a trigger).
constexpr const char* progress_table_sql =
    "CREATE TABLE progress (state TEXT NOT NULL, worker TEXT NOT NULL, items INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL, first_started REAL, last_finished REAL, PRIMARY KEY (state, worker))";
constexpr const char* recount_progress_sql =
    "DELETE FROM progress;"
    "INSERT INTO progress SELECT state, worker, COUNT(*), SUM(bytes), MIN(started), MAX(finished) FROM items"
    " WHERE src <> '' GROUP BY state, worker";
// An item entering the counted set: NEW's row; one leaving it: OLD's (the minimum and maximum stay,
// which is exact while the item stays counted in another row, as claim, report, release and leave keep it).
constexpr const char* add_new_sql =
    "INSERT INTO progress SELECT new.state, new.worker, 1, new.bytes, new.started, new.finished WHERE new.src <> ''"
    " ON CONFLICT (state, worker) DO UPDATE SET items = items + 1, bytes = bytes + excluded.bytes,"
    " first_started = CASE WHEN first_started IS NULL OR excluded.first_started < first_started"
    "   THEN excluded.first_started ELSE first_started END,"
    " last_finished = CASE WHEN last_finished IS NULL OR excluded.last_finished > last_finished"
    "   THEN excluded.last_finished ELSE last_finished END;";
constexpr const char* remove_old_sql =
    "UPDATE progress SET items = items - 1, bytes = bytes - old.bytes"
    " WHERE old.src <> '' AND state = old.state AND worker = old.worker;";


// Schema 5: whether an item's bytes went through rsexec; the index holds only those that did.
constexpr const char* relay_column_sql[] = {
    "ALTER TABLE items ADD COLUMN relayed INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX items_relayed ON items (state) WHERE relayed <> 0"};

// Schema 6: the items in a table of their own order (id: the rowid, in submit order), found by
// journal_ident (a 64-bit hash of the key) through a small index instead of a unique index on the
// key's text, whose entries (both URLs) came in random order and outgrew the page cache: a submit
// of a million items then cost nearly twice the CPU per item of one of ten thousand. A line's own
// overwrite, relay and mkdirs (NULL: unset) are stored with it, for workers elsewhere.
constexpr const char* items_columns_sql =
    " (id INTEGER PRIMARY KEY, ident INTEGER NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
    " updated TEXT NOT NULL DEFAULT (datetime('now')), seq INTEGER NOT NULL DEFAULT 0, line INTEGER NOT NULL DEFAULT 0,"
    " src TEXT NOT NULL DEFAULT '', dst TEXT NOT NULL DEFAULT '', append INTEGER NOT NULL DEFAULT 0,"
    " worker TEXT NOT NULL DEFAULT '', claims INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL,"
    " exit_code INTEGER NOT NULL DEFAULT 0, relayed INTEGER NOT NULL DEFAULT 0, overwrite TEXT, relay TEXT,"
    " mkdirs INTEGER)";
// The columns schema 5 had, copied as they are when a journal is brought forward.
constexpr const char* schema_5_columns =
    "key, state, attempts, bytes, last_error, updated, seq, line, src, dst, append, worker, claims, started,"
    " finished, exit_code, relayed";

// Schema 6's indexes (the lookup by ident, the queue in job order, the relayed items) and the
// triggers that keep the progress table.
std::vector<std::string> items_indexes_and_triggers() {
    return {"CREATE INDEX items_ident ON items (ident)", "CREATE INDEX items_queue ON items (state, seq)",
            relay_column_sql[1],
            std::string("CREATE TRIGGER items_progress_insert AFTER INSERT ON items BEGIN ") + add_new_sql + " END",
            std::string("CREATE TRIGGER items_progress_update AFTER UPDATE OF state, worker, bytes, src, started,"
                        " finished ON items BEGIN ") + remove_old_sql + add_new_sql + " END",
            std::string("CREATE TRIGGER items_progress_delete AFTER DELETE ON items BEGIN ") + remove_old_sql + " END"};
}

// Seconds since the epoch, with fractions: what started/finished hold.
constexpr const char* now_sql = "((julianday('now') - 2440587.5) * 86400.0)";

Error sql_error(sqlite3* db, const std::string& what) {
    return Error(Errc::bad_job, "journal: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

// One prepared statement, finalized on scope exit.
class Statement {
public:
    Statement(sqlite3* db, const std::string& sql) { sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr); }
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
    bool step_row() { return sqlite3_step(stmt_) == SQLITE_ROW; }
    bool step_done() { return sqlite3_step(stmt_) == SQLITE_DONE; }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::string text(int column) const {
        const auto* text = sqlite3_column_text(stmt_, column);
        return text ? reinterpret_cast<const char*>(text) : "";
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const { return sqlite3_column_double(stmt_, column); }

private:
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace

Expected<std::unique_ptr<Journal>> SqliteJournal::open(const std::string& path, JournalOptions options) {
    sqlite3* db = nullptr;
    const bool file = path != ":memory:" && !path.empty();  // "": SQLite's private temporary database
    const bool existed = file && ::access(path.c_str(), F_OK) == 0;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        Error error = sql_error(db, "cannot open " + path);
        sqlite3_close(db);
        return error;
    }
    std::unique_ptr<SqliteJournal> journal(new SqliteJournal(db, std::move(options)));
    // A job's journal names its servers and users: for its owner's eyes.
    if (!existed && file) ::chmod(path.c_str(), 0600);
    sqlite3_busy_timeout(db, 5000);
    // journal_ident in SQL: what bringing a journal of schema 5 forward computes for its items.
    sqlite3_create_function_v2(
        db, "rsexec_ident", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
        [](sqlite3_context* context, int, sqlite3_value** args) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(args[0]));
            const auto size = static_cast<std::size_t>(sqlite3_value_bytes(args[0]));
            sqlite3_result_int64(context, journal_ident(text ? std::string_view(text, size) : std::string_view()));
        },
        nullptr, nullptr, nullptr);
    // WAL: a crash at any moment leaves the last committed state; synchronous=NORMAL is
    // durable across process kills, which is what a journal of transfers must survive.
    for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"}) {
        if (auto done = journal->exec(sql); !done) return done.error();
    }
    if (auto migrated = journal->migrate(); !migrated) return migrated.error();
    if (journal->options_.job.empty()) {
        Statement name(db, "SELECT value FROM meta WHERE name = 'job'");
        journal->options_.job = name && name.step_row() ? name.text(0) : "default";
    }
    return std::unique_ptr<Journal>(std::move(journal));
}

SqliteJournal::~SqliteJournal() {
    finalize_submit();
    sqlite3_finalize(report_stmt_);
    sqlite3_close(db_);
}

Status SqliteJournal::exec(const std::string& sql) {
    ++round_trips_;
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        Error error(Errc::bad_job, std::string("journal: ") + (message ? message : "error"));
        sqlite3_free(message);
        return error;
    }
    return success();
}

// Schema 1 knew items by key and state only; schema 2 also stores each item (its URLs without
// password, its place in the job) so that items can be claimed from the journal; schema 3 keeps
// a failed item's exit code beside its last error (status --failed). Each step adds columns with
// defaults, so a journal of any earlier schema is read as it was and brought forward in one
// transaction. Schema 4 adds the progress table and its triggers, counted from the items.
// Schema 5 adds whether an item went through rsexec (relayed), with an index of those that did
// (status counts them); a schema-4 journal only gains that column and index. Schema 6 copies the
// items into a table found by journal_ident, with each line's own policies (migrate_to_6).
Status SqliteJournal::migrate() {
    Statement version(db_, "SELECT value FROM meta WHERE name = 'schema'");
    if (!version) return sql_error(db_, "cannot read the schema version");
    const std::string found = version.step_row() ? version.text(0) : "";
    version.reset();  // a statement still reading keeps a table from being dropped (migrate_to_6)
    if (found == std::to_string(schema_version)) return success();
    if (found == "5") return migrate_to_6();
    if (!found.empty() && found != "1" && found != "2" && found != "3" && found != "4")
        return Error(Errc::bad_job, "journal has schema " + found + ", this rsexec reads " +
                                        std::to_string(schema_version));
    std::vector<std::string> steps;
    if (found == "4") return migrate_to_5();
    if (found.empty())
        steps.push_back("CREATE TABLE items (key TEXT PRIMARY KEY, state TEXT NOT NULL,"
                        " attempts INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
                        " last_error TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL DEFAULT (datetime('now')))");
    if (found.empty() || found == "1") {
        for (const char* column : {"seq INTEGER NOT NULL DEFAULT 0", "line INTEGER NOT NULL DEFAULT 0",
                                   "src TEXT NOT NULL DEFAULT ''", "dst TEXT NOT NULL DEFAULT ''",
                                   "append INTEGER NOT NULL DEFAULT 0", "worker TEXT NOT NULL DEFAULT ''",
                                   "claims INTEGER NOT NULL DEFAULT 0", "started REAL", "finished REAL"})
            steps.push_back(std::string("ALTER TABLE items ADD COLUMN ") + column);
        steps.push_back("CREATE INDEX items_queue ON items (state, seq)");
    }
    if (found != "3") steps.push_back("ALTER TABLE items ADD COLUMN exit_code INTEGER NOT NULL DEFAULT 0");
    steps.push_back(progress_table_sql);
    steps.push_back(std::string("CREATE TRIGGER items_progress_insert AFTER INSERT ON items BEGIN ") + add_new_sql + " END");
    steps.push_back(std::string("CREATE TRIGGER items_progress_update AFTER UPDATE OF state, worker, bytes, src, started,"
                                " finished ON items BEGIN ") + remove_old_sql + add_new_sql + " END");
    steps.push_back(std::string("CREATE TRIGGER items_progress_delete AFTER DELETE ON items BEGIN ") + remove_old_sql + " END");
    steps.push_back(recount_progress_sql);
    for (const char* step : relay_column_sql) steps.push_back(step);
    steps.push_back("INSERT OR REPLACE INTO meta VALUES ('schema', '5')");
    std::string sql = "BEGIN IMMEDIATE;";
    for (const auto& step : steps) sql += step + ";";
    if (auto done = exec(sql + "COMMIT"); !done) {
        (void)exec("ROLLBACK");
        return done.error();
    }
    return migrate_to_6();
}

Status SqliteJournal::migrate_to_5() {
    std::string sql = "BEGIN IMMEDIATE;";
    for (const char* step : relay_column_sql) sql += std::string(step) + ";";
    sql += "INSERT OR REPLACE INTO meta VALUES ('schema', '5');";
    if (auto done = exec(sql + "COMMIT"); !done) {
        (void)exec("ROLLBACK");
        return done.error();
    }
    return migrate_to_6();
}

// Schema 5 -> 6: the items copied in their order (each keeps its rowid as id) into the table of
// schema 6, their ident computed from the key (rsexec_ident, registered in open()); the indexes
// and the progress triggers made anew on it. Each item's counts stay as they were.
Status SqliteJournal::migrate_to_6() {
    std::string sql = "BEGIN IMMEDIATE;";
    sql += std::string("CREATE TABLE items_6") + items_columns_sql + ";";
    sql += std::string("INSERT INTO items_6 (id, ident, ") + schema_5_columns + ") SELECT rowid, rsexec_ident(key), " +
           schema_5_columns + " FROM items ORDER BY rowid;";
    sql += "DROP TABLE items; ALTER TABLE items_6 RENAME TO items;";
    for (const auto& step : items_indexes_and_triggers()) sql += step + ";";
    sql += recount_progress_sql;
    sql += ";INSERT OR REPLACE INTO meta VALUES ('schema', '6');";
    if (auto done = exec(sql + "COMMIT"); !done) {
        (void)exec("ROLLBACK");
        return done.error();
    }
    return success();
}

Status SqliteJournal::begin_submit(unsigned max_per_host) {
    if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return begun.error();
    // The job file is the job: an item an earlier version of it listed, and this one does not,
    // is not claimed (an item without URLs never is) unless it comes back.
    if (auto forgotten = exec("UPDATE items SET src = '', dst = '' WHERE state <> 'done'"); !forgotten) {
        abandon_submit();
        return forgotten.error();
    }
    // An item is found by its ident, the key told apart from another of the same hash. One process
    // works a SQLite journal: what is running was left by a run that stopped.
    const char* find = "SELECT id, state FROM items WHERE ident = ?1 AND key = ?2";
    const char* update =
        "UPDATE items SET seq = ?2, line = ?3, src = ?4, dst = ?5, append = ?6, overwrite = ?7, relay = ?8, mkdirs = ?9,"
        " state = CASE WHEN state = 'done' THEN 'done' ELSE 'pending' END WHERE id = ?1";
    const char* insert =
        "INSERT INTO items (ident, key, seq, line, src, dst, append, overwrite, relay, mkdirs, state)"
        " VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending')";
    // Into a journal without items (a new job), nothing is looked up: the items go in in job order
    // and the ident index is made once at the end, sorted, instead of growing at random places
    // (end_submit; a line listed twice is then kept once). A submission's time per item then
    // stays the same for any length of job.
    {
        Statement empty(db_, "SELECT NOT EXISTS (SELECT 1 FROM items)");
        bulk_ = empty && empty.step_row() && empty.integer(0) != 0;
    }  // finalized: a statement still reading keeps the table from being changed (DROP INDEX)
    if (bulk_) {
        if (auto dropped = exec("DROP INDEX items_ident"); !dropped) {
            abandon_submit();
            return dropped.error();
        }
    }
    if (sqlite3_prepare_v2(db_, find, -1, &find_stmt_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, update, -1, &update_stmt_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, insert, -1, &insert_stmt_, nullptr) != SQLITE_OK) {
        Error error = sql_error(db_, "submit");
        abandon_submit();
        return error;
    }
    submit_max_per_host_ = max_per_host;
    return success();
}

void SqliteJournal::finalize_submit() {
    for (auto* stmt : {&find_stmt_, &update_stmt_, &insert_stmt_}) sqlite3_finalize(std::exchange(*stmt, nullptr));
}

namespace {

// ?1..?9 of the submit's update and insert (?1 the key, or the row's id for the update).
void bind_stored(sqlite3_stmt* stmt, const StoredItem& stored, std::int64_t seq, std::size_t line) {
    auto text = [stmt](int index, const std::optional<std::string>& value) {
        if (value) sqlite3_bind_text(stmt, index, value->c_str(), static_cast<int>(value->size()), SQLITE_STATIC);
        else sqlite3_bind_null(stmt, index);
    };
    sqlite3_bind_int64(stmt, 2, seq);
    sqlite3_bind_int64(stmt, 3, static_cast<std::int64_t>(line));
    sqlite3_bind_text(stmt, 4, stored.source.c_str(), static_cast<int>(stored.source.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, stored.destination.c_str(), static_cast<int>(stored.destination.size()), SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, std::int64_t{stored.append});
    text(7, stored.overwrite);
    text(8, stored.relay);
    if (stored.mkdirs) sqlite3_bind_int64(stmt, 9, std::int64_t{*stored.mkdirs});
    else sqlite3_bind_null(stmt, 9);
}

} // namespace

Expected<std::vector<std::size_t>> SqliteJournal::submit_chunk(const std::vector<JobItem>& items, std::size_t first_seq) {
    if (!find_stmt_) return Error(Errc::bad_job, "journal: submit_chunk outside a submission");
    std::vector<std::size_t> done;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto stored = stored_item(items[i]);
        const auto ident = journal_ident(stored.key);
        const auto seq = static_cast<std::int64_t>(first_seq + i);
        sqlite3_bind_int64(find_stmt_, 1, ident);
        sqlite3_bind_text(find_stmt_, 2, stored.key.c_str(), static_cast<int>(stored.key.size()), SQLITE_STATIC);
        int found = bulk_ ? SQLITE_DONE : sqlite3_step(find_stmt_);
        sqlite3_stmt* write = insert_stmt_;
        if (found == SQLITE_ROW) {
            write = update_stmt_;
            sqlite3_bind_int64(write, 1, sqlite3_column_int64(find_stmt_, 0));
            const auto* state = sqlite3_column_text(find_stmt_, 1);
            if (state && std::string_view(reinterpret_cast<const char*>(state)) == "done") done.push_back(first_seq + i);
        } else {
            sqlite3_bind_text(write, 1, stored.key.c_str(), static_cast<int>(stored.key.size()), SQLITE_STATIC);
            sqlite3_bind_int64(write, 10, ident);
        }
        sqlite3_reset(find_stmt_);
        bind_stored(write, stored, seq, items[i].line);
        if ((found != SQLITE_ROW && found != SQLITE_DONE) || sqlite3_step(write) != SQLITE_DONE) {
            Error error = sql_error(db_, "submit");
            sqlite3_reset(write);
            return error;
        }
        sqlite3_reset(write);
    }
    ++round_trips_;
    return done;
}

Status SqliteJournal::end_submit() {
    finalize_submit();
    // A new job's ident index, and a line listed twice kept once (its last listing, as a
    // submission into a journal that has it keeps the last line's fields).
    if (std::exchange(bulk_, false)) {
        auto indexed = exec("CREATE INDEX items_ident ON items (ident);"
                            "DELETE FROM items WHERE id IN (SELECT i.id FROM (SELECT ident FROM items GROUP BY ident"
                            " HAVING count(*) > 1) d JOIN items i ON i.ident = d.ident WHERE EXISTS (SELECT 1 FROM items l"
                            " WHERE l.ident = i.ident AND l.key = i.key AND l.id > i.id))");
        if (!indexed) {
            abandon_submit();
            return indexed.error();
        }
    }
    // Items the file no longer lists left the counted set: their first start may have gone with them.
    if (auto recounted = exec(recount_progress_sql); !recounted) {
        abandon_submit();
        return recounted.error();
    }
    Statement meta(db_, "INSERT OR REPLACE INTO meta VALUES ('job', ?1), ('max_per_host', ?2)");
    if (!meta || !meta.bind(1, options_.job).bind(2, std::to_string(submit_max_per_host_)).step_done()) {
        Error error = sql_error(db_, "submit");
        abandon_submit();
        return error;
    }
    return exec("COMMIT");
}

void SqliteJournal::abandon_submit() {
    finalize_submit();
    bulk_ = false;
    (void)exec("ROLLBACK");
}

Expected<std::vector<ClaimedItem>> SqliteJournal::claim(std::size_t count) {
    ++round_trips_;
    Statement stmt(db_, std::string("UPDATE items SET state = 'running', worker = ?1, claims = claims + 1,"
                                    " started = COALESCE(started, ") + now_sql + ")"
                        " WHERE id IN (SELECT id FROM items WHERE state = 'pending' AND src <> ''"
                        " ORDER BY seq LIMIT ?2) RETURNING id, seq, line, src, dst, append, claims, overwrite, relay, mkdirs");
    if (!stmt) return sql_error(db_, "claim");
    stmt.bind(1, options_.worker).bind(2, static_cast<std::int64_t>(count));
    std::vector<ClaimedItem> claimed;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        auto item = item_from_stored(stmt.text(3), stmt.text(4), stmt.integer(5) != 0,
                                     static_cast<std::size_t>(stmt.integer(2)));
        if (!item) return item.error();
        auto text_or_null = [&stmt](int column) -> std::optional<std::string> {
            if (sqlite3_column_type(stmt.get(), column) == SQLITE_NULL) return std::nullopt;
            return stmt.text(column);
        };
        std::optional<bool> mkdirs;
        if (sqlite3_column_type(stmt.get(), 9) != SQLITE_NULL) mkdirs = stmt.integer(9) != 0;
        if (auto policies = restore_line_policies(*item, text_or_null(7), text_or_null(8), mkdirs); !policies)
            return policies.error();
        claimed.push_back({stmt.integer(0), static_cast<std::size_t>(stmt.integer(1)), std::move(*item),
                           static_cast<int>(stmt.integer(6)) - 1});
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "claim");
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return claimed;
}

Status SqliteJournal::report(const std::vector<Outcome>& outcomes) {
    if (outcomes.empty()) return success();
    if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return begun.error();
    if (!report_stmt_) {
        const std::string update = std::string("UPDATE items SET state = ?2, attempts = attempts + ?3, last_error = ?4,"
                                               " exit_code = ?6, relayed = ?7,"
                                               " bytes = CASE WHEN ?2 = 'done' THEN ?5 ELSE bytes END,"
                                               " finished = CASE WHEN ?2 = 'pending' THEN finished ELSE ") +
                                   now_sql + " END, updated = datetime('now') WHERE rowid = ?1";
        if (sqlite3_prepare_v3(db_, update.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &report_stmt_, nullptr) != SQLITE_OK) {
            sqlite3_finalize(report_stmt_);
            report_stmt_ = nullptr;
            Error error = sql_error(db_, "report");
            (void)exec("ROLLBACK");
            return error;
        }
    }
    sqlite3_stmt* const stmt = report_stmt_;
    for (const auto& outcome : outcomes) {
        const std::string state(item_state_name(outcome.state));
        sqlite3_bind_int64(stmt, 1, outcome.id);
        sqlite3_bind_text(stmt, 2, state.c_str(), static_cast<int>(state.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(stmt, 3, std::int64_t{outcome.attempts});
        sqlite3_bind_text(stmt, 4, outcome.error.c_str(), static_cast<int>(outcome.error.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(stmt, 5, static_cast<std::int64_t>(outcome.bytes));
        sqlite3_bind_int64(stmt, 6, std::int64_t{outcome.exit_code});
        sqlite3_bind_int64(stmt, 7, std::int64_t{outcome.relayed ? 1 : 0});
        const int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (rc != SQLITE_DONE) {
            Error error = sql_error(db_, "report");
            (void)exec("ROLLBACK");
            return error;
        }
    }
    return exec("COMMIT");
}

Status SqliteJournal::release(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return success();
    ++round_trips_;
    if (auto begun = exec("BEGIN IMMEDIATE"); !begun) return begun.error();
    Statement stmt(db_, "UPDATE items SET state = 'pending', claims = max(claims - 1, 0)"
                        " WHERE rowid = ?1 AND state = 'running' AND worker = ?2");
    for (const auto id : ids) {
        if (!stmt || !stmt.bind(1, id).bind(2, options_.worker).step_done()) {
            Error error = sql_error(db_, "release");
            (void)exec("ROLLBACK");
            return error;
        }
        stmt.reset();
    }
    return exec("COMMIT");
}

Status SqliteJournal::leave() {
    ++round_trips_;
    Statement stmt(db_, "UPDATE items SET state = 'pending' WHERE state = 'running' AND worker = ?1");
    if (!stmt || !stmt.bind(1, options_.worker).step_done()) return sql_error(db_, "leave");
    return success();
}

Expected<bool> SqliteJournal::unfinished() {
    ++round_trips_;
    Statement stmt(db_, "SELECT EXISTS (SELECT 1 FROM items WHERE state IN ('pending', 'running') AND src <> '')");
    if (!stmt || !stmt.step_row()) return sql_error(db_, "unfinished");
    return stmt.integer(0) != 0;
}

Expected<std::vector<UnfinishedItem>> SqliteJournal::unfinished_items() {
    ++round_trips_;
    // An item without URLs is one the job file no longer lists: not part of the job.
    Statement stmt(db_, "SELECT seq, line, state, src, dst, append, attempts, exit_code, last_error, relayed FROM items"
                        " WHERE state <> 'done' AND src <> '' ORDER BY seq");
    if (!stmt) return sql_error(db_, "unfinished_items");
    std::vector<UnfinishedItem> items;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        items.push_back({static_cast<std::size_t>(stmt.integer(0)), static_cast<std::size_t>(stmt.integer(1)),
                         parse_item_state(stmt.text(2)).value_or(ItemState::pending), stmt.text(3), stmt.text(4),
                         stmt.integer(5) != 0, static_cast<int>(stmt.integer(6)), static_cast<int>(stmt.integer(7)),
                         stmt.text(8), stmt.integer(9) != 0});
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "unfinished_items");
    return items;
}

Expected<std::vector<std::string>> SqliteJournal::jobs() {
    ++round_trips_;
    Statement stmt(db_, "SELECT value FROM meta WHERE name = 'job'");
    if (!stmt) return sql_error(db_, "jobs");
    std::vector<std::string> names;
    while (stmt.step_row()) names.push_back(stmt.text(0));
    return names;
}

Expected<std::vector<std::size_t>> SqliteJournal::done_among(const std::vector<std::string>& keys) {
    ++round_trips_;
    Statement stmt(db_, "SELECT 1 FROM items WHERE ident = ?1 AND key = ?2 AND state = 'done'");
    if (!stmt) return sql_error(db_, "done_among");
    std::vector<std::size_t> done;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (stmt.bind(1, journal_ident(keys[i])).bind(2, keys[i]).step_row()) done.push_back(i);
        stmt.reset();
    }
    return done;
}

Expected<JobProgress> SqliteJournal::progress() {
    JobProgress progress;
    progress.job = options_.job;
    Statement cap(db_, "SELECT value FROM meta WHERE name = 'max_per_host'");
    if (cap && cap.step_row()) progress.max_per_host = static_cast<unsigned>(std::stoul("0" + cap.text(0)));
    Statement rows(db_, "SELECT state, worker, items, bytes, first_started, last_finished FROM progress");
    if (!rows) return sql_error(db_, "progress");
    ++round_trips_;
    double first = 0, last = 0;
    std::map<std::string, WorkerProgress> by_name;
    int rc;
    while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
        const auto state = parse_item_state(rows.text(0)).value_or(ItemState::pending);
        const auto n = static_cast<std::size_t>(rows.integer(2));
        const auto bytes = static_cast<std::uint64_t>(rows.integer(3));
        switch (state) {
        case ItemState::pending: progress.pending += n; break;
        case ItemState::running: progress.running += n; break;
        case ItemState::failed: progress.failed += n; break;
        case ItemState::done:
            progress.done += n;
            progress.bytes += bytes;
            if (n > 0) last = std::max(last, rows.real(5));
            break;
        }
        if (sqlite3_column_type(rows.get(), 4) != SQLITE_NULL && (first == 0 || rows.real(4) < first))
            first = rows.real(4);
        // A worker is listed while it holds an item in any state, as a count of the items shows it.
        if (rows.text(1).empty() || n == 0) continue;
        auto& worker = by_name[rows.text(1)];
        worker.name = rows.text(1);
        switch (state) {
        case ItemState::running: worker.running += n; break;
        case ItemState::done:
            worker.done += n;
            worker.bytes += bytes;
            break;
        case ItemState::failed: worker.failed += n; break;
        case ItemState::pending: break;
        }
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "progress");
    // From the partial index: as many rows read as items relayed.
    Statement relayed(db_, "SELECT COUNT(*) FROM items WHERE relayed <> 0 AND state = 'done' AND src <> ''");
    if (!relayed || !relayed.step_row()) return sql_error(db_, "progress");
    progress.relayed = static_cast<std::size_t>(relayed.integer(0));
    if (first > 0 && last > first) progress.seconds = last - first;
    for (auto& [name, worker] : by_name) {
        worker.alive = name == options_.worker;
        progress.workers.push_back(std::move(worker));
    }
    return progress;
}

} // namespace rsexec
