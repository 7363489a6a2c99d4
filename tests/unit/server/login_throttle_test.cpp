#include <doctest/doctest.h>

#include "server/login_throttle.hpp"

using namespace rsexec;
using namespace rsexec::server;
using namespace std::chrono_literals;

namespace {
const Clock::time_point t0 = Clock::time_point() + 1000h;
} // namespace

TEST_CASE("parallel guesses from one address are spaced once the free attempts are spent") {
    LoginThrottle throttle;
    // Five attempts at once go through, even before any of them has failed.
    for (int i = 0; i < 5; ++i) CHECK(throttle.admit("10.0.0.1", t0) == t0);
    // The next ones get turns 1 s, 2 s, 4 s apart; one further than 10 s away is refused.
    CHECK(throttle.admit("10.0.0.1", t0) == t0);
    CHECK(throttle.admit("10.0.0.1", t0) == t0 + 1s);
    CHECK(throttle.admit("10.0.0.1", t0) == t0 + 3s);
    CHECK(throttle.admit("10.0.0.1", t0) == t0 + 7s);
    CHECK_FALSE(throttle.admit("10.0.0.1", t0));
    // Another address is not held back.
    CHECK(throttle.admit("10.0.0.2", t0) == t0);
}

TEST_CASE("correct logins at once from one address wait for a check to end, not for a spaced turn") {
    LoginThrottle throttle;
    CHECK_FALSE(throttle.checks_full("10.0.0.1"));
    for (int i = 0; i < 5; ++i) {
        CHECK_FALSE(throttle.checks_full("10.0.0.1"));
        CHECK(throttle.admit("10.0.0.1", t0) == t0);
    }
    // Five checks in flight and no failure yet: the sixth waits for one of them.
    CHECK(throttle.checks_full("10.0.0.1"));
    throttle.succeeded("10.0.0.1", "demo");
    CHECK_FALSE(throttle.checks_full("10.0.0.1"));
    CHECK(throttle.admit("10.0.0.1", t0) == t0);
    // Once the free attempts have failed, turns are spaced instead (admit decides).
    for (int i = 0; i < 5; ++i) throttle.failed("10.0.0.1", "demo", t0);
    CHECK_FALSE(throttle.checks_full("10.0.0.1"));
    CHECK(throttle.admit("10.0.0.1", t0) == t0 + 1s);
}

TEST_CASE("sequential failures from one address wait a doubling delay") {
    LoginThrottle throttle;
    auto now = t0;
    for (int i = 0; i < 5; ++i) {
        REQUIRE(throttle.admit("10.0.0.1", now) == now);
        throttle.failed("10.0.0.1", "demo", now);
    }
    CHECK(throttle.failures_of("10.0.0.1") == 5);
    CHECK(throttle.admit("10.0.0.1", now) == now + 1s);
    throttle.failed("10.0.0.1", "demo", now + 1s);
    CHECK(throttle.admit("10.0.0.1", now + 1s) == now + 3s);
    // Forgotten 15 minutes after the last failure.
    throttle.abandoned("10.0.0.1");
    now += 20min;
    CHECK(throttle.admit("10.0.0.1", now) == now);
}

TEST_CASE("an account's failures delay its 530s, never a correct login") {
    LoginThrottle throttle;
    Clock::duration penalty{};
    for (int i = 0; i < 10; ++i) penalty = throttle.failed("10.0.0." + std::to_string(i), "demo", t0);
    CHECK(penalty == Clock::duration::zero());
    CHECK(throttle.failed("10.0.0.11", "demo", t0) == 1s);
    CHECK(throttle.failed("10.0.0.12", "demo", t0) == 2s);
    // The owner logs in from elsewhere at once; the account's count starts over.
    CHECK(throttle.admit("192.0.2.1", t0) == t0);
    throttle.succeeded("192.0.2.1", "demo");
    CHECK(throttle.failed("10.0.0.13", "demo", t0) == Clock::duration::zero());
}

TEST_CASE("the throttle's tables are bounded and shrink") {
    LoginThrottle throttle(LoginThrottleSettings{.max_entries = 100});
    // A successful login leaves nothing behind.
    for (int i = 0; i < 1000; ++i) {
        const auto address = "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        REQUIRE(throttle.admit(address, t0));
        throttle.succeeded(address, "user" + std::to_string(i));
    }
    CHECK(throttle.addresses() == 0);
    // Failures from many addresses and names: never more than the bound.
    for (int i = 0; i < 1000; ++i) {
        const auto address = "10.2." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        REQUIRE(throttle.admit(address, t0 + std::chrono::seconds(i)));
        throttle.failed(address, "name" + std::to_string(i), t0 + std::chrono::seconds(i));
        CHECK(throttle.addresses() <= 100);
        CHECK(throttle.accounts() <= 100);
    }
    // Once their failures are old, they are forgotten.
    REQUIRE(throttle.admit("192.0.2.1", t0 + 2h));
    throttle.abandoned("192.0.2.1");
    CHECK(throttle.addresses() == 0);
    CHECK(throttle.accounts() == 0);
}

TEST_CASE("IPv6 clients are counted by their /64") {
    const auto a = LoginThrottle::address_key(asio::ip::make_address("2001:db8:1:2::5"));
    const auto b = LoginThrottle::address_key(asio::ip::make_address("2001:db8:1:2:ffff::9"));
    CHECK(a == b);
    CHECK(a == "2001:db8:1:2::/64");
    CHECK(LoginThrottle::address_key(asio::ip::make_address("::ffff:10.0.0.1")) == "10.0.0.1");
    CHECK(LoginThrottle::address_key(asio::ip::make_address("10.0.0.1")) == "10.0.0.1");
}
