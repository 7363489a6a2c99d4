#pragma once
// Overwrite policies: what a copy does when its destination already exists. The decision is a
// pure function of what the two servers said about the two files (SIZE, MDTM or a listing's
// facts, digests), so that copy, batch and mirror decide alike and it is tested without a network.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsexec {

enum class Overwrite {
    always,             // replace it (copy's and batch's default)
    never,              // keep it
    if_different,       // keep it when the sizes (and, asked for, the digests) are the same
    newer,              // replace it only when the source's modification time is later
    different_or_newer, // mirror's default: replace it when the sizes differ or the source is newer
};
// "always", "never", "if-different", "newer", "if-different-or-newer".
const char* overwrite_name(Overwrite policy) noexcept;
std::optional<Overwrite> parse_overwrite(std::string_view name);

// Why a copy was not made: the value of the `skipped` field in JSON events.
enum class SkipReason {
    exists,         // never
    same_size,      // if-different, sizes compared
    same_checksum,  // if-different, sizes and digests compared
    not_newer,      // newer
    up_to_date,     // if-different-or-newer: same size and not newer
};
// "exists", "same-size", "same-checksum", "not-newer", "up-to-date".
const char* skip_reason_name(SkipReason reason) noexcept;
// The same for people: "the destination exists", "the destination is not older", ...
const char* skip_explanation(SkipReason reason) noexcept;

// What is known of one file; nullopt where its server could not tell.
struct FileFacts {
    std::optional<std::uint64_t> size;
    std::optional<std::string> modify;  // RFC 3659 2.3 time-val: YYYYMMDDHHMMSS[.sss], UTC
    std::optional<std::string> digest;  // "SHA-256 <hex>"-like, comparable between the two servers
};

struct OverwriteFacts {
    bool destination_exists = false;
    FileFacts source, destination;
    // if-different also compares the digests (--verify checksum) ...
    bool compare_digests = false;
    // ... and they were asked for: a digest still missing then cannot be had.
    bool digests_asked = false;
};

struct OverwriteDecision {
    enum class Action { copy, skip, ask_digests };
    Action action = Action::copy;
    std::optional<SkipReason> reason;  // with skip

    bool copies() const noexcept { return action == Action::copy; }
    bool skips() const noexcept { return action == Action::skip; }
};

// Copy, skip (with the reason), or ask for the digests first (if-different with compare_digests
// and equal sizes). What cannot be told (a missing size or time, a digest a server cannot
// compute) never makes a copy skip: the copy is made.
OverwriteDecision decide_overwrite(Overwrite policy, const OverwriteFacts& facts);

// Whether time-val `a` is later than `b`, to the whole second; nullopt when either is not one
// (RFC 3659 2.3). A fraction is not compared: MFMT gives a copy whole seconds (time_val.hpp), so a
// source listed as 20261130120000.123 and its copy at 20261130120000 are the same time.
std::optional<bool> later_than(std::string_view a, std::string_view b);

} // namespace rsexec
