#pragma once
// Checksums computed by the servers themselves, for `--verify checksum`: the client never sees
// the data of a server-to-server transfer, so it asks each server to hash its own copy and
// compares the digests. Two families exist in the field:
//   HASH (draft-bryan-ftpext-hash): FEAT " HASH SHA-256*;SHA-1;MD5" lists the algorithms, '*'
//     marking the selected one; "OPTS HASH SHA-1" selects another; "HASH path" answers
//     "213 SHA-1 0-1234 <hex> path".
//   The older X commands (XSHA512, XSHA256, XSHA1, XMD5, XCRC): "XSHA256 path" answers
//     "250 <hex>" on most servers, "213 <hex>" on some; the digest is the only hex word.
// This file holds the pure part: choosing what both servers can compute, and reading replies.
#include <optional>
#include <string>
#include <string_view>

#include "ftp/expected.hpp"
#include "ftp/features.hpp"
#include "ftp/reply.hpp"

namespace rsexec {

// Strongest first: the order in which an algorithm both servers offer is chosen.
enum class HashAlgorithm { sha512, sha256, sha1, md5, crc32 };

// The draft's names: "SHA-512", "SHA-256", "SHA-1", "MD5", "CRC32".
const char* hash_name(HashAlgorithm algorithm) noexcept;
// Hex digits in a digest: 128, 64, 40, 32, 8.
std::size_t hex_digits(HashAlgorithm algorithm) noexcept;

// How to ask one server for one algorithm's digest of a file.
struct ChecksumCommand {
    std::string verb;                  // "HASH", "XSHA256", ...
    std::optional<std::string> select; // for HASH on a server offering several: OPTS HASH <this>
};

struct ChecksumPlan {
    HashAlgorithm algorithm;
    ChecksumCommand source;
    ChecksumCommand destination;
};

// The command that makes this server compute `algorithm`, or nullopt when its FEAT offers none.
// HASH is preferred to the X commands: its reply names the algorithm and the range hashed.
std::optional<ChecksumCommand> checksum_command(const Features& features, HashAlgorithm algorithm);

// The strongest algorithm both servers offer, and the command each needs; nullopt when they
// have none in common.
std::optional<ChecksumPlan> choose_checksum(const Features& source, const Features& destination);

// What a server offers, for messages: "HASH SHA-256, SHA-1; XMD5", or "none".
std::string offered_checksums(const Features& features);

// The lower-case hex digest from a reply to `command`. HASH: "213 <alg> <start>-<end> <hex>
// <path>", where <alg> must be `algorithm` and <start> 0. X commands: 250 or 213 and one word of
// exactly hex_digits(algorithm) hex digits anywhere in the last line. Errc::malformed_reply
// otherwise; the caller turns a negative reply into a refusal before asking.
Expected<std::string> parse_checksum_reply(const Reply& reply, const ChecksumCommand& command,
                                           HashAlgorithm algorithm);

} // namespace rsexec
