#include "jobs/postgresql_journal.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <utility>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

namespace rsexec {
namespace {

constexpr int schema_version = 5;

// The schema, created once by whichever worker comes first (the advisory lock serializes the
// others). Connection counts live in rsexec_connections, one row per worker and server; the
// rows of a worker whose lease ran out no longer count.
constexpr const char* schema_sql = R"sql(
BEGIN;
SELECT pg_advisory_xact_lock(7243001);
CREATE TABLE IF NOT EXISTS rsexec_meta (name text PRIMARY KEY, value text NOT NULL);
INSERT INTO rsexec_meta VALUES ('schema', '1') ON CONFLICT (name) DO NOTHING;
CREATE TABLE IF NOT EXISTS rsexec_jobs (
  name text PRIMARY KEY, created timestamptz NOT NULL DEFAULT now(),
  max_per_host integer NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS rsexec_items (
  id bigserial PRIMARY KEY, job text NOT NULL REFERENCES rsexec_jobs (name) ON DELETE CASCADE,
  seq bigint NOT NULL, line bigint NOT NULL, key text NOT NULL, src text NOT NULL, dst text NOT NULL,
  append boolean NOT NULL, state text NOT NULL, worker text, claims integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0, bytes bigint NOT NULL DEFAULT 0, last_error text NOT NULL DEFAULT '',
  started timestamptz, finished timestamptz, UNIQUE (job, key));
CREATE INDEX IF NOT EXISTS rsexec_items_queue ON rsexec_items (job, state, seq);
-- Schema 2: a failed item's exit code beside its last error. A column with a default: schema 1's
-- rows read as before (0: none recorded). Altered only when the schema says so, so that opening
-- a journal does not wait for the table's lock while other workers use it.
DO $migrate$ BEGIN
  IF (SELECT value FROM rsexec_meta WHERE name = 'schema') = '1' THEN
    ALTER TABLE rsexec_items ADD COLUMN IF NOT EXISTS exit_code integer NOT NULL DEFAULT 0;
    UPDATE rsexec_meta SET value = '2' WHERE name = 'schema';
  END IF;
END $migrate$;
-- Schema 3: progress counters. Items, bytes, first start and last finish per job, state and
-- worker, kept by statement triggers on rsexec_items (one upsert per group a statement touched,
-- not per row), so that progress() reads a few rows instead of counting every item. The minimum
-- and maximum stay when items leave a row, as in the SQLite journal.
CREATE TABLE IF NOT EXISTS rsexec_progress (
  job text NOT NULL, state text NOT NULL, worker text NOT NULL, items bigint NOT NULL, bytes bigint NOT NULL,
  first_started timestamptz, last_finished timestamptz, PRIMARY KEY (job, state, worker));
CREATE OR REPLACE FUNCTION rsexec_count_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Rows locked in key order, the items leaving before those entering: two statements never
  -- wait on each other's counters in a cycle.
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE rsexec_progress p SET items = p.items - o.n, bytes = p.bytes - o.b
      FROM (SELECT job, state, COALESCE(worker, '') AS worker, count(*) AS n, sum(bytes) AS b FROM rsexec_old
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) o
     WHERE p.job = o.job AND p.state = o.state AND p.worker = o.worker;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO rsexec_progress
      SELECT job, state, COALESCE(worker, ''), count(*), sum(bytes), min(started), max(finished) FROM rsexec_new
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
      ON CONFLICT (job, state, worker) DO UPDATE SET items = rsexec_progress.items + excluded.items,
        bytes = rsexec_progress.bytes + excluded.bytes,
        first_started = LEAST(rsexec_progress.first_started, excluded.first_started),
        last_finished = GREATEST(rsexec_progress.last_finished, excluded.last_finished);
  END IF;
  RETURN NULL;
END $$;
DO $progress$ BEGIN
  IF (SELECT value FROM rsexec_meta WHERE name = 'schema') = '2' THEN
    CREATE TRIGGER rsexec_items_count_insert AFTER INSERT ON rsexec_items REFERENCING NEW TABLE AS rsexec_new
      FOR EACH STATEMENT EXECUTE FUNCTION rsexec_count_items();
    CREATE TRIGGER rsexec_items_count_update AFTER UPDATE ON rsexec_items
      REFERENCING OLD TABLE AS rsexec_old NEW TABLE AS rsexec_new FOR EACH STATEMENT EXECUTE FUNCTION rsexec_count_items();
    CREATE TRIGGER rsexec_items_count_delete AFTER DELETE ON rsexec_items REFERENCING OLD TABLE AS rsexec_old
      FOR EACH STATEMENT EXECUTE FUNCTION rsexec_count_items();
    DELETE FROM rsexec_progress;
    INSERT INTO rsexec_progress SELECT job, state, COALESCE(worker, ''), count(*), sum(bytes), min(started), max(finished)
      FROM rsexec_items GROUP BY 1, 2, 3;
    UPDATE rsexec_meta SET value = '3' WHERE name = 'schema';
  END IF;
END $progress$;
-- Schema 4: whether an item's bytes went through rsexec (status counts the relayed items, found
-- through a partial index).
DO $relayed$ BEGIN
  IF (SELECT value FROM rsexec_meta WHERE name = 'schema') = '3' THEN
    ALTER TABLE rsexec_items ADD COLUMN IF NOT EXISTS relayed boolean NOT NULL DEFAULT false;
    CREATE INDEX IF NOT EXISTS rsexec_items_relayed ON rsexec_items (job) WHERE relayed AND state = 'done';
    UPDATE rsexec_meta SET value = '4' WHERE name = 'schema';
  END IF;
END $relayed$;
-- Schema 5: a line's own overwrite, relay and mkdirs (job file fields; NULL: unset, the worker's
-- flags decide), so that a worker anywhere does what the line says.
DO $policies$ BEGIN
  IF (SELECT value FROM rsexec_meta WHERE name = 'schema') = '4' THEN
    ALTER TABLE rsexec_items ADD COLUMN IF NOT EXISTS overwrite text, ADD COLUMN IF NOT EXISTS relay text,
      ADD COLUMN IF NOT EXISTS mkdirs boolean;
    UPDATE rsexec_meta SET value = '5' WHERE name = 'schema';
  END IF;
END $policies$;
CREATE TABLE IF NOT EXISTS rsexec_workers (
  name text PRIMARY KEY, job text NOT NULL, started timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS rsexec_connections (
  server text NOT NULL, worker text NOT NULL, open integer NOT NULL, PRIMARY KEY (server, worker));
CREATE OR REPLACE FUNCTION rsexec_acquire_connection(p_server text, p_worker text, p_cap integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE used integer;
BEGIN
  -- One at a time per server; each statement after the lock sees what the previous holder wrote.
  PERFORM pg_advisory_xact_lock(hashtext(p_server));
  SELECT COALESCE(sum(c.open), 0) INTO used FROM rsexec_connections c
    JOIN rsexec_workers w ON w.name = c.worker
   WHERE c.server = p_server AND w.lease_until > now();
  IF p_cap > 0 AND used >= p_cap THEN RETURN false; END IF;
  INSERT INTO rsexec_connections VALUES (p_server, p_worker, 1)
    ON CONFLICT (server, worker) DO UPDATE SET open = rsexec_connections.open + 1;
  RETURN true;
END $$;
COMMIT;
)sql";

// The URI as it may be shown: without a password.
std::string redacted(const std::string& uri) {
    const auto scheme_end = uri.find("://");
    if (scheme_end == std::string::npos) return uri;
    const auto authority_end = uri.find_first_of("/?", scheme_end + 3);
    const auto at = uri.rfind('@', authority_end);
    if (at == std::string::npos || at < scheme_end) return uri;
    const auto colon = uri.find(':', scheme_end + 3);
    if (colon == std::string::npos || colon > at) return uri;
    return uri.substr(0, colon) + ":***" + uri.substr(at);
}

std::string trimmed(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string lease_seconds(const JournalOptions& options) { return std::to_string(options.lease.count()); }

bool failed_result(const PGresult* result) {
    const auto status = PQresultStatus(result);
    return status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
}

} // namespace

class PostgresqlJournal::Result {
public:
    explicit Result(PGresult* result) : result_(result) {}
    Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
    Result& operator=(Result&&) = delete;
    ~Result() { PQclear(result_); }
    int rows() const { return PQntuples(result_); }
    bool failed() const { return failed_result(result_); }
    bool null(int row, int column) const { return PQgetisnull(result_, row, column); }
    std::string text(int row, int column) const { return PQgetvalue(result_, row, column); }
    std::int64_t integer(int row, int column) const { return std::stoll("0" + text(row, column)); }
    double real(int row, int column) const { return null(row, column) ? 0.0 : std::stod(text(row, column)); }

private:
    PGresult* result_;
};

Expected<std::unique_ptr<Journal>> PostgresqlJournal::open(const std::string& uri, JournalOptions options) {
    PGconn* db = PQconnectdb(uri.c_str());
    if (!db || PQstatus(db) != CONNECTION_OK) {
        Error error(Errc::connect_failed, "journal " + redacted(uri) + ": " + trimmed(db ? PQerrorMessage(db) : "out of memory"));
        PQfinish(db);
        return error;
    }
    // The server's notices ("relation already exists, skipping") are not for the user.
    PQsetNoticeProcessor(db, [](void*, const char*) {}, nullptr);
    std::unique_ptr<PostgresqlJournal> journal(new PostgresqlJournal(db, std::move(options)));
    if (auto created = journal->create_schema(); !created) return created.error();
    if (auto found = journal->find_job(); !found) return found.error();
    return std::unique_ptr<Journal>(std::move(journal));
}

PostgresqlJournal::~PostgresqlJournal() { PQfinish(db_); }

Expected<PostgresqlJournal::Result> PostgresqlJournal::query(const char* sql, const std::vector<std::string>& params,
                                                             bool again) {
    ++round_trips_;
    const bool in_transaction = PQtransactionStatus(db_) != PQTRANS_IDLE;
    std::vector<const char*> values;
    for (const auto& param : params) values.push_back(param.c_str());
    Result result(PQexecParams(db_, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    // A lost server: one reconnection and the statement once more, outside a transaction only.
    // Each statement is its own transaction, so it either ran or did not; running one twice at
    // worst claims items this worker then holds until it leaves, or counts one connection twice
    // until then.
    if (PQstatus(db_) == CONNECTION_BAD) {
        if (!again && !in_transaction) {
            PQreset(db_);
            if (PQstatus(db_) == CONNECTION_OK) return query(sql, params, true);
        }
        return Error(Errc::connection_closed, "journal: lost the database: " + trimmed(PQerrorMessage(db_)));
    }
    if (result.failed()) return Error(Errc::bad_job, "journal: " + trimmed(PQerrorMessage(db_)));
    return result;
}

Status PostgresqlJournal::create_schema() {
    ++round_trips_;
    PGresult* created = PQexec(db_, schema_sql);
    const bool ok = PQresultStatus(created) == PGRES_COMMAND_OK || PQresultStatus(created) == PGRES_TUPLES_OK;
    PQclear(created);
    if (!ok) {
        Error error(Errc::bad_job, "journal: cannot create the schema: " + trimmed(PQerrorMessage(db_)));
        PQclear(PQexec(db_, "ROLLBACK"));
        return error;
    }
    auto version = query("SELECT value FROM rsexec_meta WHERE name = 'schema'", {});
    if (!version) return version.error();
    if (version->rows() != 1 || version->text(0, 0) != std::to_string(schema_version))
        return Error(Errc::bad_job, "journal has schema " + (version->rows() ? version->text(0, 0) : "?") +
                                        ", this rsexec reads " + std::to_string(schema_version));
    return success();
}

// Without --job: the oldest job with work left (a worker), or else the newest (for status).
Status PostgresqlJournal::find_job() {
    if (!options_.job.empty()) return success();
    auto found = query("SELECT j.name FROM rsexec_jobs j ORDER BY EXISTS (SELECT 1 FROM rsexec_items i WHERE i.job = j.name"
                       " AND i.state IN ('pending', 'running')) DESC,"
                       " CASE WHEN EXISTS (SELECT 1 FROM rsexec_items i WHERE i.job = j.name AND i.state IN ('pending', 'running'))"
                       " THEN j.created END ASC, j.created DESC LIMIT 1", {});
    if (!found) return found.error();
    if (found->rows() == 0) return Error(Errc::bad_job, "journal: no job was submitted to this database");
    options_.job = found->text(0, 0);
    return success();
}

Status PostgresqlJournal::begin_submit(unsigned max_per_host) {
    ++round_trips_;
    PGresult* begun = PQexec(db_, "BEGIN");
    const bool began = !failed_result(begun);
    PQclear(begun);
    if (!began) {
        Error error(Errc::bad_job, "journal: submit: " + trimmed(PQerrorMessage(db_)));
        abandon_submit();
        return error;
    }
    auto job = query("INSERT INTO rsexec_jobs (name, max_per_host) VALUES ($1, $2)"
                     " ON CONFLICT (name) DO UPDATE SET max_per_host = excluded.max_per_host",
                     {options_.job, std::to_string(max_per_host)});
    if (!job) {
        abandon_submit();
        return job.error();
    }
    return success();
}

Expected<std::vector<std::size_t>> PostgresqlJournal::submit_chunk(const std::vector<JobItem>& items,
                                                                   std::size_t first_seq) {
    // Items go in parts of one JSON array each.
    constexpr std::size_t part = 5000;
    std::vector<std::size_t> done;
    for (std::size_t start = 0; start < items.size(); start += part) {
        nlohmann::json rows = nlohmann::json::array();
        std::unordered_map<std::string, std::size_t> seq_of;
        for (std::size_t i = start; i < std::min(items.size(), start + part); ++i) {
            auto stored = stored_item(items[i]);
            seq_of[stored.key] = first_seq + i;
            nlohmann::json row = {{"seq", first_seq + i}, {"line", items[i].line}, {"key", std::move(stored.key)},
                                  {"src", std::move(stored.source)}, {"dst", std::move(stored.destination)},
                                  {"append", stored.append}};
            if (stored.overwrite) row["overwrite"] = *stored.overwrite;
            if (stored.relay) row["relay"] = *stored.relay;
            if (stored.mkdirs) row["mkdirs"] = *stored.mkdirs;
            rows.push_back(std::move(row));
        }
        // What failed is tried again; what is done or running stays as it is.
        // A line's own policies are the job file's as submitted last.
        auto inserted = query("INSERT INTO rsexec_items (job, seq, line, key, src, dst, append, overwrite, relay, mkdirs, state)"
                              " SELECT $1, u.seq, u.line, u.key, u.src, u.dst, u.append, u.overwrite, u.relay, u.mkdirs,"
                              " 'pending' FROM jsonb_to_recordset($2::jsonb) AS u(seq bigint, line bigint, key text, src text,"
                              " dst text, append boolean, overwrite text, relay text, mkdirs boolean)"
                              " ON CONFLICT (job, key) DO UPDATE SET state = CASE WHEN rsexec_items.state = 'failed'"
                              " THEN 'pending' ELSE rsexec_items.state END, overwrite = excluded.overwrite,"
                              " relay = excluded.relay, mkdirs = excluded.mkdirs RETURNING key, state",
                              {options_.job, rows.dump()});
        if (!inserted) return inserted.error();
        for (int row = 0; row < inserted->rows(); ++row)
            if (inserted->text(row, 1) == "done") done.push_back(seq_of[inserted->text(row, 0)]);
    }
    std::sort(done.begin(), done.end());
    return done;
}

Status PostgresqlJournal::end_submit() {
    ++round_trips_;
    PGresult* committed = PQexec(db_, "COMMIT");
    const bool ok = !failed_result(committed);
    PQclear(committed);
    if (!ok) {
        Error error(Errc::bad_job, "journal: submit: " + trimmed(PQerrorMessage(db_)));
        abandon_submit();
        return error;
    }
    return success();
}

void PostgresqlJournal::abandon_submit() { PQclear(PQexec(db_, "ROLLBACK")); }

Expected<std::vector<ClaimedItem>> PostgresqlJournal::claim(std::size_t count) {
    // One round trip: renew this worker's lease; give the running items of workers whose lease
    // ran out back to pending (claimable from the next claim on); claim pending items. Dead
    // workers are found by locking their rows, so a lease renewed a moment ago is seen; and only
    // pending items are claimed, which a row locked and updated by another claim no longer is.
    auto claimed = query(
        "WITH renewed AS (INSERT INTO rsexec_workers (name, job, lease_until)"
        "   VALUES ($2, $1, now() + make_interval(secs => $4::int))"
        "   ON CONFLICT (name) DO UPDATE SET job = excluded.job, lease_until = excluded.lease_until RETURNING 1),"
        " dead AS (SELECT name FROM rsexec_workers WHERE lease_until < now() AND name <> $2 FOR UPDATE SKIP LOCKED),"
        " reaped AS (UPDATE rsexec_items SET state = 'pending' WHERE job = $1 AND state = 'running'"
        "   AND worker IN (SELECT name FROM dead) RETURNING 1),"
        " picked AS (SELECT id FROM rsexec_items WHERE job = $1 AND state = 'pending'"
        "   ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)"
        " UPDATE rsexec_items i SET state = 'running', worker = $2, claims = i.claims + 1,"
        "   started = COALESCE(i.started, now())"
        " FROM picked WHERE i.id = picked.id"
        " RETURNING i.id, i.seq, i.line, i.src, i.dst, i.append, i.claims, i.overwrite, i.relay, i.mkdirs",
        {options_.job, options_.worker, std::to_string(count), lease_seconds(options_)});
    if (!claimed) return claimed.error();
    std::vector<ClaimedItem> items;
    for (int row = 0; row < claimed->rows(); ++row) {
        auto item = item_from_stored(claimed->text(row, 3), claimed->text(row, 4), claimed->text(row, 5) == "t",
                                     static_cast<std::size_t>(claimed->integer(row, 2)));
        if (!item) return item.error();
        auto text_or_null = [&claimed, row](int column) -> std::optional<std::string> {
            if (claimed->null(row, column)) return std::nullopt;
            return claimed->text(row, column);
        };
        std::optional<bool> mkdirs;
        if (!claimed->null(row, 9)) mkdirs = claimed->text(row, 9) == "t";
        if (auto policies = restore_line_policies(*item, text_or_null(7), text_or_null(8), mkdirs); !policies)
            return policies.error();
        items.push_back({claimed->integer(row, 0), static_cast<std::size_t>(claimed->integer(row, 1)), std::move(*item),
                         static_cast<int>(claimed->integer(row, 6)) - 1});
    }
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
    return items;
}

Status PostgresqlJournal::report(const std::vector<Outcome>& outcomes) {
    if (outcomes.empty()) return success();
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& outcome : outcomes)
        rows.push_back({{"id", outcome.id}, {"state", item_state_name(outcome.state)}, {"bytes", outcome.bytes},
                        {"attempts", outcome.attempts}, {"error", outcome.error}, {"exit_code", outcome.exit_code},
                        {"relayed", outcome.relayed}});
    // A done item is done whoever copied it; any other outcome counts only from the worker
    // that holds the item (another may have claimed it since this one lost its lease).
    auto updated = query(
        "UPDATE rsexec_items i SET state = u.state, attempts = i.attempts + u.attempts, last_error = u.error,"
        " exit_code = COALESCE(u.exit_code, 0), relayed = COALESCE(u.relayed, false),"
        " bytes = CASE WHEN u.state = 'done' THEN u.bytes ELSE i.bytes END, worker = $2,"
        " finished = CASE WHEN u.state = 'pending' THEN i.finished ELSE now() END"
        " FROM jsonb_to_recordset($1::jsonb) AS u(id bigint, state text, bytes bigint, attempts int, error text,"
        " exit_code int, relayed boolean)"
        " WHERE i.id = u.id AND (i.worker = $2 OR u.state = 'done')",
        {rows.dump(), options_.worker});
    if (!updated) return updated.error();
    return success();
}

Status PostgresqlJournal::release(const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return success();
    std::string array = "{";
    for (const auto id : ids) array += (array.size() > 1 ? "," : "") + std::to_string(id);
    array += "}";
    auto released = query("UPDATE rsexec_items SET state = 'pending', claims = greatest(claims - 1, 0)"
                          " WHERE id = ANY($1::bigint[]) AND state = 'running' AND worker = $2",
                          {array, options_.worker});
    if (!released) return released.error();
    return success();
}

Status PostgresqlJournal::renew_lease() {
    auto renewed = query("INSERT INTO rsexec_workers (name, job, lease_until)"
                         " VALUES ($1, $2, now() + make_interval(secs => $3::int))"
                         " ON CONFLICT (name) DO UPDATE SET lease_until = excluded.lease_until",
                         {options_.worker, options_.job, lease_seconds(options_)});
    if (!renewed) return renewed.error();
    return success();
}

Status PostgresqlJournal::leave() {
    auto left = query("WITH unclaimed AS (UPDATE rsexec_items SET state = 'pending'"
                      "   WHERE worker = $1 AND state = 'running' RETURNING 1),"
                      " closed AS (DELETE FROM rsexec_connections WHERE worker = $1 RETURNING 1)"
                      " UPDATE rsexec_workers SET lease_until = now() WHERE name = $1",
                      {options_.worker});
    if (!left) return left.error();
    return success();
}

Expected<bool> PostgresqlJournal::acquire_connection(const std::string& server, unsigned cap) {
    auto acquired = query("SELECT rsexec_acquire_connection($1, $2, $3::int)",
                          {server, options_.worker, std::to_string(cap)});
    if (!acquired) return acquired.error();
    if (acquired->rows() != 1) return Error(Errc::bad_job, "journal: acquire_connection: " + trimmed(PQerrorMessage(db_)));
    return acquired->text(0, 0) == "t";
}

Status PostgresqlJournal::release_connection(const std::string& server) {
    auto released = query("UPDATE rsexec_connections SET open = greatest(open - 1, 0) WHERE server = $1 AND worker = $2",
                          {server, options_.worker});
    if (!released) return released.error();
    return success();
}

Expected<bool> PostgresqlJournal::unfinished() {
    auto found = query("SELECT EXISTS (SELECT 1 FROM rsexec_items WHERE job = $1 AND state IN ('pending', 'running'))",
                       {options_.job});
    if (!found) return found.error();
    return found->rows() == 1 && found->text(0, 0) == "t";
}

Expected<std::vector<std::string>> PostgresqlJournal::jobs() {
    auto found = query("SELECT name FROM rsexec_jobs ORDER BY name", {});
    if (!found) return found.error();
    std::vector<std::string> names;
    for (int row = 0; row < found->rows(); ++row) names.push_back(found->text(row, 0));
    return names;
}

Expected<std::vector<UnfinishedItem>> PostgresqlJournal::unfinished_items() {
    auto found = query("SELECT seq, line, state, src, dst, append, attempts, exit_code, last_error, relayed FROM rsexec_items"
                       " WHERE job = $1 AND state <> 'done' ORDER BY seq",
                       {options_.job});
    if (!found) return found.error();
    std::vector<UnfinishedItem> items;
    for (int row = 0; row < found->rows(); ++row)
        items.push_back({static_cast<std::size_t>(found->integer(row, 0)), static_cast<std::size_t>(found->integer(row, 1)),
                         parse_item_state(found->text(row, 2)).value_or(ItemState::pending), found->text(row, 3),
                         found->text(row, 4), found->text(row, 5) == "t", static_cast<int>(found->integer(row, 6)),
                         static_cast<int>(found->integer(row, 7)), found->text(row, 8), found->text(row, 9) == "t"});
    return items;
}

Expected<std::vector<std::size_t>> PostgresqlJournal::done_among(const std::vector<std::string>& keys) {
    auto found = query("SELECT k.ord - 1 FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS k(key, ord)"
                       " JOIN rsexec_items i ON i.job = $1 AND i.key = k.key WHERE i.state = 'done' ORDER BY k.ord",
                       {options_.job, nlohmann::json(keys).dump()});
    if (!found) return found.error();
    std::vector<std::size_t> done;
    for (int row = 0; row < found->rows(); ++row) done.push_back(static_cast<std::size_t>(found->integer(row, 0)));
    return done;
}

Expected<JobProgress> PostgresqlJournal::progress() {
    JobProgress progress;
    progress.job = options_.job;
    auto cap = query("SELECT max_per_host FROM rsexec_jobs WHERE name = $1", {options_.job});
    if (!cap) return cap.error();
    if (cap->rows() == 1) progress.max_per_host = static_cast<unsigned>(cap->integer(0, 0));
    // The counters (schema 3): a few rows however many items the job has.
    auto rows = query("SELECT state, worker, items, bytes, EXTRACT(EPOCH FROM first_started),"
                      " EXTRACT(EPOCH FROM last_finished) FROM rsexec_progress WHERE job = $1",
                      {options_.job});
    if (!rows) return rows.error();
    double first = 0, last = 0;
    std::map<std::string, WorkerProgress> by_name;
    for (int row = 0; row < rows->rows(); ++row) {
        const auto state = parse_item_state(rows->text(row, 0)).value_or(ItemState::pending);
        const auto n = static_cast<std::size_t>(std::max<std::int64_t>(0, rows->integer(row, 2)));
        const auto bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(0, rows->integer(row, 3)));
        if (n == 0) continue;
        switch (state) {
        case ItemState::pending: progress.pending += n; break;
        case ItemState::running: progress.running += n; break;
        case ItemState::failed: progress.failed += n; break;
        case ItemState::done:
            progress.done += n;
            progress.bytes += bytes;
            // First start to last finish of the done items.
            if (!rows->null(row, 4) && (first == 0 || rows->real(row, 4) < first)) first = rows->real(row, 4);
            last = std::max(last, rows->real(row, 5));
            break;
        }
        if (rows->text(row, 1).empty()) continue;
        auto& worker = by_name[rows->text(row, 1)];
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
    if (first > 0 && last > first) progress.seconds = last - first;
    // Relayed items are few or none: a partial index finds them without counting the others.
    auto relayed = query("SELECT count(*) FROM rsexec_items WHERE job = $1 AND state = 'done' AND relayed",
                         {options_.job});
    if (!relayed) return relayed.error();
    if (relayed->rows() == 1) progress.relayed = static_cast<std::size_t>(relayed->integer(0, 0));
    // The job's workers, and those holding its items: listed with their counts.
    auto workers = query("SELECT name, lease_until > now() FROM rsexec_workers WHERE job = $1 OR name IN"
                         " (SELECT worker FROM rsexec_progress WHERE job = $1 AND items > 0) ORDER BY name",
                         {options_.job});
    if (!workers) return workers.error();
    for (int row = 0; row < workers->rows(); ++row) {
        WorkerProgress worker = by_name[workers->text(row, 0)];
        worker.name = workers->text(row, 0);
        worker.alive = workers->text(row, 1) == "t";
        progress.workers.push_back(std::move(worker));
    }
    return progress;
}

} // namespace rsexec
