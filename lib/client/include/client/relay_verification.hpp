#pragma once
// `--verify checksum` for a copy relayed through rsexec: the SHA-256 rsexec computed on the
// stream it relayed is compared with what the servers say of their own files, so a source that
// sent other bytes than it holds, or a destination that stored other bytes than it was sent,
// fails the copy (Errc::verification_failed, exit 9) before the rename:
//   - the source's SHA-256 of the file (HASH SHA-256 or XSHA256), when it offers one;
//   - the destination's SHA-256 of the copy, when it offers one;
//   - neither offers one: the copy is read back from the destination through rsexec (one more
//     download, its bytes hashed and dropped), which at least proves what the destination holds.
// plan_stream_check is the pure choice; check_relayed_stream asks the servers.
#include <cstdint>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/checksum.hpp"

namespace rsexec {

struct StreamCheckPlan {
    std::optional<ChecksumCommand> source;       // asks the source for the file's SHA-256
    std::optional<ChecksumCommand> destination;  // asks the destination for the copy's SHA-256
    bool read_back = false;                      // neither offers one: the copy is downloaded and hashed
};
StreamCheckPlan plan_stream_check(const Features& source, const Features& destination);

struct RelayedCopy {
    std::string source_path;
    std::string copy_path;      // where the destination holds the copy now (its temporary name)
    std::string stream_sha256;  // lower-case hex, as the pump computed it
    std::uint64_t size = 0;     // the file's size, for the servers' hashing time
};

struct StreamCheckSettings {
    bool trust_announced_address = false;  // for the read-back's passive data connection
    bool allow_clear_data = false;
    Clock::duration stall_limit = std::chrono::seconds(30);
};

// What was verified, for the notice ("SHA-256 of the relayed stream matches src's and dst's:
// <hex>"), or the mismatch / the failure to ask as Errc::verification_failed.
asio::awaitable<Expected<std::string>> check_relayed_stream(ControlSession& source, ControlSession& destination,
                                                            const RelayedCopy& copy,
                                                            const StreamCheckSettings& settings);

} // namespace rsexec
