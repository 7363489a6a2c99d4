#pragma once
// SHA-256 for HASH (draft-bryan-ftpext-hash) and XSHA256, through OpenSSL's EVP; and the pool
// that runs it off the I/O thread.
//
// The pool is small (a few threads for all sessions) and fair: a job hashes one chunk, then goes
// to the back of the queue, so a short file is hashed between the chunks of a long one instead of
// after it. Each session has at most one job at a time (its next command waits for it), and a
// job stops at its next chunk once cancelled (ABOR, the client gone, the server stopping).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/thread_pool.hpp>

#include "ftp/expected.hpp"
#include "server/file_descriptor.hpp"

namespace rsexec::server {

class HashPool {
public:
    // Bytes hashed before a job yields its thread to the next one.
    static constexpr std::size_t chunk_size = 1024 * 1024;

    // The pool's destructor stops it: queued chunks are dropped, their files closed.
    explicit HashPool(std::size_t threads) : pool_(threads) {}

    // The hex SHA-256 of the first `size` bytes of `file`, read on the pool; resumes the caller on
    // its own executor. Fails with Errc::interrupted once `cancelled` is set, and when the file
    // ends before `size` bytes.
    asio::awaitable<Expected<std::string>> sha256(FileDescriptor file, std::uint64_t size,
                                                  std::shared_ptr<std::atomic<bool>> cancelled);

private:
    asio::thread_pool pool_;
};

} // namespace rsexec::server
