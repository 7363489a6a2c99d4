#pragma once
// Copy one file named by two URLs: open both control sessions at once, pair them, transfer,
// and say goodbye. What `rsexec copy` runs; batches reuse the sessions instead (copy_file).
#include <asio/awaitable.hpp>

#include "ftp/netrc.hpp"
#include "client/transfer.hpp"
#include "ftp/url.hpp"

namespace rsexec {

struct UrlCopyOptions {
    CopyOptions copy;
    WriteMode mode = WriteMode::temporary_then_rename;
    SessionOptions session;         // timeout and trace, for both sides
    const Netrc* netrc = nullptr;   // credentials for URLs that carry none
};

// The destination file's path: the URL's own, or the source's file name in the URL's
// directory when it ends in '/'. copy_url also puts the file under the source's name in a
// destination that turns out to be an existing directory, and refuses a copy onto itself.
Expected<std::string> destination_path(const FtpUrl& source, const FtpUrl& destination);

asio::awaitable<Expected<CopyResult>> copy_url(const FtpUrl& source, const FtpUrl& destination,
                                               const UrlCopyOptions& options);

} // namespace rsexec
