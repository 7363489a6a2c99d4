#include <doctest/doctest.h>

#include "ftp/exit_code.hpp"
#include "client/pairing.hpp"
#include "client/transfer.hpp"
#include "client/url_copy.hpp"

using namespace rsexec;

namespace {
Features with(std::initializer_list<const char*> names) {
    Features features;
    for (const char* name : names) features.add(name);
    return features;
}
} // namespace

TEST_CASE("auto pairing prefers RFC 438 when both servers speak LSTN") {
    const auto plan = pairing_plan(with({"LSTN", "EPSV"}), with({"LSTN", "EPSV"}), Side::destination, std::nullopt, false);
    REQUIRE(plan.size() == 6);
    CHECK(plan[0].dialect == Dialect::rfc438);
    CHECK(plan[0].listener == Side::destination);
    CHECK(plan[1].dialect == Dialect::rfc438);
    CHECK(plan[1].listener == Side::source);
    CHECK(plan[2].dialect == Dialect::epsv);
    CHECK(plan[4].dialect == Dialect::pasv);
}

TEST_CASE("auto pairing falls back to PASV/PORT when one server lacks RFC 2428") {
    const auto plan = pairing_plan(with({"LSTN", "EPSV"}), with({"MDTM"}), Side::source, std::nullopt, false);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].dialect == Dialect::pasv);
    CHECK(plan[0].listener == Side::source);
    CHECK(plan[1].listener == Side::destination);
}

TEST_CASE("IPv6 servers are paired with EPSV/EPRT only") {
    const auto plan = pairing_plan(with({}), with({}), Side::destination, std::nullopt, true);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].dialect == Dialect::epsv);
}

TEST_CASE("a forced dialect is the only one tried, both ways round") {
    const auto plan = pairing_plan(with({}), with({}), Side::destination, Dialect::rfc438, false);
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].dialect == Dialect::rfc438);
    CHECK(plan[1].dialect == Dialect::rfc438);
}

TEST_CASE("dialect names round-trip") {
    for (auto d : {Dialect::rfc438, Dialect::pasv, Dialect::epsv}) CHECK(parse_dialect(dialect_name(d)) == d);
    CHECK_FALSE(parse_dialect("fxp"));
}

TEST_CASE("the temporary name sits beside the final one") {
    CHECK(temporary_path("dir/sub/file.bin") == "dir/sub/.file.bin.rsexec-part");
    CHECK(temporary_path("file") == ".file.rsexec-part");
    CHECK(temporary_path("/abs/f") == "/abs/.f.rsexec-part");
}

TEST_CASE("a destination directory URL keeps the source's file name") {
    const auto src = parse_ftp_url("ftp://a/dir/file.txt");
    CHECK(*destination_path(*src, *parse_ftp_url("ftp://b/in/")) == "in/file.txt");
    CHECK(*destination_path(*src, *parse_ftp_url("ftp://b/")) == "file.txt");
    CHECK(*destination_path(*src, *parse_ftp_url("ftp://b/other.txt")) == "other.txt");
    CHECK_FALSE(destination_path(*parse_ftp_url("ftp://a/dir/"), *parse_ftp_url("ftp://b/")));
}

TEST_CASE("every failure maps to its documented exit code") {
    CHECK(exit_code_for(Error(Errc::bad_url, "x")) == ExitCode::usage);
    CHECK(exit_code_for(Error(Errc::connect_failed, "x")) == ExitCode::connect);
    CHECK(exit_code_for(Error(Errc::login_failed, "x", Side::destination)) == ExitCode::login);
    CHECK(exit_code_for(Error(Errc::permanent_reply, "x", Side::source, 550)) == ExitCode::source);
    CHECK(exit_code_for(Error(Errc::permanent_reply, "x", Side::destination, 553)) == ExitCode::destination);
    CHECK(exit_code_for(Error(Errc::pairing_refused, "x")) == ExitCode::pairing_refused);
    CHECK(exit_code_for(Error(Errc::transfer_failed, "x", Side::source)) == ExitCode::transfer);
    CHECK(exit_code_for(Error(Errc::verification_failed, "x")) == ExitCode::verification);
    CHECK(exit_code_for(Error(Errc::timeout, "x")) == ExitCode::timeout);
}

TEST_CASE("errors name their side") {
    CHECK(Error(Errc::permanent_reply, "STOR x: 553 No", Side::destination).describe() == "dst: STOR x: 553 No");
    CHECK(Error(Errc::bad_url, "bad").describe() == "bad");
}
