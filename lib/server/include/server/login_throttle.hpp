#pragma once
// Failed logins counted per client address and per account, across connections: guessing over
// 45 connections at once is then no faster than over one (RFC 2577 5). Pure logic, no timers:
// the session waits and replies.
//
// Per address: the first `free_failures` attempts go through at once; after that each attempt
// gets a turn, the turns spaced by a delay that doubles with each failure (up to `max_delay`),
// and an attempt whose turn is more than `max_wait` away is refused (421). Attempts still being
// checked count as failures until they are known, so a burst of parallel guesses is spaced too.
// Per account: beyond `account_free_failures`, a failed PASS is answered after a doubling delay
// (a correct one at once, so a guesser cannot lock the owner out from another address).
// Both tables are bounded (`max_entries`) and forget a key `forget_after` its last failure.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include <asio/ip/address.hpp>

#include "ftp/deadline.hpp"

namespace rsexec::server {

struct LoginThrottleSettings {
    unsigned free_failures = 5;
    unsigned account_free_failures = 10;
    Clock::duration first_delay = std::chrono::seconds(1);
    Clock::duration max_delay = std::chrono::seconds(60);         // between an address's turns
    Clock::duration account_max_delay = std::chrono::seconds(10); // added to an account's 530
    Clock::duration max_wait = std::chrono::seconds(10);
    Clock::duration forget_after = std::chrono::minutes(15);
    std::size_t max_entries = 4096;
};

class LoginThrottle {
public:
    explicit LoginThrottle(LoginThrottleSettings settings = {}) : settings_(settings) {}

    // The key of a client address: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64).
    static std::string address_key(const asio::ip::address& address);

    // True while `address` has failed fewer than the free attempts but as many are being checked:
    // the next attempt waits for one of those checks to end (a success frees its place) and
    // then asks admit(), instead of taking a spaced turn as if they had all failed. Many correct
    // logins at once from one address (one host running many copies) then all get in.
    bool checks_full(const std::string& address) const;
    // How long an attempt may wait, for a check to end or for its turn, before it gets 421.
    Clock::duration max_wait() const noexcept { return settings_.max_wait; }

    // An attempt from `address` wants to check a password: when it may (`now` or later), or
    // nullopt when that is more than max_wait away. A returned turn must be followed by
    // failed(), succeeded() or abandoned() for the same address.
    std::optional<Clock::time_point> admit(const std::string& address, Clock::time_point now);
    // The attempt failed: how long to hold its 530 beyond the usual login delay (the account's penalty).
    Clock::duration failed(const std::string& address, const std::string& account, Clock::time_point now);
    void succeeded(const std::string& address, const std::string& account);
    // The attempt ended without a check (the client left while waiting).
    void abandoned(const std::string& address);

    // Failures counted for an address (attempts in flight included), for log lines and tests.
    unsigned failures_of(const std::string& address) const;
    std::size_t addresses() const noexcept { return addresses_.size(); }
    std::size_t accounts() const noexcept { return accounts_.size(); }

private:
    struct Record {
        unsigned failures = 0;
        unsigned in_flight = 0;
        Clock::time_point last_failure{};
        Clock::time_point next_turn{};
    };

    Clock::duration delay_after(unsigned failures, unsigned free) const;
    // Makes room for one more key: forgets stale ones, then the one failing longest ago.
    void make_room(std::map<std::string, Record>& table, Clock::time_point now);
    void forget_stale(Clock::time_point now);

    LoginThrottleSettings settings_;
    std::map<std::string, Record> addresses_;
    std::map<std::string, Record> accounts_;
    Clock::time_point last_sweep_{};
};

} // namespace rsexec::server
