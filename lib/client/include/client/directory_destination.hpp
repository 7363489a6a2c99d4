#pragma once
// cp(1)'s rule for a destination that is an existing directory: the file goes into it under the
// source's name. Found out before anything is created (path_kind.hpp), asked on the destination
// while the source answers its SIZE, so that it costs no round trip of its own.
#include <cstdint>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"

namespace rsexec {

struct Placement {
    std::optional<std::uint64_t> source_size;  // as SIZE answered (or as known already)
    std::string destination_path;              // `target`, or target/<source's name>
};

// `known_size`: the source's size when already known (it is then not asked again).
asio::awaitable<Expected<Placement>> place_in_directory(ControlSession& source, const std::string& source_path,
                                                        ControlSession& destination, const std::string& target,
                                                        std::optional<std::uint64_t> known_size = std::nullopt);

} // namespace rsexec
