#pragma once
// The paired transfer: RETR on the source and STOR/APPE on the destination run together while
// the data flows server to server. By default the destination writes under a temporary name
// and renames only when both servers report success and the copy is verified (sizes, or the
// servers' own checksums), so a final name never holds half a file or a wrong one. With resume,
// a temporary file an earlier attempt left is continued (REST on the source, APPE on the
// destination) and a failed attempt leaves its temporary file for the next one.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "client/interruption.hpp"
#include "client/pairing.hpp"
#include "client/relay_plan.hpp"
#include "client/stall_watch.hpp"
#include "ftp/overwrite.hpp"

namespace rsexec {

enum class WriteMode {
    temporary_then_rename, // STOR to a temporary name, RNFR/RNTO after success (default)
    in_place,              // STOR straight to the final name
    append,                // APPE to the final name, as RFC 438's example does
};

struct CopyRequest {
    std::string source_path;
    std::string destination_path;
    WriteMode mode = WriteMode::temporary_then_rename;
    // The source's size as its SIZE answered a moment ago on this session (a batch's pipeline
    // that handed the file back): not asked again.
    std::optional<std::uint64_t> source_size;
};

// How a finished copy is checked before it gets its final name.
enum class Verify {
    none,
    size,                  // SIZE on both servers (the default)
    checksum,              // and the servers' own digests (checksum.hpp); fails when they share none
    checksum_if_available, // the same, but only a warning when they share none
};
const char* verify_name(Verify verify) noexcept;
std::optional<Verify> parse_verify(std::string_view name);

struct CopyOptions {
    std::optional<Dialect> dialect;          // nullopt: choose from FEAT ("auto")
    Side passive = Side::destination;        // the side asked to listen first
    PairingOptions pairing;
    Verify verify = Verify::size;
    // Continue a partial temporary file (0 < its size < the source's) instead of starting over,
    // and keep the temporary file when this attempt fails. Only for temporary_then_rename.
    bool resume = false;
    // What to do with a destination that already exists (ftp/overwrite.hpp): asked of the servers
    // before anything is created; a copy the policy skips moves nothing and succeeds.
    Overwrite overwrite = Overwrite::always;
    // Told about every fallback (a refused pairing, swapped roles), for -v and JSON events.
    std::function<void(const std::string&)> notice;
    // Told what must be said even without -v: a copy that could not be verified as asked.
    std::function<void(const std::string&)> warning;
    // Told the copy's size whenever the stall watch sees it grow (transfers longer than one
    // poll interval): live progress without a byte passing through rsexec.
    std::function<void(std::uint64_t bytes)> progress;
    // Told once the transfer commands are about to go out (again after a refused pairing): the
    // source's size when known, and the offset a resumed transfer starts at.
    std::function<void(std::optional<std::uint64_t> total, std::uint64_t resumed_from)> started;
    // The stall watch's second connection to the destination, counted by whoever caps them.
    SpareSlot spare_slot;
    // A signal's request to stop: both transfers are aborted, the temporary file deleted (kept
    // with resume) and the copy ends with Errc::interrupted. Not owned; may be null.
    Interruption* interruption = nullptr;
    // Give the copy the source's modification time once it has its final name: MDTM on the
    // source before the transfer, MFMT on the destination after the rename, where the
    // destination's FEAT lists MFMT (client/file_times.hpp). Not for appends. Never fails the
    // copy: a time not kept is told to `times_not_kept` when it holds for a whole server (one
    // sentence per server, to be said once), to `notice` when it concerns one file.
    bool preserve_times = false;
    std::function<void(const std::string&)> times_not_kept;
    // Whether the copy may go through rsexec when the servers will not pair (relay_plan.hpp).
    RelayMode relay = RelayMode::automatic;
    // Told when a copy is relayed because the servers refused every pairing, or because the data
    // between them cannot be protected (one has TLS, the other not), with the two servers
    // ("host:port -> host:port") and why: said once per pair, even without -v.
    std::function<void(const std::string& servers, const std::string& why)> relaying;
    // Whether those servers already refused every pairing (or protection) in this run: their
    // next copies are relayed at once (auto only).
    std::function<bool(const std::string& servers)> known_refusing;
};

struct CopyResult {
    std::optional<std::uint64_t> bytes;      // bytes this transfer moved (the destination's SIZE
                                             // afterwards, less what was there before)
    std::uint64_t resumed_from = 0;          // the offset a resumed transfer started at
    std::optional<std::string> checksum;     // "SHA-256 <hex>" when both servers' digests agreed
    Clock::duration elapsed{};
    Dialect dialect = Dialect::pasv;
    Side listener = Side::destination;
    bool found_complete = false;             // an earlier claim's copy was there: nothing moved
    std::optional<SkipReason> skipped;       // the overwrite policy kept the destination: nothing moved
    bool relayed = false;                    // the bytes went through rsexec (relay.hpp)
};

// The temporary name a file is written under until it is complete: "dir/.name.rsexec-part".
std::string temporary_path(const std::string& final_path);

asio::awaitable<Expected<CopyResult>> copy_file(ControlSession& source, ControlSession& destination,
                                                const CopyRequest& request, const CopyOptions& options);

} // namespace rsexec
