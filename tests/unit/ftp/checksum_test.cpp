#include <doctest/doctest.h>

#include "ftp/checksum.hpp"

using namespace rsexec;

namespace {

Features with(std::initializer_list<std::pair<const char*, const char*>> lines) {
    Features features;
    for (const auto& [name, parameters] : lines) features.add(name, parameters);
    return features;
}

Reply reply(int code, std::string line) { return Reply{code, {std::to_string(code) + " " + line}}; }

const std::string sha256_hex = "6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19";
const std::string sha1_hex = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

} // namespace

TEST_CASE("the strongest algorithm both servers offer through HASH is chosen") {
    const auto plan = choose_checksum(with({{"HASH", "SHA-256*;SHA-1;MD5"}}), with({{"HASH", "SHA-1*;SHA-256"}}));
    REQUIRE(plan);
    CHECK(plan->algorithm == HashAlgorithm::sha256);
    CHECK(plan->source.verb == "HASH");
    CHECK(plan->destination.verb == "HASH");
    // Several on offer: selected every time, whatever the '*' said at login.
    CHECK(plan->source.select == "SHA-256");
    CHECK(plan->destination.select == "SHA-256");
}

TEST_CASE("a server offering one HASH algorithm is not sent OPTS HASH") {
    const auto plan = choose_checksum(with({{"HASH", "SHA-256*"}}), with({{"HASH", "SHA-256*"}}));
    REQUIRE(plan);
    CHECK_FALSE(plan->source.select);
    CHECK_FALSE(plan->destination.select);
}

TEST_CASE("HASH on one side and an X command on the other meet on their common algorithm") {
    SUBCASE("SHA-256") {
        const auto plan = choose_checksum(with({{"HASH", "SHA-256*"}, {"XSHA256", ""}}), with({{"XSHA256", ""}, {"XMD5", ""}}));
        REQUIRE(plan);
        CHECK(plan->algorithm == HashAlgorithm::sha256);
        CHECK(plan->source.verb == "HASH");
        CHECK(plan->destination.verb == "XSHA256");
    }
    SUBCASE("only MD5 in common") {
        const auto plan = choose_checksum(with({{"HASH", "SHA-512;MD5*"}}), with({{"XSHA1", ""}, {"XMD5", ""}}));
        REQUIRE(plan);
        CHECK(plan->algorithm == HashAlgorithm::md5);
        CHECK(plan->destination.verb == "XMD5");
        CHECK(plan->source.select == "MD5");
    }
    SUBCASE("XSHA is SHA-1, XCRC is CRC32") {
        auto plan = choose_checksum(with({{"XSHA", ""}}), with({{"HASH", "SHA-1"}}));
        REQUIRE(plan);
        CHECK(plan->algorithm == HashAlgorithm::sha1);
        CHECK(plan->source.verb == "XSHA");
        plan = choose_checksum(with({{"XCRC", ""}}), with({{"xcrc", ""}}));
        REQUIRE(plan);
        CHECK(plan->algorithm == HashAlgorithm::crc32);
    }
}

TEST_CASE("no algorithm in common means no plan, and the offers can be named") {
    CHECK_FALSE(choose_checksum(with({{"HASH", "SHA-256*"}}), with({{"XMD5", ""}})));
    CHECK_FALSE(choose_checksum(with({}), with({{"XSHA256", ""}})));
    CHECK_FALSE(choose_checksum(with({{"HASH", ""}}), with({{"HASH", ""}})));
    CHECK(offered_checksums(with({})) == "none");
    CHECK(offered_checksums(with({{"HASH", "SHA-256*;MD5"}, {"XCRC", ""}})) == "HASH SHA-256, MD5; XCRC");
}

TEST_CASE("a HASH reply yields its digest in lower case") {
    const ChecksumCommand hash{"HASH", std::nullopt};
    auto digest = parse_checksum_reply(reply(213, "SHA-256 0-1048576 " + sha256_hex + " dir/some file.bin"), hash,
                                       HashAlgorithm::sha256);
    REQUIRE(digest);
    CHECK(*digest == sha256_hex);
    std::string upper = sha1_hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    digest = parse_checksum_reply(reply(213, "sha-1 0-0 " + upper + " f"), hash, HashAlgorithm::sha1);
    REQUIRE(digest);
    CHECK(*digest == sha1_hex);
}

TEST_CASE("hostile or odd HASH replies are errors, not digests") {
    const ChecksumCommand hash{"HASH", std::nullopt};
    const struct {
        int code;
        std::string text;
    } cases[] = {
        {250, "SHA-256 0-10 " + sha256_hex + " f"},     // not 213
        {213, "SHA-1 0-10 " + sha256_hex + " f"},       // another algorithm
        {213, "SHA-256 5-10 " + sha256_hex + " f"},     // not the whole file
        {213, "SHA-256 0-10 " + sha256_hex.substr(1) + " f"},
        {213, "SHA-256 0-10 " + sha256_hex + "00 f"},
        {213, "SHA-256 0-10 " + std::string(64, 'g') + " f"},
        {213, "SHA-256"},
        {213, ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        const auto digest = parse_checksum_reply(reply(c.code, c.text), hash, HashAlgorithm::sha256);
        REQUIRE_FALSE(digest);
        CHECK(digest.error().is(Errc::malformed_reply));
    }
}

TEST_CASE("X command replies are read tolerantly: 250 or 213, the hex word anywhere") {
    const ChecksumCommand xsha{"XSHA256", std::nullopt};
    for (const std::string& text : {sha256_hex, sha256_hex + " file.bin", "SHA256 " + sha256_hex, "file.bin " + sha256_hex}) {
        for (int code : {250, 213}) {
            CAPTURE(text);
            const auto digest = parse_checksum_reply(reply(code, text), xsha, HashAlgorithm::sha256);
            REQUIRE(digest);
            CHECK(*digest == sha256_hex);
        }
    }
    const ChecksumCommand xcrc{"XCRC", std::nullopt};
    auto crc = parse_checksum_reply(reply(250, "5BF1F11A"), xcrc, HashAlgorithm::crc32);
    REQUIRE(crc);
    CHECK(*crc == "5bf1f11a");
    CHECK_FALSE(parse_checksum_reply(reply(550, sha256_hex), xsha, HashAlgorithm::sha256));
    CHECK_FALSE(parse_checksum_reply(reply(250, "OK"), xsha, HashAlgorithm::sha256));
    CHECK_FALSE(parse_checksum_reply(reply(250, sha1_hex), xsha, HashAlgorithm::sha256));
}
