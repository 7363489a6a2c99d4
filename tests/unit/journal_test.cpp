#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include <unistd.h>

#include "rsexec/journal.hpp"

using namespace rsexec;

namespace {
struct TempJournalPath {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
        ("rsexec-journal-test-" + std::to_string(::getpid()) + ".sqlite");
    ~TempJournalPath() {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
    }
};
} // namespace

TEST_CASE("a journal remembers item states across reopening") {
    TempJournalPath file;
    {
        auto journal = Journal::open(file.path);
        REQUIRE(journal);
        CHECK(*journal->enroll("a") == ItemState::pending);
        CHECK(*journal->enroll("b") == ItemState::pending);
        REQUIRE(journal->mark_running("a"));
        REQUIRE(journal->mark_done("a", 42));
        REQUIRE(journal->mark_running("b"));
        REQUIRE(journal->mark_failed("b", "src: RETR b: 550 No such file"));
    }
    auto journal = Journal::open(file.path);
    REQUIRE(journal);
    CHECK(*journal->enroll("a") == ItemState::done);
    CHECK(*journal->enroll("b") == ItemState::failed);
    CHECK(*journal->attempts("b") == 1);
    const auto counts = journal->counts();
    REQUIRE(counts);
    CHECK(counts->done == 1);
    CHECK(counts->failed == 1);
}

TEST_CASE("a journal that is not a database is a clear error") {
    TempJournalPath file;
    { std::FILE* f = std::fopen(file.path.c_str(), "w"); std::fputs("not sqlite at all, just text\n", f); std::fclose(f); }
    const auto journal = Journal::open(file.path);
    REQUIRE_FALSE(journal);
    CHECK(journal.error().message.find("journal") != std::string::npos);
}
