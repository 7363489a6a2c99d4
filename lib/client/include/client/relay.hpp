#pragma once
// The relay: one file copied through rsexec when the servers will not connect to each other.
// rsexec opens a passive data connection to each server (data_connection.hpp), sends RETR to
// the source (after REST when resuming) and STOR or APPE to the destination, and pumps the bytes
// from one connection to the other (byte_pump.hpp) with bounded memory. What happens before and
// after (sizes, checksums, the temporary name and its rename) is copy_file's, as for a direct
// copy; relay_plan.hpp says when a copy is relayed.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "client/interruption.hpp"
#include "client/relay_plan.hpp"

namespace rsexec {

struct RelayRequest {
    std::string source_path;
    std::string target;         // the name written on the destination (temporary or final)
    std::uint64_t offset = 0;   // REST on the source, APPE on the destination
    bool append = false;        // APPE even from offset 0 (--append)
    bool digest = false;        // hash the stream (relay_plan.hpp: needs_stream_digest)
};

struct RelaySettings {
    bool trust_announced_address = false;
    bool allow_clear_data = false;
    Clock::duration stall_limit = std::chrono::seconds(30);
    std::function<void(const std::string&)> notice;
    std::function<void(std::uint64_t)> progress;  // bytes so far
    Interruption* interruption = nullptr;          // not owned; may be null
};

struct RelayOutcome {
    std::uint64_t bytes = 0;       // bytes that crossed rsexec
    std::uint64_t offset = 0;      // where the source was read from (0 when REST was refused)
    std::optional<std::string> sha256;  // of the stream, when asked
    PumpKind pump = PumpKind::buffered;
};

// "host:port -> host:port": the two servers as the relay's notice and memory name them.
std::string relay_pair_name(const ControlSession& source, const ControlSession& destination);

// Ends with both servers' 2yz, or with both transfers aborted and the error.
asio::awaitable<Expected<RelayOutcome>> relay_file(ControlSession& source, ControlSession& destination,
                                                   const RelayRequest& request, const RelaySettings& settings);

} // namespace rsexec
