#pragma once
// Many files relayed over one pair of logged-in sessions, one after the other (relay.hpp copies
// one file; pipeline.hpp is the same for servers that pair). The sessions stay logged in from
// file to file, and commands that need no earlier reply go out together:
//   - the source's SIZE and PASV/EPSV in one write; the destination's PASV/EPSV in one write with
//     the previous file's RNFR/RNTO (and MLST, when the destination may be a directory): the
//     replies come back in about one round trip;
//   - RETR and STOR at once, the bytes pumped as soon as both data connections are up, the
//     copy's SIZE right behind the STOR where the server answers it once the transfer has ended;
//   - the next file's SIZE and PASV/EPSV right behind the current RETR, where the source queues
//     commands behind a transfer (pipelines_behind_transfers): the next download is set up while
//     the current upload drains.
// With servers not known to queue commands, nothing goes out behind a transfer command.
// Every file is still written under its temporary name, verified by size and renamed after; a
// missing source fails that file alone before anything is made at the destination. Any other
// failure closes both sessions and fails the file it happened to (the caller retries it the usual
// way); files taken but not started are handed back. Clear data connections only: the caller
// sends files whose data is under TLS to copy_file.
#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "client/pipeline.hpp"

namespace rsexec {

struct RelayPipelineOptions {
    bool trust_announced_address = false;
    bool verify_size = true;
    // Larger files go back to copy_file, which reports progress as it relays them.
    std::uint64_t largest = 16u << 20;
};

// Runs until next() has no more files, a file is too large, or stopping() says so. On an error both
// sessions are closed and every file taken has been finished or returned.
asio::awaitable<Status> run_relay_pipeline(ControlSession& source, ControlSession& destination,
                                           const RelayPipelineOptions& options, const PipelineCallbacks& callbacks);

} // namespace rsexec
