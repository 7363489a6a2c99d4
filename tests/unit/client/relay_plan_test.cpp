#include <doctest/doctest.h>

#include <string>

#include "client/relay_plan.hpp"

using namespace rsexec;

TEST_CASE("relay modes are read and written by their command-line names") {
    for (auto mode : {RelayMode::automatic, RelayMode::never, RelayMode::always})
        CHECK(parse_relay_mode(relay_mode_name(mode)) == mode);
    CHECK(std::string(relay_mode_name(RelayMode::automatic)) == "auto");
    CHECK_FALSE(parse_relay_mode("automatic"));
    CHECK_FALSE(parse_relay_mode(""));
    CHECK_FALSE(parse_relay_mode("ALWAYS"));
}

TEST_CASE("only auto relays after the servers refuse every pairing; only always skips pairing") {
    CHECK(tries_pairing(RelayMode::automatic));
    CHECK(tries_pairing(RelayMode::never));
    CHECK_FALSE(tries_pairing(RelayMode::always));
    CHECK(relays_after_refusal(RelayMode::automatic));
    CHECK_FALSE(relays_after_refusal(RelayMode::never));
}

TEST_CASE("splice moves the bytes only when nothing needs to see them") {
    CHECK(choose_pump({false, false, false, true}) == PumpKind::splice);
    SUBCASE("TLS on either side needs user space") {
        CHECK(choose_pump({true, false, false, true}) == PumpKind::buffered);
        CHECK(choose_pump({false, true, false, true}) == PumpKind::buffered);
    }
    SUBCASE("a digest of the stream needs every byte") {
        CHECK(choose_pump({false, false, true, true}) == PumpKind::buffered);
    }
    SUBCASE("no splice(2) on the platform") {
        CHECK(choose_pump({false, false, false, false}) == PumpKind::buffered);
    }
}

TEST_CASE("a relayed transfer holds at most a few MiB") {
    CHECK(relay_buffer_bytes <= 4u << 20);
    CHECK(relay_buffer_bytes >= 64u << 10);
}
