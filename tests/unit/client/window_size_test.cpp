#include <doctest/doctest.h>

#include "client/window_size.hpp"

using namespace rsexec;
using namespace std::chrono_literals;

namespace {

// `files` of `bytes` each finished evenly over [from, from + over).
void finish(WindowSize& size, Clock::time_point from, Clock::duration over, unsigned files, std::uint64_t bytes) {
    for (unsigned i = 0; i < files; ++i) size.completed(bytes, from + over * i / files);
}

} // namespace

TEST_CASE("before any round trip is measured the window is the floor") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    CHECK(size.at(t0).files == 16);
    CHECK(size.at(t0).bytes == (8u << 20));
    finish(size, t0, 1s, 1000, 4096);
    CHECK(size.at(t0 + 1s).files == 16);  // a rate without a round trip says nothing
}

TEST_CASE("the round trip is the smallest sample: queued replies do not count") {
    WindowSize size;
    size.round_trip(120ms);
    size.round_trip(20ms);
    size.round_trip(300ms);
    size.round_trip(-5ms);  // a clock that went back is ignored
    REQUIRE(size.rtt());
    CHECK(*size.rtt() == 20ms);
}

TEST_CASE("the window covers the rate times the round trip, with headroom") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    // 300 files/s of 4 KiB
    finish(size, t0, 1s, 300, 4096);
    const auto now = t0 + 1s;
    CHECK(size.files_per_second(now) == doctest::Approx(300).epsilon(0.02));
    // 300 files/s x 0.1 s x 2 = 60 files
    CHECK(size.at(now).files == doctest::Approx(60).epsilon(0.05));
    // 1.2 MB/s x 0.1 s x 2 is under the byte floor
    CHECK(size.at(now).bytes == (8u << 20));
}

TEST_CASE("with no delay the window stays at its floor") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(300us);
    size.started(t0);
    finish(size, t0, 1s, 2000, 4096);
    CHECK(size.at(t0 + 1s).files == 16);
}

TEST_CASE("while the window binds it grows by its headroom each round trip") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(50ms);
    size.started(t0);
    auto now = t0;
    unsigned window = size.at(now).files;
    CHECK(window == 16);
    for (int round = 0; round < 4; ++round) {
        // A window's worth finishes in each round trip.
        finish(size, now, 50ms, window, 4096);
        now += 50ms;
        const unsigned next = size.at(now).files;
        CAPTURE(round);
        CHECK(next > window);
        CHECK(next <= 2 * window + 1);
        window = next;
    }
    CHECK(window >= 100);
}

TEST_CASE("a window that binds reaches the servers' pace in one round trip") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    // The first window's 16 files finish a round trip later, within 8 ms: servers at 2,000
    // files/s, counted over an eighth of the round trip (12.5 ms) at the least: 1,280 files/s.
    finish(size, t0 + 100ms, 8ms, 16, 4096);
    const auto now = t0 + 108ms;
    CHECK(size.files_per_second(now) == doctest::Approx(1280).epsilon(0.01));
    CHECK(size.at(now).files == 256);  // not 32: the window would double each round trip
    // Once nothing more finishes, the rate falls back to the round trip's count.
    CHECK(size.files_per_second(t0 + 200ms) == doctest::Approx(160).epsilon(0.01));
}

TEST_CASE("a few files at once make no pace") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    finish(size, t0 + 100ms, 1ms, 7, 4096);
    CHECK(size.files_per_second(t0 + 101ms) == doctest::Approx(70).epsilon(0.01));
    CHECK(size.at(t0 + 101ms).files == 16);
}

TEST_CASE("the window is bounded by its largest count and bytes") {
    WindowLimits limits;
    limits.max_files = 200;
    limits.max_bytes = 32u << 20;
    WindowSize size(limits);
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    // 5,000 files/s of 1 MiB: 1,000 files and 1 GB a round trip, with headroom
    finish(size, t0, 1s, 5000, 1u << 20);
    const auto window = size.at(t0 + 1s);
    CHECK(window.files == 200);
    CHECK(window.bytes == (32u << 20));
}

TEST_CASE("a large-file rate sizes the bytes in flight") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    // 100 files/s of 1 MiB: 100 MiB/s x 0.1 s x 2 = 20 MiB
    finish(size, t0, 1s, 100, 1u << 20);
    const auto bytes = size.at(t0 + 1s).bytes;
    CHECK(bytes >= (19u << 20));
    CHECK(bytes <= (21u << 20));
}

TEST_CASE("the rate follows the newest completions; the first ones count from the first start") {
    WindowSize size;
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(20ms);
    size.started(t0);
    // 2 files within 5 ms of the first start: counted over one round trip (20 ms), not 5 ms nor 1 s
    finish(size, t0 + 1ms, 4ms, 2, 4096);
    CHECK(size.files_per_second(t0 + 5ms) == doctest::Approx(100).epsilon(0.01));
    // 40 files in the last round trip: 2,000 files/s, whatever came before
    finish(size, t0 + 80ms, 20ms, 40, 4096);
    CHECK(size.files_per_second(t0 + 100ms) == doctest::Approx(2000).epsilon(0.01));
    // Long after, with nothing finished since, no rate is left
    CHECK(size.files_per_second(t0 + 10s) == 0);
    CHECK(size.at(t0 + 10s).files == 16);
}

TEST_CASE("limits that contradict each other keep the floor") {
    WindowLimits limits;
    limits.min_files = 64;
    limits.max_files = 8;
    WindowSize size(limits);
    const auto t0 = Clock::time_point{} + 1h;
    size.round_trip(100ms);
    size.started(t0);
    finish(size, t0, 1s, 5000, 4096);
    CHECK(size.at(t0 + 1s).files == 64);
}
