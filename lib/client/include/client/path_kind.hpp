#pragma once
// Whether a destination path names an existing directory, as cp(1) asks before it copies: such a
// destination receives the file under the source's name. One MLST (RFC 3659 7) where the server
// offers it; otherwise SIZE (a file answers 213) and, when that fails, CWD into it and back.
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/listing.hpp"

namespace rsexec {

// The type fact of an MLST reply (RFC 3659 7.2: "250-..." then " facts; name" then "250 ...");
// nullopt when the reply is not a 2yz or holds no type fact.
std::optional<ListEntry::Type> type_from_mlst(const Reply& reply);

// The directory name in a PWD reply: 257 "/a ""quoted"" dir" (RFC 959 Appendix II).
std::optional<std::string> directory_from_pwd(const Reply& reply);

// True when `path` is an existing directory on the session's server; false when it is a file,
// is missing, or the server cannot tell.
asio::awaitable<Expected<bool>> is_directory(ControlSession& session, const std::string& path);

} // namespace rsexec
