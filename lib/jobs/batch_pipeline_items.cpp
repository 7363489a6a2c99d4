// What the direct and the relay pipeline report of the batch's items (PipelineItems).
#include "batch_state.hpp"

namespace rsexec {

void BatchRun::State::PipelineItems::announce(std::size_t index) {
    if (!announced.insert(index).second) return;
    if (relayed) state.entries.at(index).relayed = true;
    state.begin(index, 1);
}

PipelineCallbacks BatchRun::State::PipelineItems::callbacks(std::function<std::optional<std::size_t>()> take_next) {
    PipelineCallbacks callbacks;
    callbacks.next = [this, take_next = std::move(take_next)]() -> std::optional<PipelineFile> {
        for (;;) {
            std::optional<std::size_t> index = pending_first;
            const bool first_of_all = index.has_value();
            pending_first.reset();
            if (!index) index = take_next();
            if (!index) return std::nullopt;
            auto file = state.pipeline_file(src, dst, *index);
            if (!file) {
                announce(*index);
                failed.emplace_back(*index, file.error());
            } else if (!*file) {
                returned.push_back({*index, std::nullopt, relayed});
                // Copied the usual way by this worker: one such item after the first ends the
                // pipeline, so that the items after it go to every pair, not all to this one.
                if (!first_of_all) return std::nullopt;
            } else {
                return **file;
            }
        }
    };
    callbacks.started = [this](std::size_t index) { announce(index); };
    callbacks.finished = [this](std::size_t index, Expected<CopyResult> result) {
        announce(index);  // a file can fail before it starts (its source is missing)
        if (result) {
            finished_any = true;
            state.chunk = state.full_chunk();
            state.succeeded(index, 1, *result);
        } else {
            failed.emplace_back(index, result.error());
        }
    };
    callbacks.returned = [this](std::size_t index, std::optional<std::uint64_t> size) {
        returned.push_back({index, size, relayed});
    };
    callbacks.stopping = [this] { return state.stopping; };
    // Only a direct pipeline pairs the servers.
    if (!relayed) callbacks.paired = [this] { state.pairing_accepted(src, dst); };
    return callbacks;
}

} // namespace rsexec
