#pragma once
// SIZE (RFC 3659 4): a file's size as the server sees it. Used before a transfer (is the source
// there, how big is a partial copy to resume), after it (did every byte arrive) and during it
// (is the destination's copy still growing: the stall watch).
#include <cstdint>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"

namespace rsexec {

// The size; nullopt when the server does not implement SIZE (500, 502, 504) or answers 213
// with something that is not a number; the refusal (550 no such file) as an error.
asio::awaitable<Expected<std::optional<std::uint64_t>>> size_of(ControlSession& session, const std::string& path);
// The same from a reply already read (a pipelined SIZE).
Expected<std::optional<std::uint64_t>> size_from_reply(const ControlSession& session, std::string_view path,
                                                       const Reply& reply);

} // namespace rsexec
