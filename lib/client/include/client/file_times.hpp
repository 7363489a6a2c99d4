#pragma once
// A copy's modification time kept (`--preserve-times`, and always for mirror): the source's
// time from MDTM (RFC 3659 3), asked before the transfer, so that a source changed while it is
// copied looks newer than its copy on the next run; then, once the copy has its final name,
// MFMT (draft-somers-ftp-mfxx-04 3) on the destination, where its FEAT lists MFMT.
// A time that cannot be kept never fails a copy: it is said (the CLI shows it with -v) and the
// copy keeps the time it was written at, later than the source's, so that a mirror's "newer"
// test still leaves it alone.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include "ftp/time_val.hpp"
#include "client/control_session.hpp"

namespace rsexec {

// Where a time that cannot be kept is said. `server` for what holds for a whole server (no MFMT
// at the destination, no MDTM at the source), one sentence per server so that it can be said
// once; `file` for one file's (a refused MFMT).
struct TimeNotices {
    const std::function<void(const std::string&)>& server;
    const std::function<void(const std::string&)>& file;
};

// FEAT lists " MFMT".
bool offers_mfmt(const Features& features);

// "dst 127.0.0.3:2121 offers no MFMT (FEAT): modification times are not kept".
std::string no_mfmt_notice(const ControlSession& destination);

// The source's time to give the copy, from MDTM's reply to `path`; nullopt (said) when there is
// none: a server without MDTM (500, 502, 504) is said for the server, any other refusal or a
// reply holding no time-val for the file.
std::optional<TimeVal> time_to_keep(const ControlSession& source, std::string_view path, const Reply& reply,
                                    const TimeNotices& say);

// Before a transfer: MDTM on the source, when `destination` offers MFMT (said when it does not).
asio::awaitable<std::optional<TimeVal>> ask_source_time(ControlSession& source, const ControlSession& destination,
                                                        const std::string& path, const TimeNotices& say);

// MFMT's reply for the copy `path`; a refusal or a reply that is no 213 is said, never an error.
void check_time_kept(const ControlSession& destination, std::string_view path, const Reply& reply,
                     const TimeNotices& say);

// After the rename: MFMT time path on the destination.
asio::awaitable<void> keep_time(ControlSession& destination, const std::string& path, const TimeVal& time,
                                const TimeNotices& say);

} // namespace rsexec
