#pragma once
// Pipelined copies of many files over one pair of logged-in sessions. FTP servers read commands
// in order and answer each in turn, so a client may send the next commands before the replies
// to the current ones arrive, wherever it needs no reply to form them:
//   - each file's SIZE on the source goes out ahead of its transfer, so a missing source is
//     known before anything is created at the destination (and its MDTM with it, when the
//     copies keep their times: their MFMT then follows the RNTO; and, where asked, the
//     destination's MLST: whether the file goes into a directory of that name);
//   - pairing per file (PASV/PORT, EPSV/EPRT): the listener's next PASV is queued right behind
//     its transfer command; its reply forms the connector's PORT for the next file, which goes
//     out together with both transfer commands, the copy's SIZE and the previous file's
//     RNFR/RNTO: about one round trip per file (the first file's transfer commands wait for its
//     PORT/EPRT's reply where a server does not read commands while its transfer waits: a
//     refused pairing then leaves no transfer pending on the other server);
//   - block mode (both servers offer MODE B, docs/PROTOCOL.md): paired once, in the round trip
//     of the first files' SIZEs (MODE B, the listener's LSTN and its pin in that write, the
//     connector's SOCK with the first transfers); the data connection stays open and carries an
//     EOF marker after each file, so the RETR and STOR of a window of files are in flight at
//     once, with no round trip between files. The window covers what the
//     pair finishes in a round trip (window_size.hpp): measured from the replies' times and the
//     files finished, it grows while it is what binds, up to its bounds in files and bytes.
// Not every server waits for a transfer to end before it reads the next command: proftpd and
// pyftpdlib answer commands that arrive during a transfer (450, or out of turn), and pure-ftpd
// loses a command sent in the same write as PORT. With servers not known to queue commands
// (pipelines_behind_transfers), nothing is sent on a session while its transfer runs or its
// PORT/EPRT is unanswered: about three round trips a file instead of one, still fewer than ten.
// Every file is still written under its temporary name, verified by size and renamed after.
// A missing source fails that file alone. Any other failure stops the pipeline and closes both
// sessions (what they were doing is no longer known); the files it had not finished are handed
// back, the failing one with its error, to be copied the usual way.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "client/pairing.hpp"
#include "client/transfer.hpp"
#include "client/window_size.hpp"

namespace rsexec {

struct PipelineFile {
    std::size_t index = 0;  // the caller's handle
    std::string source_path;
    std::string destination_path;
    // Where the file goes when destination_path is an existing directory, as cp(1) does:
    // destination_path/<the source's name>. Not empty: the destination is asked with MLST (its
    // server must offer it) while the source answers SIZE, before anything is created there.
    std::string into_directory;
};

struct PipelineOptions {
    PairingAttempt pairing{Dialect::pasv, Side::destination};  // one that worked on these sessions
    PairingOptions pairing_options;
    bool block_mode = false;          // both servers offer MODE B
    // Send commands behind a running transfer, and the transfer command with PORT/EPRT: only
    // for servers that queue them (pipelines_behind_transfers).
    bool behind_transfers = true;
    bool verify_size = true;
    // Block mode: the files in flight at once and their bytes (beyond the first file), sized from
    // the round trip and the pair's rate (window_size.hpp) within these bounds.
    WindowLimits window;
    // Larger files go back to copy_file, which watches for stalls and reports progress.
    std::uint64_t largest = 16u << 20;
    // As CopyOptions's: each file's MDTM goes out behind its SIZE, its MFMT behind its RNTO.
    bool preserve_times = false;
    std::function<void(const std::string&)> times_not_kept;
    std::function<void(const std::string&)> notice;  // -v; in block mode, the window reached
};

struct PipelineCallbacks {
    std::function<std::optional<PipelineFile>()> next;  // the next file for this pair, if any
    // A file's transfer commands are about to go out.
    std::function<void(std::size_t index)> started;
    std::function<void(std::size_t index, Expected<CopyResult> result)> finished;
    // A file the pipeline did not finish and did not fail: copy it the usual way. With the size
    // the source's SIZE has just answered, when it has.
    std::function<void(std::size_t index, std::optional<std::uint64_t> source_size)> returned;
    // Asked before each file starts: when true, the files not started yet are returned and the
    // pipeline ends once the others are done.
    std::function<bool()> stopping;
    // The servers accepted the pairing (its last step answered 2yz), said once.
    std::function<void()> paired;
};

// Whether a server's FEAT offers block mode: " MODE B".
bool offers_block_mode(const Features& features);

// Runs until next() has no more files (or a file is too large) and every file taken is finished
// or returned; the sessions are then in step for further commands. On an error both sessions
// are closed and every file taken has been finished or returned.
asio::awaitable<Status> run_pipeline(ControlSession& source, ControlSession& destination,
                                     const PipelineOptions& options, const PipelineCallbacks& callbacks);

} // namespace rsexec
