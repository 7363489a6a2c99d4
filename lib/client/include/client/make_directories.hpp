#pragma once
// --mkdirs: make a directory and its missing parents with MKD (RFC 959 4.1.3), parent first.
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"

namespace rsexec {

// MKD "a", "a/b", "a/b/c" for "a/b/c" (a leading '/' kept). A 2yz makes one; 521 (RFC 959's
// "already exists" in some servers) or 550 is taken as "there already" when the directory then
// proves to exist (MLST, else CWD): vsftpd and others answer 550 for an existing directory
// without saying so. Anything else, or a 550 for what is not a directory, is the error.
asio::awaitable<Status> make_directories(ControlSession& session, const std::string& path);

// The directory part of a file path: "a/b" of "a/b/c", "" of "c", "/" of "/c".
std::string parent_directory(const std::string& path);

} // namespace rsexec
