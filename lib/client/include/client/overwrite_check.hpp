#pragma once
// What an overwrite policy (ftp/overwrite.hpp) needs to know about a copy's destination, asked of
// the two servers before anything is created there: SIZE on the destination (is it there, how
// big), MDTM on both for the policies that compare times, the servers' digests for if-different
// with --verify checksum when the sizes agree. Then the decision.
#include <cstdint>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"
#include "ftp/checksum.hpp"
#include "ftp/overwrite.hpp"

namespace rsexec {

// The time-val of an MDTM reply (RFC 3659 3.1: "213 YYYYMMDDHHMMSS[.sss]"); nullopt for any other.
std::optional<std::string> modify_from_mdtm(const Reply& reply);

// `checksum`: the digests both servers can compute, when the policy is to compare them.
asio::awaitable<Expected<OverwriteDecision>> check_overwrite(ControlSession& source, ControlSession& destination,
                                                             const std::string& source_path,
                                                             const std::string& destination_path,
                                                             std::optional<std::uint64_t> source_size,
                                                             Overwrite policy,
                                                             const std::optional<ChecksumPlan>& checksum);

} // namespace rsexec
