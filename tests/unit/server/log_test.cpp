#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <thread>

#include "server/log.hpp"

using namespace rsexec::server;

namespace {
std::string contents(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    char buffer[4096];
    while (const auto n = std::fread(buffer, 1, sizeof buffer, file)) out.append(buffer, n);
    return out;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}
} // namespace

TEST_CASE("a warning repeated word for word is written once, then counted") {
    std::FILE* sink = std::tmpfile();
    REQUIRE(sink);
    {
        Logger log(LogLevel::info, sink);
        for (int i = 0; i < 10000; ++i) log.warning("accept failed: {}", "Too many open files");
        log.warning("another warning");
        log.info("an info line");
        log.info("an info line"); // info lines are per command and never folded
    }
    const auto text = contents(sink);
    CHECK(count(text, "accept failed: Too many open files\n") == 1);
    CHECK(count(text, "accept failed: Too many open files (repeated 9999 times)\n") == 1);
    CHECK(count(text, "another warning\n") == 1);
    CHECK(count(text, "an info line\n") == 2);
    CHECK(text.size() < 300);
    std::fclose(sink);
}

TEST_CASE("a flood of repeats yields one summary line per second at most") {
    std::FILE* sink = std::tmpfile();
    REQUIRE(sink);
    {
        Logger log(LogLevel::info, sink);
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2300);
        while (std::chrono::steady_clock::now() < end) {
            log.warning("refused connections: 3 sessions open (--max-sessions)");
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    const auto text = contents(sink);
    const auto summaries = count(text, "(repeated ");
    CHECK(summaries >= 2);
    CHECK(summaries <= 4);
    std::fclose(sink);
}
