#include "server/login_throttle.hpp"

#include <algorithm>

namespace rsexec::server {

std::string LoginThrottle::address_key(const asio::ip::address& address) {
    if (address.is_v4()) return address.to_string();
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes).to_string() + "/64";
}

Clock::duration LoginThrottle::delay_after(unsigned failures, unsigned free) const {
    if (failures < free) return Clock::duration::zero();
    const unsigned doublings = std::min(failures - free, 20u);
    return std::min<Clock::duration>(settings_.first_delay * (1u << doublings), settings_.max_delay);
}

std::optional<Clock::time_point> LoginThrottle::admit(const std::string& address, Clock::time_point now) {
    forget_stale(now);
    auto it = addresses_.find(address);
    if (it == addresses_.end()) {
        make_room(addresses_, now);
        it = addresses_.emplace(address, Record{}).first;
        it->second.last_failure = now;
    }
    auto& record = it->second;
    const unsigned counted = record.failures + record.in_flight;
    if (counted < settings_.free_failures) {
        ++record.in_flight;
        return now;
    }
    const auto turn = std::max(now, record.next_turn);
    if (turn - now > settings_.max_wait) return std::nullopt;
    record.next_turn = turn + delay_after(counted, settings_.free_failures);
    ++record.in_flight;
    return turn;
}

Clock::duration LoginThrottle::failed(const std::string& address, const std::string& account, Clock::time_point now) {
    if (auto it = addresses_.find(address); it != addresses_.end()) {
        auto& record = it->second;
        if (record.in_flight > 0) --record.in_flight;
        ++record.failures;
        record.last_failure = now;
        if (record.failures >= settings_.free_failures)
            record.next_turn = std::max(record.next_turn, now + delay_after(record.failures, settings_.free_failures));
    }
    auto it = accounts_.find(account);
    if (it == accounts_.end()) {
        make_room(accounts_, now);
        it = accounts_.emplace(account, Record{}).first;
    }
    ++it->second.failures;
    it->second.last_failure = now;
    return std::min(delay_after(it->second.failures, settings_.account_free_failures + 1),
                    settings_.account_max_delay);
}

void LoginThrottle::succeeded(const std::string& address, const std::string& account) {
    // The address keeps its failures: a guesser with an account of its own must not be able to
    // wipe them by logging in. The account's are forgiven: its owner got in.
    abandoned(address);
    accounts_.erase(account);
}

void LoginThrottle::abandoned(const std::string& address) {
    auto it = addresses_.find(address);
    if (it == addresses_.end()) return;
    if (it->second.in_flight > 0) --it->second.in_flight;
    if (it->second.failures == 0 && it->second.in_flight == 0) addresses_.erase(it);
}

bool LoginThrottle::checks_full(const std::string& address) const {
    const auto it = addresses_.find(address);
    if (it == addresses_.end()) return false;
    const auto& record = it->second;
    return record.failures < settings_.free_failures && record.failures + record.in_flight >= settings_.free_failures;
}

unsigned LoginThrottle::failures_of(const std::string& address) const {
    const auto it = addresses_.find(address);
    return it == addresses_.end() ? 0 : it->second.failures + it->second.in_flight;
}

void LoginThrottle::make_room(std::map<std::string, Record>& table, Clock::time_point now) {
    if (table.size() < settings_.max_entries) return;
    last_sweep_ = {};
    forget_stale(now);
    if (table.size() < settings_.max_entries) return;
    // Full of recent failures: the one failing longest ago goes (a scan, only when full).
    auto oldest = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
        return a.second.last_failure < b.second.last_failure;
    });
    table.erase(oldest);
}

void LoginThrottle::forget_stale(Clock::time_point now) {
    // At most once a minute, or when a table is full: the tables shrink as failures age.
    if (last_sweep_ != Clock::time_point{} && now - last_sweep_ < std::chrono::minutes(1)) return;
    last_sweep_ = now;
    for (auto* table : {&addresses_, &accounts_}) {
        std::erase_if(*table, [&](const auto& entry) {
            return entry.second.in_flight == 0 && now - entry.second.last_failure > settings_.forget_after;
        });
    }
}

} // namespace rsexec::server
