#pragma once
// Listing a directory: the one time rsexec opens a data connection itself. It asks the server to
// listen (EPSV, else PASV), connects to the port on the address its control connection reached,
// and reads MLSD (RFC 3659), else LIST.
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/listing.hpp"

namespace rsexec {

// A listing larger than this is refused. It is parsed as it arrives (ListingParser), so rsexec
// holds its entries, never the listing's text.
inline constexpr std::size_t max_listing_bytes = 64 * 1024 * 1024;

struct DirectoryListing {
    std::vector<ListEntry> entries;
    // Entries skipped: a line over max_entry_bytes or a name over max_name_bytes.
    std::size_t oversized = 0;
};

asio::awaitable<Expected<DirectoryListing>> list_directory(ControlSession& session, const std::string& path);

} // namespace rsexec
