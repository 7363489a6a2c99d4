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
    PipelineItems items{*this, src, dst, failed, returned, true, first};
    const PipelineCallbacks callbacks =
        items.callbacks([&] { return take([&](std::size_t i) { return can_relay_pipeline(src, dst, i); }); });
    auto ran = co_await run_relay_pipeline(*src.session, *dst.session, relay, callbacks);
    if (!ran) {
        drop(src);
        drop(dst);
    }
    co_return items.finished_any || ran;
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
