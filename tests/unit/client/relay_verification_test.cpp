#include <doctest/doctest.h>

#include <string>

#include "client/relay_verification.hpp"

using namespace rsexec;

namespace {

// FEAT lines as "NAME" or "NAME parameters".
Features with(std::initializer_list<std::string> lines) {
    Features features;
    for (const std::string& line : lines) {
        const auto space = line.find(' ');
        if (space == std::string::npos) features.add(line);
        else features.add(line.substr(0, space), line.substr(space + 1));
    }
    return features;
}

} // namespace

TEST_CASE("a relayed stream's SHA-256 is compared with every server that offers one") {
    SUBCASE("both offer one: both are asked, nothing is read back") {
        const auto plan = plan_stream_check(with({"HASH SHA-256*;SHA-1"}), with({"XSHA256"}));
        REQUIRE(plan.source);
        CHECK(plan.source->verb == "HASH");
        REQUIRE(plan.destination);
        CHECK(plan.destination->verb == "XSHA256");
        CHECK_FALSE(plan.read_back);
    }
    SUBCASE("only the source offers one") {
        const auto plan = plan_stream_check(with({"XSHA256"}), with({"SIZE"}));
        CHECK(plan.source);
        CHECK_FALSE(plan.destination);
        CHECK_FALSE(plan.read_back);
    }
    SUBCASE("only the destination offers one") {
        const auto plan = plan_stream_check(with({"EPSV"}), with({"HASH SHA-256"}));
        CHECK_FALSE(plan.source);
        CHECK(plan.destination);
        CHECK_FALSE(plan.read_back);
    }
}

TEST_CASE("a server offering no SHA-256 (only MD5, CRC or nothing) is not asked; with neither, the copy is read back") {
    const auto plan = plan_stream_check(with({"XMD5", "XCRC"}), with({"HASH SHA-1;MD5"}));
    CHECK_FALSE(plan.source);
    CHECK_FALSE(plan.destination);
    CHECK(plan.read_back);
    CHECK(plan_stream_check(Features{}, Features{}).read_back);
}
