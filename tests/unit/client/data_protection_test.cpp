#include <doctest/doctest.h>

#include "client/data_protection.hpp"
#include "ftp/exit_code.hpp"
#include "client/tls.hpp"

using namespace rsexec;

namespace {

Features with(std::initializer_list<const char*> names) {
    Features features;
    for (const char* name : names) features.add(name);
    return features;
}

struct Case {
    Features source, destination;
    bool source_protected = true, destination_protected = true, allow_clear = false;

    Expected<DataProtection> plan(Dialect dialect, Side listener) const {
        ProtectionInputs inputs{source_protected, destination_protected, &source, &destination, allow_clear};
        return plan_data_protection(inputs, PairingAttempt{dialect, listener});
    }
};

} // namespace

TEST_CASE("without TLS on either server nothing is protected or sent") {
    Case c{with({"SSCN"}), with({"SSCN"}), false, false};
    auto plan = c.plan(Dialect::pasv, Side::destination);
    REQUIRE(plan);
    CHECK(plan->level == 'C');
    CHECK_FALSE(plan->sscn);
    CHECK_FALSE(plan->cpsv);
}

TEST_CASE("SSCN makes the connector the TLS client when it offers it, else the listener") {
    Case both{with({"SSCN"}), with({"SSCN"})};
    auto plan = both.plan(Dialect::epsv, Side::destination);
    REQUIRE(plan);
    CHECK(plan->level == 'P');
    CHECK(plan->sscn == Side::source);  // the source connects (EPRT)

    Case listener_only{with({}), with({"SSCN"})};
    plan = listener_only.plan(Dialect::pasv, Side::destination);
    REQUIRE(plan);
    CHECK(plan->sscn == Side::destination);
    CHECK_FALSE(plan->cpsv);
}

TEST_CASE("CPSV serves only a PASV listener; offered by the connector, this attempt is refused") {
    Case c{with({"CPSV"}), with({})};
    auto listening = c.plan(Dialect::pasv, Side::source);
    REQUIRE(listening);
    CHECK(listening->cpsv);
    CHECK_FALSE(listening->sscn);

    auto connecting = c.plan(Dialect::pasv, Side::destination);
    REQUIRE_FALSE(connecting);
    CHECK(connecting.error().is(Errc::pairing_refused));  // the swapped attempt may work

    auto extended = c.plan(Dialect::epsv, Side::source);
    REQUIRE_FALSE(extended);
    CHECK(extended.error().is(Errc::pairing_refused));
}

TEST_CASE("RFC 438 pairs need no SSCN: the listener is the TLS server, the connector the client") {
    Case c{with({"LSTN", "SSCN"}), with({"LSTN", "SSCN"})};
    auto plan = c.plan(Dialect::rfc438, Side::destination);
    REQUIRE(plan);
    CHECK(plan->level == 'P');
    CHECK_FALSE(plan->sscn);
}

TEST_CASE("neither SSCN nor CPSV: a TLS error (exit 13), or clear data only when allowed") {
    Case c{with({"AUTH TLS"}), with({"AUTH TLS"})};
    auto plan = c.plan(Dialect::pasv, Side::destination);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().is(Errc::tls_failed));
    CHECK(exit_code_for(plan.error()) == ExitCode::tls);
    CHECK(plan.error().message.find("--allow-clear-data") != std::string::npos);

    c.allow_clear = true;
    plan = c.plan(Dialect::pasv, Side::destination);
    REQUIRE(plan);
    CHECK(plan->level == 'C');
}

TEST_CASE("TLS on one server only cannot protect the data between them") {
    Case c{with({"SSCN"}), with({"SSCN"}), true, false};
    auto plan = c.plan(Dialect::pasv, Side::destination);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().is(Errc::tls_failed));
    CHECK(plan.error().message.find("dst has no TLS") != std::string::npos);
    c.allow_clear = true;
    plan = c.plan(Dialect::pasv, Side::destination);
    REQUIRE(plan);
    CHECK(plan->level == 'C');
}

TEST_CASE("--tls takes required, optional or off") {
    CHECK(parse_tls_mode("required") == TlsMode::required);
    CHECK(parse_tls_mode("optional") == TlsMode::optional);
    CHECK(parse_tls_mode("off") == TlsMode::off);
    CHECK_FALSE(parse_tls_mode("yes"));
}

TEST_CASE("a CA file that cannot be read is a clear error") {
    auto context = make_tls_context("/nonexistent/ca.pem", false);
    REQUIRE_FALSE(context);
    CHECK(context.error().is(Errc::tls_failed));
    CHECK(context.error().message.find("/nonexistent/ca.pem") != std::string::npos);
}
