#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "ftp/connection_limit.hpp"
#include "jobs/concurrency_controller.hpp"

using namespace rsexec;
using namespace std::chrono_literals;

namespace {

// A batch in miniature: every 50 ms the pairs asked for finish rate(pairs) files a second
// between them, and are all logged in.
struct Simulation {
    Clock::time_point now{};
    ConcurrencyController controller;
    double carry = 0;
    unsigned highest = 0;
    std::optional<std::size_t> left;  // the job's items not done yet, when the batch knows them
    // Each rise of the target, and the items left then.
    std::vector<std::pair<unsigned, std::size_t>> rises;

    explicit Simulation(ConcurrencySettings settings) : controller(settings, now) {}

    void run(const std::function<double(unsigned)>& rate, Clock::duration span) {
        for (const auto end = now + span; now < end;) {
            now += 50ms;
            carry += rate(controller.target()) * 0.05;
            const auto files = static_cast<std::size_t>(carry);
            carry -= static_cast<double>(files);
            controller.completed(files);
            if (left) {
                *left -= std::min(*left, files);
                controller.items_left(*left);
            }
            controller.pairs_open(controller.target(), now);
            const unsigned before = controller.target();
            controller.tick(now);
            if (controller.target() > before) rises.emplace_back(controller.target(), left.value_or(0));
            highest = std::max(highest, controller.target());
        }
    }
};

// Each pair costs a round trip a file (20 ms): 50 files/s a pair, until the servers' CPU binds.
double round_trip_bound(unsigned pairs) { return 50.0 * pairs; }
double cpu_bound_at_400(unsigned pairs) { return std::min(50.0 * pairs, 400.0); }

} // namespace

TEST_CASE("-j auto grows while files/s rises, up to its ceiling") {
    ConcurrencySettings settings;
    settings.most = 32;
    Simulation sim(settings);
    CHECK(sim.controller.target() == 4);
    sim.run(round_trip_bound, 10s);
    CHECK(sim.controller.target() == 32);
    CHECK(sim.controller.phase() == ConcurrencyController::Phase::settled);
}

TEST_CASE("-j auto stops growing where files/s stops rising") {
    Simulation sim(ConcurrencySettings{});
    sim.run(cpu_bound_at_400, 20s);
    // 8 pairs reach the servers' 400 files/s; past it more pairs add nothing.
    CHECK(sim.controller.phase() == ConcurrencyController::Phase::settled);
    CHECK(sim.controller.target() >= 8);
    CHECK(sim.controller.target() <= 16);
    CHECK(sim.highest < 32);
    CHECK(sim.controller.last_rate() >= 0.95 * 400);
}

TEST_CASE("-j auto goes back to fewer pairs when more made files/s fall") {
    Simulation sim(ConcurrencySettings{});
    // Past 8 pairs the servers thrash: files/s falls.
    sim.run([](unsigned pairs) { return pairs <= 8 ? 50.0 * pairs : 400.0 - 20.0 * (pairs - 8); }, 20s);
    CHECK(sim.controller.target() == 8);
    CHECK(sim.controller.phase() == ConcurrencyController::Phase::settled);
}

TEST_CASE("-j auto never passes its most (--max-per-host)") {
    ConcurrencySettings settings;
    settings.most = 6;
    Simulation sim(settings);
    sim.run(round_trip_bound, 10s);
    CHECK(sim.highest == 6);
    CHECK(sim.controller.target() == 6);

    settings.most = 2;  // below the initial count
    Simulation small(settings);
    CHECK(small.controller.target() == 2);
    small.run(round_trip_bound, 5s);
    CHECK(small.highest == 2);
}

TEST_CASE("-j auto backs off when a server refuses a login for its connection limit") {
    Simulation sim(ConcurrencySettings{});
    sim.run(round_trip_bound, 1s);
    REQUIRE(sim.controller.target() > 6);
    // The seventh pair's login got 421: six were open.
    CHECK(sim.controller.refused(6, sim.now));
    CHECK(sim.controller.target() == 6);
    CHECK(sim.controller.refusals() == 1);
    sim.highest = 0;
    sim.run(round_trip_bound, 10s);
    CHECK(sim.highest == 6);
    CHECK(sim.controller.target() == 6);
    // A refusal with none open still leaves one pair.
    CHECK(sim.controller.refused(0, sim.now));
    CHECK(sim.controller.target() == 1);
    CHECK_FALSE(sim.controller.refused(3, sim.now));  // never raises the cap again
    CHECK(sim.controller.target() == 1);
}

TEST_CASE("-j auto, once settled, takes pairs away when files/s falls by a quarter") {
    ConcurrencySettings settings;
    settings.most = 8;
    Simulation sim(settings);
    sim.run(round_trip_bound, 5s);
    REQUIRE(sim.controller.target() == 8);
    REQUIRE(sim.controller.phase() == ConcurrencyController::Phase::settled);
    // The servers slow down, by half, and more pairs only load them.
    sim.run([](unsigned pairs) { return 200.0 - 10.0 * pairs; }, 3s);
    CHECK(sim.controller.target() < 8);
    CHECK(sim.controller.target() >= 1);
}

TEST_CASE("-j auto decides nothing from too few files (large ones)") {
    Simulation sim(ConcurrencySettings{});
    sim.run([](unsigned pairs) { return 0.2 * pairs; }, 60s);
    CHECK(sim.highest == 4);
    CHECK(sim.controller.target() == 4);
}

TEST_CASE("-j auto measures only once the new pairs are logged in") {
    ConcurrencySettings settings;
    Clock::time_point now{};
    ConcurrencyController controller(settings, now);
    controller.pairs_open(4, now);
    // 4 pairs for 300 ms at 200 files/s: the first measurement doubles them.
    for (int i = 0; i < 6; ++i) {
        now += 50ms;
        controller.completed(10);
        controller.tick(now);
    }
    REQUIRE(controller.target() == 8);
    // Only 4 of the 8 logged in yet: files finished meanwhile are not a measurement of 8.
    for (int i = 0; i < 10; ++i) {
        now += 50ms;
        controller.completed(10);
        controller.pairs_open(4, now);
        CHECK_FALSE(controller.tick(now));
    }
    CHECK(controller.target() == 8);
    CHECK(controller.phase() == ConcurrencyController::Phase::growing);
}

TEST_CASE("a login refused for the server's connection limit is told from a wrong password") {
    CHECK(refuses_for_connection_limit(421, "Too many connections from your address"));
    CHECK(refuses_for_connection_limit(421, "There are too many connected users, please try later."));
    CHECK(refuses_for_connection_limit(530, "Sorry, the maximum number of clients (5) from your host are already "
                                            "connected."));
    CHECK(refuses_for_connection_limit(530, "login as bob: Too many users logged in"));
    CHECK_FALSE(refuses_for_connection_limit(530, "Login incorrect."));
    CHECK_FALSE(refuses_for_connection_limit(550, "too many files"));
    CHECK_FALSE(refuses_for_connection_limit(0, "connection closed"));
}

TEST_CASE("-j auto goes back to its pairs when fewer do no better after files/s fell") {
    ConcurrencySettings settings;
    settings.most = 8;
    Simulation sim(settings);
    sim.run(round_trip_bound, 5s);
    REQUIRE(sim.controller.target() == 8);
    // The servers slow down by themselves: files/s halves, and still grows with the pairs.
    sim.run([](unsigned pairs) { return 25.0 * pairs; }, 1500ms);
    sim.run([](unsigned pairs) { return 25.0 * pairs; }, 5s);
    CHECK(sim.controller.target() == 8);
}

TEST_CASE("-j auto adds no more pairs than the files left pay the logins of") {
    // 1,000 files at 20 ms: the pairs double while files/s follows them, but each pair added
    // must have 32 files left to do (its two logins cost a forking server as much CPU as ~150).
    Simulation sim(ConcurrencySettings{});
    sim.left = 1000;
    sim.run(round_trip_bound, 5s);
    REQUIRE_FALSE(sim.rises.empty());
    for (const auto& [pairs, left] : sim.rises) {
        INFO("rose to " << pairs << " pairs with " << left << " files left");
        CHECK(pairs * 32 <= left);
    }
    CHECK(sim.highest >= 16);  // the growth itself is not held back
    CHECK(sim.highest < 32);   // without the bound: 32
    // No step too small to measure: each rise adds at least a quarter.
    for (std::size_t i = 1; i < sim.rises.size(); ++i)
        CHECK(sim.rises[i].first >= sim.rises[i - 1].first + sim.rises[i - 1].first / 4);
    CHECK(sim.controller.phase() == ConcurrencyController::Phase::settled);

    // A long job grows as far as files/s rises.
    Simulation long_job(ConcurrencySettings{});
    long_job.left = 1'000'000;
    long_job.run(round_trip_bound, 10s);
    CHECK(long_job.controller.target() == 32);
}

TEST_CASE("-j auto settles when the files left are too few for more pairs") {
    ConcurrencySettings settings;
    Clock::time_point now{};
    ConcurrencyController controller(settings, now);
    controller.pairs_open(4, now);
    controller.items_left(100);  // 4 pairs: 25 files each already
    for (int i = 0; i < 6; ++i) {
        now += 50ms;
        controller.completed(10);
        controller.tick(now);
    }
    CHECK(controller.target() == 4);
    CHECK(controller.phase() == ConcurrencyController::Phase::settled);
    CHECK(controller.reason().find("too few for more pairs") != std::string::npos);
    // The bound never takes pairs away: fewer files than pairs leaves the count alone.
    ConcurrencyController few(settings, now);
    few.items_left(0);
    few.pairs_open(4, now);
    for (int i = 0; i < 6; ++i) {
        now += 50ms;
        few.completed(10);
        few.tick(now);
    }
    CHECK(few.target() == 4);
}
