#pragma once
// The paired transfer: RETR on the source and STOR/APPE on the destination run together while
// the data flows server to server. By default the destination writes under a temporary name
// and renames only when both servers report success and the sizes agree, so a final name never
// holds half a file.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "rsexec/control_session.hpp"
#include "rsexec/pairing.hpp"

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
};

struct CopyOptions {
    std::optional<Dialect> dialect;          // nullopt: choose from FEAT ("auto")
    Side passive = Side::destination;        // the side asked to listen first
    PairingOptions pairing;
    bool verify_size = true;
    // Told about every fallback (a refused pairing, swapped roles), for -v and JSON events.
    std::function<void(const std::string&)> notice;
};

struct CopyResult {
    std::optional<std::uint64_t> bytes;      // the destination's SIZE afterwards, when known
    Clock::duration elapsed{};
    Dialect dialect = Dialect::pasv;
    Side listener = Side::destination;
};

// The temporary name a file is written under until it is complete: "dir/.name.rsexec-part".
std::string temporary_path(const std::string& final_path);

asio::awaitable<Expected<CopyResult>> copy_file(ControlSession& source, ControlSession& destination,
                                                const CopyRequest& request, const CopyOptions& options);

} // namespace rsexec
