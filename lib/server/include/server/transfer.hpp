#pragma once
// Moving a file's bytes over an open data connection (RFC 959 3.4). No per-byte work:
//   send_file    - sendfile(2) from the file to the socket, waking on writability;
//   receive_file - 256 KiB reads from the socket, write(2) to the file;
//   send_text    - a listing already formatted in memory.
// Stream mode: the data connection's close marks the end of the file. Block mode (RFC 959
// 3.4.2, block_mode.hpp): the EOF block does, and the connection stays open for the next file;
// send_file_blocks writes each block's header and sendfile(2)s its data, receive_file_blocks
// writes the file data of each read with one write(2) and leaves the bytes read past the EOF
// block in `unread`.
// On a TLS data connection (PROT P) sendfile(2) cannot be used: the file is read in 256 KiB
// chunks and written through the TLS stream (block mode: framed into blocks in memory first).
// Every wait is bounded by `stall`: a peer that stops reading or sending fails the transfer.
#include <cstdint>
#include <string>
#include <variant>

#include <asio/awaitable.hpp>

#include "ftp/deadline.hpp"
#include "ftp/expected.hpp"
#include "server/data_socket.hpp"
#include "server/file_descriptor.hpp"

namespace rsexec::server {

// Read by STAT while the transfer runs.
struct Progress {
    std::uint64_t bytes = 0;
    Clock::time_point started = Clock::now();
};

// What a transfer command asked for, prepared before the data connection opens.
struct SendFile {
    FileDescriptor file;
    std::uint64_t offset = 0; // REST
};
struct ReceiveFile {
    FileDescriptor file; // positioned: truncated, at the REST offset, or in append mode
};
struct SendText {
    std::string text;
};
using TransferPlan = std::variant<SendFile, ReceiveFile, SendText>;

// A failure of the local file (as opposed to the network) has std::generic_category: it is
// answered 451 rather than 426.
asio::awaitable<Status> send_file(DataSocket& socket, const SendFile& plan, Progress& progress,
                                  Clock::duration stall);
asio::awaitable<Status> receive_file(DataSocket& socket, const ReceiveFile& plan, Progress& progress,
                                     Clock::duration stall);
asio::awaitable<Status> send_text(DataSocket& socket, const SendText& plan, Progress& progress,
                                  Clock::duration stall);

// Block mode. `unread` holds the bytes read from this connection past the previous EOF block;
// receive_file_blocks consumes them first and leaves there what follows this file's EOF block.
// A connection that closes or stalls before the EOF block fails the transfer.
asio::awaitable<Status> send_file_blocks(DataSocket& socket, const SendFile& plan, Progress& progress,
                                         Clock::duration stall);
asio::awaitable<Status> receive_file_blocks(DataSocket& socket, const ReceiveFile& plan,
                                            std::string& unread, Progress& progress, Clock::duration stall);
asio::awaitable<Status> send_text_blocks(DataSocket& socket, const SendText& plan, Progress& progress,
                                         Clock::duration stall);

} // namespace rsexec::server
