// Submitting a run's items to the journal a chunk at a time, keeping only what the journal does
// not hold (passwords), so that a run's memory does not grow with its job. A line's own policies
// (overwrite, relay, mkdirs) are stored with the item and come back with its claim, here or in a
// worker elsewhere.
#include "batch_state.hpp"

namespace rsexec {
namespace {

// Items per chunk: one journal write each; the memory of one chunk is what a submit holds.
constexpr std::size_t submit_chunk_items = 10'000;

// The login a password belongs to. The journal's URLs name the user, so the key is the same for
// the URL as submitted and as claimed back.
std::string password_key(const FtpUrl& url) {
    return url.scheme + "://" + url.user.value_or("") + "@" + url.authority();
}

class VectorItemSource final : public ItemSource {
public:
    explicit VectorItemSource(std::vector<JobItem> items) : items_(std::move(items)) {}
    Expected<std::vector<JobItem>> next(std::size_t max) override {
        // A list in memory already (a mirror's plan): handed over whole.
        (void)max;
        return std::exchange(items_, {});
    }

private:
    std::vector<JobItem> items_;
};

} // namespace

std::unique_ptr<ItemSource> items_in_memory(std::vector<JobItem> items) {
    return std::make_unique<VectorItemSource>(std::move(items));
}

BatchRun::BatchRun(asio::any_io_executor executor, std::vector<JobItem> items, BatchOptions options)
    : BatchRun(executor, items.empty() ? nullptr : items_in_memory(std::move(items)), std::move(options)) {}

BatchRun::BatchRun(asio::any_io_executor executor, std::unique_ptr<ItemSource> source, BatchOptions options)
    : state_(std::make_unique<State>(executor, std::move(source), std::move(options))) {}

void BatchRun::State::remember(const JobItem& item, std::size_t seq) {
    // A login's password once; a line whose password differs from the login's first keeps its own.
    std::optional<std::string> own[2];
    for (int side = 0; side < 2; ++side) {
        const FtpUrl& url = side == 0 ? item.source : item.destination;
        if (!url.password) continue;
        auto [it, first] = passwords.try_emplace(password_key(url), *url.password);
        if (!first && it->second != *url.password) own[side] = url.password;
    }
    if (own[0] || own[1]) line_policies[seq] = {{own[0], own[1]}};
}

void BatchRun::State::restore(JobItem& item, std::size_t seq) const {
    const auto line = line_policies.find(seq);
    for (int side = 0; side < 2; ++side) {
        FtpUrl& url = side == 0 ? item.source : item.destination;
        if (url.password) continue;
        if (line != line_policies.end() && line->second.passwords[side]) url.password = line->second.passwords[side];
        else if (auto it = passwords.find(password_key(url)); it != passwords.end()) url.password = it->second;
    }
}

Expected<std::size_t> BatchRun::State::submit_source() {
    if (auto begun = journal->begin_submit(options.max_per_host); !begun) return begun.error();
    std::size_t seq = 0, to_do = 0;
    for (;;) {
        auto chunk = source->next(submit_chunk_items);
        if (!chunk) {
            journal->abandon_submit();
            return chunk.error();
        }
        if (chunk->empty()) break;
        auto done = journal->submit_chunk(*chunk, seq);
        if (!done) {
            journal->abandon_submit();
            return done.error();
        }
        for (std::size_t i = 0; i < chunk->size(); ++i) remember((*chunk)[i], seq + i);
        for (const std::size_t done_seq : *done) {
            ++summary.skipped;
            emit({BatchEvent::Kind::skipped, done_seq, &(*chunk)[done_seq - seq], 0, std::nullopt, std::nullopt, {}});
        }
        to_do += chunk->size() - done->size();
        seq += chunk->size();
    }
    if (auto ended = journal->end_submit(); !ended) return ended.error();
    source.reset();
    return to_do;
}

} // namespace rsexec
