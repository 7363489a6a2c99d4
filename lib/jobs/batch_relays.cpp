// Relayed items through one pair of sessions: the relay pipeline (relay_pipeline.hpp).
#include "batch_state.hpp"
#include "client/relay.hpp"
#include "client/relay_pipeline.hpp"

namespace rsexec {

bool BatchRun::State::can_relay_pipeline(const Site& src, const Site& dst, std::size_t index) const {
    const JobItem& item = item_at(index);
    if (is_local_item(item)) return false;
    const RelayMode mode = item.relay ? parse_relay_mode(*item.relay).value_or(options.copy.relay) : options.copy.relay;
    if (mode == RelayMode::never || options.pipelining == Pipelining::off || options.copy.preserve_times) return false;
    // What copy_file does file by file (resume, append, an overwrite policy to ask about, digests)
    // stays with it, as for the direct pipeline.
    if (entries.at(index).earlier_claims != 0 || item.append || options.copy.resume ||
        overwrite_for(index) != Overwrite::always ||
        (options.copy.verify != Verify::none && options.copy.verify != Verify::size))
        return false;
    if (!src.session || !src.session->is_open() || !dst.session || !dst.session->is_open()) return false;
    // Data under TLS is relayed by copy_file, which sets up each data connection's protection.
    if (src.session->tls_active() || dst.session->tls_active()) return false;
    if (src.login != login_of(item.source, credentials_for(item.source, options.netrc)) ||
        dst.login != login_of(item.destination, credentials_for(item.destination, options.netrc)))
        return false;
    if (mode == RelayMode::always) return true;
    return options.copy.known_refusing && options.copy.known_refusing(relay_pair_name(*src.session, *dst.session));
}

asio::awaitable<bool> BatchRun::State::relay_pipeline(Site& src, Site& dst, std::size_t first,
                                                      std::deque<std::pair<std::size_t, Error>>& failed,
                                                      std::deque<Returned>& returned) {
    RelayPipelineOptions relay;
    relay.trust_announced_address = options.copy.pairing.trust_announced_address;
    relay.verify_size = options.copy.verify == Verify::size;
    relay.largest = PipelineOptions{}.largest;
    bool finished_any = false;
    std::set<std::size_t> announced;  // a start event is out
    const auto announce = [&](std::size_t index) {
        if (!announced.insert(index).second) return;
        entries.at(index).relayed = true;  // for status --failed, should it fail
        begin(index, 1);
    };
    std::optional<std::size_t> pending_first = first;
    PipelineCallbacks callbacks;
    callbacks.next = [&]() -> std::optional<PipelineFile> {
        for (;;) {
            std::optional<std::size_t> index = pending_first;
            pending_first.reset();
            if (!index) index = take([&](std::size_t i) { return can_relay_pipeline(src, dst, i); });
            if (!index) return std::nullopt;
            auto file = pipeline_file(src, dst, *index);
            if (!file) {
                announce(*index);
                failed.emplace_back(*index, file.error());
            } else if (!*file) {
                returned.push_back({*index, std::nullopt, true});
            } else {
                return **file;
            }
        }
    };
    callbacks.started = announce;
    callbacks.finished = [&](std::size_t index, Expected<CopyResult> result) {
        announce(index);  // a file can fail before it starts (its source is missing)
        if (result) {
            finished_any = true;
            chunk = full_chunk();
            succeeded(index, 1, *result);
        } else {
            failed.emplace_back(index, result.error());
        }
    };
    callbacks.returned = [&](std::size_t index, std::optional<std::uint64_t> size) {
        returned.push_back({index, size, true});
    };
    callbacks.stopping = [this] { return stopping; };
    auto ran = co_await run_relay_pipeline(*src.session, *dst.session, relay, callbacks);
    if (!ran) {
        drop(src);
        drop(dst);
    }
    co_return finished_any || ran;
}

asio::awaitable<bool> BatchRun::State::try_relay_pipeline(Site& src, Site& dst, std::size_t index, unsigned worker,
                                                          std::deque<std::pair<std::size_t, Error>>& failed,
                                                          std::deque<Returned>& returned, bool& enabled) {
    if (!enabled) co_return false;
    const JobItem& item = item_at(index);
    const RelayMode mode = item.relay ? parse_relay_mode(*item.relay).value_or(options.copy.relay) : options.copy.relay;
    // With auto, only servers known to refuse: that is known of the sessions already open.
    const bool open = src.session && src.session->is_open() && dst.session && dst.session->is_open();
    if (mode == RelayMode::never || (mode == RelayMode::automatic && !open)) co_return false;
    if (auto opened = co_await ensure_pair(src, dst, item, worker); !opened) co_return false;
    if (!can_relay_pipeline(src, dst, index)) co_return false;
    // One that fails before it finishes anything is not tried again by this worker.
    if (!co_await relay_pipeline(src, dst, index, failed, returned)) enabled = false;
    co_return true;
}

} // namespace rsexec
