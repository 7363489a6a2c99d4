#include <doctest/doctest.h>

#include <limits>

#include "client/human_units.hpp"
#include "client/progress_line.hpp"
#include "client/progress_meter.hpp"
#include "client/progress_pace.hpp"

using namespace rsexec;
using namespace std::chrono_literals;

TEST_CASE("sizes are written in IEC binary units with one decimal") {
    const struct {
        std::uint64_t bytes;
        const char* text;
    } table[] = {
        {0, "0 B"},
        {1, "1 B"},
        {1023, "1023 B"},
        {1024, "1.0 KiB"},
        {1536, "1.5 KiB"},
        {1024 * 1024 - 1, "1.0 MiB"},  // 1023.999 KiB rounds up: never "1024.0 KiB"
        {10 * 1024 * 1024 + 300 * 1024, "10.3 MiB"},
        {2ull << 30, "2.0 GiB"},
        {5ull << 40, "5.0 TiB"},
        {3ull << 50, "3.0 PiB"},
        {std::numeric_limits<std::uint64_t>::max(), "16.0 EiB"},
    };
    for (const auto& row : table) {
        CAPTURE(row.bytes);
        CHECK(iec_bytes(row.bytes) == row.text);
    }
}

TEST_CASE("rates are sizes per second; no rate reads as zero") {
    CHECK(iec_rate(0) == "0 B/s");
    CHECK(iec_rate(-5) == "0 B/s");
    CHECK(iec_rate(std::numeric_limits<double>::quiet_NaN()) == "0 B/s");
    CHECK(iec_rate(std::numeric_limits<double>::infinity()) == "0 B/s");
    CHECK(iec_rate(512) == "512 B/s");
    CHECK(iec_rate(110.5 * 1024 * 1024) == "110.5 MiB/s");
}

TEST_CASE("durations are short: seconds, minutes and seconds, hours and minutes") {
    CHECK(short_duration(0) == "0s");
    CHECK(short_duration(0.4) == "0s");
    CHECK(short_duration(42) == "42s");
    CHECK(short_duration(59.6) == "1m00s");
    CHECK(short_duration(125) == "2m05s");
    CHECK(short_duration(3600 + 2 * 60 + 3) == "1h02m");
    CHECK(short_duration(100000) == "27h46m");
    CHECK(short_duration(-1) == "--");
    CHECK(short_duration(std::numeric_limits<double>::infinity()) == "--");
}

TEST_CASE("a transfer's rate is measured over its recent samples and gives the time left") {
    const auto t0 = Clock::time_point{} + 100s;
    ProgressMeter meter(10u << 20, 0, t0);
    SUBCASE("nothing measured yet: no rate, no time left") {
        const auto at = meter.at(t0);
        CHECK(at.bytes == 0);
        CHECK(at.rate == 0);
        CHECK_FALSE(at.eta);
        CHECK(at.percent() == doctest::Approx(0));
    }
    SUBCASE("1 MiB a second") {
        for (int s = 1; s <= 3; ++s) meter.record(static_cast<std::uint64_t>(s) << 20, t0 + std::chrono::seconds(s));
        const auto at = meter.at(t0 + 3s);
        CHECK(at.bytes == 3u << 20);
        CHECK(at.rate == doctest::Approx(1 << 20));
        REQUIRE(at.eta);
        CHECK(*at.eta == doctest::Approx(7));
        CHECK(*at.percent() == doctest::Approx(30));
        CHECK(transfer_line(at) == "3.0 MiB / 10.0 MiB  30%  1.0 MiB/s  ETA 7s");
    }
    SUBCASE("the rate follows the last seconds, not the whole transfer") {
        for (int s = 1; s <= 10; ++s) meter.record(static_cast<std::uint64_t>(s) * 100 * 1024, t0 + std::chrono::seconds(s));
        for (int s = 11; s <= 20; ++s)
            meter.record(1000 * 1024 + static_cast<std::uint64_t>(s - 10) * 400 * 1024, t0 + std::chrono::seconds(s));
        CHECK(meter.at(t0 + 20s).rate == doctest::Approx(400 * 1024));
    }
    SUBCASE("a copy that stops growing shows its rate falling") {
        meter.record(1u << 20, t0 + 1s);
        const double moving = meter.at(t0 + 1s).rate;
        meter.record(1u << 20, t0 + 2s);  // the same size a second later
        CHECK(meter.at(t0 + 2s).rate < moving);
        CHECK(meter.at(t0 + 30s).rate < meter.at(t0 + 2s).rate);
    }
    SUBCASE("a size never goes back") {
        meter.record(2u << 20, t0 + 1s);
        meter.record(1u << 20, t0 + 2s);
        CHECK(meter.at(t0 + 2s).bytes == 2u << 20);
    }
    SUBCASE("complete: no time left") {
        meter.record(10u << 20, t0 + 2s);
        REQUIRE(meter.at(t0 + 2s).eta);
        CHECK(*meter.at(t0 + 2s).eta == 0);
        CHECK(*meter.at(t0 + 2s).percent() == doctest::Approx(100));
    }
}

TEST_CASE("a resumed transfer's rate counts only what moved since it resumed") {
    const auto t0 = Clock::time_point{} + 100s;
    ProgressMeter meter(4u << 20, 3u << 20, t0);
    meter.record((3u << 20) + (512 << 10), t0 + 1s);
    const auto at = meter.at(t0 + 1s);
    CHECK(at.resumed_from == 3u << 20);
    CHECK(at.rate == doctest::Approx(512 << 10));
    CHECK(*at.eta == doctest::Approx(1));
}

TEST_CASE("without a total: no percent and no time left on the line") {
    const auto t0 = Clock::time_point{} + 100s;
    ProgressMeter meter(std::nullopt, 0, t0);
    meter.record(2048, t0 + 1s);
    const auto at = meter.at(t0 + 1s);
    CHECK_FALSE(at.percent());
    CHECK_FALSE(at.eta);
    CHECK(transfer_line(at) == "2.0 KiB  2.0 KiB/s  ETA --");
    TransferProgress empty{0, 0};
    CHECK(*empty.percent() == doctest::Approx(100));
}

TEST_CASE("percent on the line is rounded down: 100% only when complete") {
    TransferProgress almost{999, 1000};
    CHECK(transfer_line(almost).find(" 99%") != std::string::npos);
}

TEST_CASE("the batch status line names files, bytes, rate, time left and the largest transfer") {
    BatchStatus status;
    status.files_done = 3;
    status.files_total = 10;
    status.bytes = 1288490189;  // 1.2 GiB
    status.bytes_total = 4ull << 30;
    status.bytes_total_estimated = true;
    status.rate = 110.5 * 1024 * 1024;
    status.eta = 25;
    status.current = BatchStatus::Current{"big.iso", 1ull << 30, 45.7};
    CHECK(batch_status_line(status) == "[3/10 files  1.2 GiB / ~4.0 GiB  110.5 MiB/s  ETA 25s]  big.iso 1.0 GiB 45%");
    status.bytes_total.reset();
    status.eta.reset();
    status.current.reset();
    CHECK(batch_status_line(status) == "[3/10 files  1.2 GiB  110.5 MiB/s  ETA --]");
}

TEST_CASE("a status line is cut to the terminal's width, never inside a UTF-8 character") {
    CHECK(fit_to_width("abcdef", 0) == "abcdef");
    CHECK(fit_to_width("abcdef", 80) == "abcdef");
    CHECK(fit_to_width("abcdef", 4) == "abc");
    CHECK(fit_to_width("ab\xC3\xA9z", 4) == "ab");  // "abé" would need 4 bytes; the é is not split
}

TEST_CASE("the line is redrawn at most 10 times a second and is due again after a second") {
    ProgressPace pace;
    const auto t0 = Clock::time_point{} + 100s;
    CHECK(pace.overdue(t0));
    CHECK(pace.draw_now(t0));
    CHECK_FALSE(pace.draw_now(t0 + 50ms));
    CHECK_FALSE(pace.draw_now(t0 + 99ms));
    CHECK(pace.draw_now(t0 + 100ms));
    int drawn = 0;
    for (auto t = t0 + 101ms; t < t0 + 1100ms; t += 1ms) drawn += pace.draw_now(t);
    CHECK(drawn <= 10);
    CHECK_FALSE(pace.overdue(t0 + 1100ms));
    CHECK(pace.overdue(t0 + 3s));
    // A ticker looking every `tick` finds it overdue in time to redraw within a second.
    CHECK(pace.draw_now(t0 + 3s));
    CHECK_FALSE(pace.overdue(t0 + 3s + ProgressPace::longest - ProgressPace::tick - 1ms));
    CHECK(pace.overdue(t0 + 3s + ProgressPace::longest - ProgressPace::tick));
}
