#pragma once
// Copies with one end on this machine's disk (file:///abs/path or /abs/path, ftp/url.hpp): a
// download (RETR into a local file) or an upload (a local file sent with STOR), over a data
// connection rsexec opens itself (data_connection.hpp) and the relay's byte pump. The same
// guarantees as a copy between servers: the file is written under a temporary name
// (.NAME.rsexec-part) and renamed once complete and verified, a local one fsync'ed before its
// rename so that a crash never leaves half a file under the final name; --resume continues a
// temporary file (REST or APPE); the stall timeout; SIGINT aborts and cleans up. The overwrite
// policy decides from the server's SIZE and MDTM and the local file's size and time (its digests
// too, with --verify checksum: the server's SHA-256 against rsexec's own of the local file), and
// with preserve_times the copy gets the source's time (utimensat(2) here, MFMT there).
#include <asio/awaitable.hpp>

#include "client/url_copy.hpp"

namespace rsexec {

// Exactly one of the two URLs is local (is_local()); both local is refused (exit 2).
asio::awaitable<Expected<CopyResult>> copy_local(const FtpUrl& source, const FtpUrl& destination,
                                                 const UrlCopyOptions& options);

// The same on a session already logged in to the server's side (a batch's, kept for its next
// item): the session stays open. `session` is the source's for a download, the destination's
// for an upload.
asio::awaitable<Expected<CopyResult>> copy_local_on(ControlSession& session, const FtpUrl& source,
                                                    const FtpUrl& destination, const UrlCopyOptions& options);

} // namespace rsexec
