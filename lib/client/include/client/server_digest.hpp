#pragma once
// A server's own digest of one of its files (HASH, draft-bryan-ftpext-hash; XSHA256, XSHA1,
// XMD5, XCRC), as checksum.hpp chose the command: the bytes never pass through rsexec.
#include <cstdint>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/checksum.hpp"

namespace rsexec {

// The digest in lower-case hex. Hashing reads the whole file before the reply, so the wait
// allows for a slow disk (20 MB/s of `size`) on top of the session's timeout.
asio::awaitable<Expected<std::string>> digest_of(ControlSession& session, const ChecksumCommand& command,
                                                 HashAlgorithm algorithm, const std::string& path,
                                                 std::uint64_t size);

} // namespace rsexec
