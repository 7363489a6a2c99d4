#include "jobs/journal.hpp"

#include "jobs/postgresql_journal.hpp"
#include "jobs/sqlite_journal.hpp"

namespace rsexec {

const char* item_state_name(ItemState state) noexcept {
    switch (state) {
    case ItemState::pending: return "pending";
    case ItemState::running: return "running";
    case ItemState::done: return "done";
    case ItemState::failed: return "failed";
    }
    return "?";
}

std::optional<ItemState> parse_item_state(std::string_view name) noexcept {
    for (auto state : {ItemState::pending, ItemState::running, ItemState::done, ItemState::failed})
        if (name == item_state_name(state)) return state;
    return std::nullopt;
}

std::string journal_key(const JobItem& item) {
    return item.source.display() + " -> " + item.destination.display() + (item.append ? " append" : "");
}

std::int64_t journal_ident(std::string_view key) noexcept {
    std::uint64_t hash = 0xcbf29ce484222325u;  // FNV-1a, 64 bits
    for (const unsigned char c : key) hash = (hash ^ c) * 0x100000001b3u;
    return static_cast<std::int64_t>(hash);
}

StoredItem stored_item(const JobItem& item) {
    StoredItem stored{journal_key(item), item.source.display(), item.destination.display(), item.append,
                      std::nullopt, item.relay, item.mkdirs};
    if (item.overwrite) stored.overwrite = overwrite_name(*item.overwrite);
    return stored;
}

Status restore_line_policies(JobItem& item, const std::optional<std::string>& overwrite,
                             const std::optional<std::string>& relay, std::optional<bool> mkdirs) {
    if (overwrite) {
        item.overwrite = parse_overwrite(*overwrite);
        if (!item.overwrite) return Error(Errc::bad_job, "journal: stored overwrite policy: " + *overwrite);
    }
    if (relay) {
        if (*relay != "auto" && *relay != "never" && *relay != "always")
            return Error(Errc::bad_job, "journal: stored relay mode: " + *relay);
        item.relay = relay;
    }
    item.mkdirs = mkdirs;
    return success();
}

Expected<JobItem> item_from_stored(const std::string& source, const std::string& destination, bool append,
                                   std::size_t line) {
    JobItem item;
    item.line = line;
    item.append = append;
    auto src = parse_url(source);
    if (!src) return Error(Errc::bad_job, "journal: stored source URL: " + src.error().message);
    auto dst = parse_url(destination);
    if (!dst) return Error(Errc::bad_job, "journal: stored destination URL: " + dst.error().message);
    item.source = std::move(*src);
    item.destination = std::move(*dst);
    return item;
}

Expected<std::vector<std::size_t>> Journal::submit(const std::vector<JobItem>& items, unsigned max_per_host) {
    if (auto begun = begin_submit(max_per_host); !begun) return begun.error();
    auto done = submit_chunk(items, 0);
    if (!done) {
        abandon_submit();
        return done.error();
    }
    if (auto ended = end_submit(); !ended) return ended.error();
    return done;
}

bool is_postgresql_uri(std::string_view where) noexcept {
    return where.starts_with("postgresql://") || where.starts_with("postgres://");
}

Expected<std::unique_ptr<Journal>> open_journal(const std::string& where, JournalOptions options) {
    if (is_postgresql_uri(where)) return PostgresqlJournal::open(where, std::move(options));
    return SqliteJournal::open(where, std::move(options));
}

} // namespace rsexec
