#include "client/directory_destination.hpp"

#include <asio/experimental/awaitable_operators.hpp>

#include "client/file_size.hpp"
#include "client/path_kind.hpp"

namespace rsexec {
namespace {

asio::awaitable<Expected<std::optional<std::uint64_t>>> known_or_asked(ControlSession& session,
                                                                       const std::string& path,
                                                                       std::optional<std::uint64_t> known) {
    if (known) co_return known;
    co_return co_await size_of(session, path);
}

} // namespace

asio::awaitable<Expected<Placement>> place_in_directory(ControlSession& source, const std::string& source_path,
                                                        ControlSession& destination, const std::string& target,
                                                        std::optional<std::uint64_t> known_size) {
    using namespace asio::experimental::awaitable_operators;
    auto [size, directory] =
        co_await (known_or_asked(source, source_path, known_size) && is_directory(destination, target));
    if (!size) co_return size.error();
    if (!directory) co_return directory.error();
    Placement placement{*size, target};
    if (*directory) {
        const auto slash = source_path.rfind('/');
        placement.destination_path =
            target + "/" + (slash == std::string::npos ? source_path : source_path.substr(slash + 1));
    }
    co_return placement;
}

} // namespace rsexec
