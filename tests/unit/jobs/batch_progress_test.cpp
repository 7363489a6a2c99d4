#include <doctest/doctest.h>

#include "jobs/batch_progress.hpp"

using namespace rsexec;
using namespace std::chrono_literals;

namespace {

JobItem item(const char* name) {
    auto source = parse_ftp_url(std::string("ftp://127.0.0.2:2121/") + name);
    auto destination = parse_ftp_url("ftp://127.0.0.3:2121/in/");
    REQUIRE(source);
    REQUIRE(destination);
    return JobItem{1, *source, *destination, false, std::nullopt, std::nullopt};
}

BatchEvent event(BatchEvent::Kind kind, std::size_t index, const JobItem& job) {
    BatchEvent e{};
    e.kind = kind;
    e.index = index;
    e.item = &job;
    return e;
}

BatchEvent progress(std::size_t index, const JobItem& job, std::uint64_t bytes, std::uint64_t total,
                    std::uint64_t resumed_from = 0) {
    auto e = event(BatchEvent::Kind::progress, index, job);
    e.bytes = bytes;
    e.progress = TransferProgress{bytes, total, resumed_from};
    return e;
}

BatchEvent done(std::size_t index, const JobItem& job, std::uint64_t bytes) {
    auto e = event(BatchEvent::Kind::done, index, job);
    CopyResult result;
    result.bytes = bytes;
    e.result = result;
    return e;
}

} // namespace

TEST_CASE("the bytes of a transfer under way count before it is done") {
    const auto t0 = Clock::time_point{} + 100s;
    const auto big = item("big.iso");
    BatchProgress batch(1, std::nullopt, t0);
    batch.on_event(event(BatchEvent::Kind::start, 0, big), t0);
    batch.on_event(progress(0, big, 512u << 20, 2ull << 30), t0 + 1s);
    batch.on_event(progress(0, big, 1ull << 30, 2ull << 30), t0 + 2s);
    const auto status = batch.status(t0 + 2s);
    CHECK(status.files_done == 0);
    CHECK(status.bytes == 1ull << 30);
    REQUIRE(status.bytes_total);
    CHECK(*status.bytes_total == 2ull << 30);
    CHECK_FALSE(status.bytes_total_estimated);
    CHECK(status.rate > 0);
    REQUIRE(status.eta);
    CHECK(*status.eta > 0);
    REQUIRE(status.current);
    CHECK(status.current->name == "big.iso");
    CHECK(*status.current->percent == doctest::Approx(50));
    CHECK(batch_status_line(status).find("1.0 GiB / 2.0 GiB") != std::string::npos);
}

TEST_CASE("finished files move their bytes from in flight to done, without counting them twice") {
    const auto t0 = Clock::time_point{} + 100s;
    const auto a = item("a.bin"), b = item("b.bin");
    BatchProgress batch(3, std::nullopt, t0);
    batch.on_event(event(BatchEvent::Kind::start, 0, a), t0);
    batch.on_event(progress(0, a, 600, 1000), t0 + 1s);
    batch.on_event(done(0, a, 1000), t0 + 2s);
    batch.on_event(event(BatchEvent::Kind::start, 1, b), t0 + 2s);
    batch.on_event(progress(1, b, 500, 3000), t0 + 3s);
    const auto status = batch.status(t0 + 3s);
    CHECK(status.files_done == 1);
    CHECK(status.bytes == 1500);
    // The third file is taken to be the average of the two seen: (1000 + 3000) / 2.
    REQUIRE(status.bytes_total);
    CHECK(*status.bytes_total == 6000);
    CHECK(status.bytes_total_estimated);
    CHECK(status.current->name == "b.bin");
}

TEST_CASE("a job's size given beforehand is the total; failed and skipped files count as done") {
    const auto t0 = Clock::time_point{} + 100s;
    const auto a = item("a.bin"), b = item("b.bin");
    BatchProgress batch(2, 5000, t0);
    batch.on_event(event(BatchEvent::Kind::skipped, 0, a), t0);
    batch.on_event(event(BatchEvent::Kind::start, 1, b), t0);
    auto failed = event(BatchEvent::Kind::failed, 1, b);
    failed.error = Error(Errc::permanent_reply, "550");
    batch.on_event(failed, t0 + 1s);
    const auto status = batch.status(t0 + 1s);
    CHECK(status.files_done == 2);
    CHECK(*status.bytes_total == 5000);
    CHECK_FALSE(status.current);
}

TEST_CASE("a resumed transfer counts what moved in this run") {
    const auto t0 = Clock::time_point{} + 100s;
    const auto a = item("a.bin");
    BatchProgress batch(1, std::nullopt, t0);
    batch.on_event(event(BatchEvent::Kind::start, 0, a), t0);
    batch.on_event(progress(0, a, 900, 1000, 800), t0 + 1s);
    const auto status = batch.status(t0 + 1s);
    CHECK(status.bytes == 100);
    CHECK(*status.current->percent == doctest::Approx(90));
}

TEST_CASE("a retried or interrupted transfer no longer counts as under way") {
    const auto t0 = Clock::time_point{} + 100s;
    const auto a = item("a.bin");
    BatchProgress batch(1, std::nullopt, t0);
    batch.on_event(event(BatchEvent::Kind::start, 0, a), t0);
    batch.on_event(progress(0, a, 500, 1000), t0 + 1s);
    batch.on_event(event(BatchEvent::Kind::retry, 0, a), t0 + 2s);
    CHECK(batch.status(t0 + 2s).bytes == 0);
    CHECK_FALSE(batch.status(t0 + 2s).current);
}
