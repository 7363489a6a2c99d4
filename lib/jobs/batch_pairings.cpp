// Pairs of servers the run has found to pair or to refuse, shared by every worker.
#include "batch_state.hpp"
#include "client/relay.hpp"

namespace rsexec {

void BatchRun::State::remember_refusals() {
    // copy_file calls `relaying` when it relays because every pairing was refused.
    auto said = options.copy.relaying;
    options.copy.relaying = [this, said](const std::string& servers, const std::string& why) {
        pairs_refused.insert(servers);
        pairs_probed.erase(servers);
        pairing_decided.cancel();
        if (said) said(servers, why);
    };
    auto known = options.copy.known_refusing;
    options.copy.known_refusing = [this, known](const std::string& servers) {
        return pairs_refused.count(servers) > 0 || (known && known(servers));
    };
}

asio::awaitable<void> BatchRun::State::await_pairing(const Site& src, const Site& dst, unsigned worker) {
    if (options.copy.relay != RelayMode::automatic || !src.session || !dst.session) co_return;
    const std::string servers = relay_pair_name(*src.session, *dst.session);
    const auto limit = Clock::now() + std::max(src.session->timeout(), dst.session->timeout());
    for (;;) {
        if (pairs_accepted.count(servers) || options.copy.known_refusing(servers) || stopping) co_return;
        auto probing = pairs_probed.find(servers);
        if (probing == pairs_probed.end() || probing->second == worker || Clock::now() >= limit) {
            pairs_probed[servers] = worker;
            co_return;
        }
        // pairing_decided never expires by itself: a timer of its own bounds the wait.
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer bound(executor, limit);
        co_await (pairing_decided.async_wait(asio::experimental::as_tuple(asio::use_awaitable)) ||
                  bound.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    }
}

void BatchRun::State::pairing_accepted(const Site& src, const Site& dst) {
    if (!src.session || !dst.session) return;
    const std::string servers = relay_pair_name(*src.session, *dst.session);
    if (!pairs_accepted.insert(servers).second) return;
    pairs_probed.erase(servers);
    pairing_decided.cancel();
}

void BatchRun::State::end_probe(unsigned worker) {
    bool ended = false;
    for (auto it = pairs_probed.begin(); it != pairs_probed.end();) {
        if (it->second == worker) {
            it = pairs_probed.erase(it);
            ended = true;
        } else {
            ++it;
        }
    }
    if (ended) pairing_decided.cancel();
}

} // namespace rsexec
