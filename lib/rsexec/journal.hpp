#pragma once
// The batch journal: every item's state in a SQLite file (WAL mode), so that a batch run again
// after a crash or a kill skips what is done and retries the rest.
#include <cstdint>
#include <memory>
#include <string>

#include "rsexec/expected.hpp"

struct sqlite3;

namespace rsexec {

enum class ItemState { pending, running, done, failed };
const char* item_state_name(ItemState state) noexcept;

struct JournalCounts {
    std::size_t pending = 0, running = 0, done = 0, failed = 0;
};

class Journal {
public:
    // Opens or creates the journal; the schema is created on first use.
    static Expected<Journal> open(const std::string& path);

    Journal(Journal&&) noexcept;
    Journal& operator=(Journal&&) noexcept;
    ~Journal();

    // Adds the item as pending unless the journal knows it; returns its state either way.
    // `key` identifies the item across runs (its URLs, never a password).
    Expected<ItemState> enroll(const std::string& key);
    Status mark_running(const std::string& key);
    Status mark_done(const std::string& key, std::uint64_t bytes);
    Status mark_failed(const std::string& key, const std::string& error);
    // Back to pending (an interrupted item): it will be retried next run.
    Status mark_pending(const std::string& key, const std::string& reason);

    Expected<JournalCounts> counts();
    Expected<int> attempts(const std::string& key);

private:
    explicit Journal(sqlite3* db) : db_(db) {}
    Status exec(const std::string& sql);
    Status update(const std::string& key, ItemState state, const std::string* error, const std::uint64_t* bytes,
                  bool count_attempt);

    sqlite3* db_ = nullptr;
};

} // namespace rsexec
