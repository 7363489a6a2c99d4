#pragma once
// The relay's decisions, apart from any socket: when a copy goes through rsexec rather than
// straight between the servers, and how its bytes are moved there.
//   auto   - pair the servers; relay only when they refuse every way to pair (FXP off)
//   never  - pair the servers or fail (exit 7), as before the relay existed
//   always - never ask the servers to connect to each other
// The relayed bytes cross rsexec on two passive data connections, one per server. Without TLS
// on either and without a digest to compute, splice(2) moves them through a pipe in the kernel;
// otherwise a bounded buffer in user space does.
#include <cstdint>
#include <optional>
#include <string_view>

namespace rsexec {

enum class RelayMode { automatic, never, always };

// "auto", "never", "always": the names --relay and the job file's "relay" field take.
const char* relay_mode_name(RelayMode mode) noexcept;
std::optional<RelayMode> parse_relay_mode(std::string_view name);

// Whether the servers are asked to connect to each other at all.
inline bool tries_pairing(RelayMode mode) noexcept { return mode != RelayMode::always; }
// Whether a copy whose every pairing was refused is relayed instead of failing.
inline bool relays_after_refusal(RelayMode mode) noexcept { return mode == RelayMode::automatic; }

enum class PumpKind {
    splice,   // socket -> pipe -> socket (or file) in the kernel: the bytes never enter user space
    buffered, // read into one bounded buffer, write it out: TLS, or a digest of the stream
};

struct PumpInputs {
    bool source_tls = false;       // the download's data connection is under TLS
    bool destination_tls = false;  // the upload's data connection is under TLS
    bool digest = false;           // rsexec hashes the stream itself (--verify checksum, no server digest)
    bool splice_available = true;  // the platform has splice(2)
};
PumpKind choose_pump(const PumpInputs& inputs) noexcept;

// The memory one relayed transfer may hold at once: the user-space buffer, or the pipe's size.
constexpr std::size_t relay_buffer_bytes = 1u << 20;

} // namespace rsexec
