#include <doctest/doctest.h>

#include "ftp/overwrite.hpp"

using namespace rsexec;

namespace {

using Action = OverwriteDecision::Action;

OverwriteFacts existing(std::optional<std::uint64_t> source_size, std::optional<std::uint64_t> destination_size,
                        std::optional<std::string> source_time = std::nullopt,
                        std::optional<std::string> destination_time = std::nullopt) {
    OverwriteFacts facts;
    facts.destination_exists = true;
    facts.source = {source_size, std::move(source_time), std::nullopt};
    facts.destination = {destination_size, std::move(destination_time), std::nullopt};
    return facts;
}

std::string outcome(const OverwriteDecision& decision) {
    switch (decision.action) {
    case Action::copy: return "copy";
    case Action::ask_digests: return "ask digests";
    case Action::skip: return std::string("skip ") + skip_reason_name(*decision.reason);
    }
    return "?";
}

} // namespace

TEST_CASE("a missing destination is copied whatever the policy") {
    for (auto policy : {Overwrite::always, Overwrite::never, Overwrite::if_different, Overwrite::newer,
                        Overwrite::different_or_newer}) {
        CAPTURE(overwrite_name(policy));
        OverwriteFacts facts;
        facts.source.size = 10;
        CHECK(outcome(decide_overwrite(policy, facts)) == "copy");
    }
}

TEST_CASE("always replaces and never keeps an existing destination") {
    const auto facts = existing(10, 10, "20260101000000", "20260101000000");
    CHECK(outcome(decide_overwrite(Overwrite::always, facts)) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::never, facts)) == "skip exists");
    CHECK(outcome(decide_overwrite(Overwrite::never, existing(std::nullopt, std::nullopt))) == "skip exists");
}

TEST_CASE("if-different skips equal sizes and copies other or unknown sizes") {
    CHECK(outcome(decide_overwrite(Overwrite::if_different, existing(10, 10))) == "skip same-size");
    CHECK(outcome(decide_overwrite(Overwrite::if_different, existing(10, 11))) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::if_different, existing(10, std::nullopt))) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::if_different, existing(std::nullopt, 10))) == "copy");
    // Times do not matter to it.
    CHECK(outcome(decide_overwrite(Overwrite::if_different, existing(10, 10, "20270101000000", "20260101000000"))) ==
          "skip same-size");
}

TEST_CASE("if-different with digests asks for them when the sizes agree, then compares them") {
    auto facts = existing(10, 10);
    facts.compare_digests = true;
    CHECK(outcome(decide_overwrite(Overwrite::if_different, facts)) == "ask digests");
    facts.digests_asked = true;
    SUBCASE("equal digests skip") {
        facts.source.digest = facts.destination.digest = "SHA-256 ab";
        CHECK(outcome(decide_overwrite(Overwrite::if_different, facts)) == "skip same-checksum");
    }
    SUBCASE("other digests copy") {
        facts.source.digest = "SHA-256 ab";
        facts.destination.digest = "SHA-256 cd";
        CHECK(outcome(decide_overwrite(Overwrite::if_different, facts)) == "copy");
    }
    SUBCASE("a digest that cannot be had copies") {
        facts.source.digest = "SHA-256 ab";
        CHECK(outcome(decide_overwrite(Overwrite::if_different, facts)) == "copy");
    }
    SUBCASE("other sizes copy without asking") {
        auto other = existing(10, 11);
        other.compare_digests = true;
        CHECK(outcome(decide_overwrite(Overwrite::if_different, other)) == "copy");
    }
}

TEST_CASE("newer copies only a source whose time is later, or when a time is unknown") {
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 2, "20260102000000", "20260101000000"))) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 2, "20260101000000", "20260101000000"))) ==
          "skip not-newer");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 2, "20250101000000", "20260101000000"))) ==
          "skip not-newer");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 2, std::nullopt, "20260101000000"))) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 2, "garbage", "20260101000000"))) == "copy");
    // Fractions of a second (RFC 3659 2.3) do not count: MFMT gives a copy whole seconds.
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 1, "20260101000000.5", "20260101000000"))) ==
          "skip not-newer");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 1, "20260101000001.5", "20260101000000"))) == "copy");
    CHECK(outcome(decide_overwrite(Overwrite::newer, existing(1, 1, "20260101000000.10", "20260101000000.1"))) ==
          "skip not-newer");
}

TEST_CASE("mirror's default copies other sizes or a newer source, else the file is up to date") {
    const auto policy = Overwrite::different_or_newer;
    CHECK(outcome(decide_overwrite(policy, existing(10, 10, "20260101000000", "20260105000000"))) == "skip up-to-date");
    CHECK(outcome(decide_overwrite(policy, existing(10, 10, "20260102000000", "20260101000000"))) == "copy");
    CHECK(outcome(decide_overwrite(policy, existing(10, 11, "20260101000000", "20260105000000"))) == "copy");
    // Times unknown: the sizes decide.
    CHECK(outcome(decide_overwrite(policy, existing(10, 10))) == "skip up-to-date");
}

TEST_CASE("time-vals compare as times, and anything else is not one") {
    CHECK(later_than("20260101000001", "20260101000000") == true);
    CHECK(later_than("20260101000000", "20260101000000") == false);
    CHECK(later_than("2026010100000x", "20260101000000") == std::nullopt);
    CHECK(later_than("", "20260101000000") == std::nullopt);
    CHECK(later_than("20260101000000.", "20260101000000") == std::nullopt);
}

TEST_CASE("time-vals compare at whole seconds: a fraction one end has is not newer") {
    // MFMT sets whole seconds (time_val.hpp): a source listed as .123 and its copy at the whole
    // second are the same time, or a mirror copies the file again on every run.
    CHECK(later_than("20261130120000.123", "20261130120000") == false);
    CHECK(later_than("20261130120000", "20261130120000.999") == false);
    CHECK(later_than("20261130120000.9", "20261130120000.1") == false);
    CHECK(later_than("20261130120001.000", "20261130120000.999") == true);
    CHECK(later_than("20261130120000", "20261130120001.5") == false);
    // Compared as times, not text: a leap second is 23:59:59 of its day, and not later than it.
    CHECK(later_than("20161231235960", "20161231235959") == false);
    CHECK(later_than("20170101000000", "20161231235960") == true);
    // Digits that are no time-val (month 13) cannot be told.
    CHECK(later_than("20261330120000", "20261130120000") == std::nullopt);
    OverwriteFacts facts;
    facts.destination_exists = true;
    facts.source = {10, "20261130120000.123", std::nullopt};
    facts.destination = {10, "20261130120000", std::nullopt};
    CHECK(outcome(decide_overwrite(Overwrite::different_or_newer, facts)) == "skip up-to-date");
    CHECK(outcome(decide_overwrite(Overwrite::newer, facts)) == "skip not-newer");
}

TEST_CASE("policy names parse back; mirror's own is named too") {
    for (auto policy : {Overwrite::always, Overwrite::never, Overwrite::if_different, Overwrite::newer,
                        Overwrite::different_or_newer})
        CHECK(parse_overwrite(overwrite_name(policy)) == policy);
    CHECK_FALSE(parse_overwrite("sometimes"));
    CHECK_FALSE(parse_overwrite(""));
}
