#include "client/url_copy.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>

#include "client/directory_destination.hpp"
#include "client/file_size.hpp"
#include "client/local_file.hpp"
#include "client/path_kind.hpp"
#include "client/same_file.hpp"

namespace rsexec {
namespace {

Error onto_itself(const FtpUrl& destination, const std::string& path) {
    return Error(Errc::bad_url, "source and destination are the same file (" + destination.authority() + " " +
                                    (path.empty() ? std::string(".") : path) +
                                    "): copying it onto itself would destroy it");
}

} // namespace

Expected<std::string> destination_path(const FtpUrl& source, const FtpUrl& destination) {
    if (source.names_directory()) return Error(Errc::bad_url, "source URL names a directory, not a file: " + source.display());
    if (!destination.names_directory()) return destination.path;
    return destination.path + source.file_name();
}

asio::awaitable<Expected<CopyResult>> copy_url(const FtpUrl& source, const FtpUrl& destination,
                                               const UrlCopyOptions& options) {
    using namespace asio::experimental::awaitable_operators;
    if (source.is_local() || destination.is_local()) co_return co_await copy_local(source, destination, options);
    auto target = destination_path(source, destination);
    if (!target) co_return target.error();
    // Refused before any connection where the names already say so.
    if (same_file(source, source.path, destination, *target)) co_return onto_itself(destination, *target);

    auto executor = co_await asio::this_coro::executor;
    ControlSession src(executor, Side::source, options.session);
    ControlSession dst(executor, Side::destination, options.session);
    Interruption no_interruption(executor);
    Interruption& interruption = options.copy.interruption ? *options.copy.interruption : no_interruption;
    // Both logins at once: the slower server sets the pace, not the sum of the two. A signal
    // meanwhile ends them: nothing has changed on either server yet.
    auto opened = co_await ((src.open(source.host, source.port, credentials_for(source, options.netrc),
                                      source.implicit_tls()) &&
                             dst.open(destination.host, destination.port, credentials_for(destination, options.netrc),
                                      destination.implicit_tls())) ||
                            interruption.wait());
    if (opened.index() == 1) co_return Error(Errc::interrupted, "interrupted by " + interruption.why() + " while logging in");
    auto& [src_open, dst_open] = std::get<0>(opened);
    if (!src_open) co_return src_open.error();
    if (!dst_open) co_return dst_open.error();

    const auto finish = [&](Expected<CopyResult> result) -> asio::awaitable<Expected<CopyResult>> {
        for (ControlSession* session : {&src, &dst}) {
            if (session->is_open()) co_await session->command("QUIT");
            session->close();
        }
        co_return result;
    };
    // Two names for one server (an alias, "localhost" and 127.0.0.1): the addresses tell.
    const auto same_here = [&](const std::string& path) {
        return same_file(source, source.path, destination, path, src.peer_address(), dst.peer_address());
    };
    if (same_here(*target)) co_return co_await finish(onto_itself(destination, *target));

    CopyRequest request{source.path, *target, options.mode, std::nullopt};
    if (!destination.names_directory()) {
        // cp(1): a destination that is an existing directory receives the file under the
        // source's name. Found out before anything is created there.
        auto placed = co_await place_in_directory(src, source.path, dst, *target);
        if (!placed) co_return co_await finish(placed.error());
        request.source_size = placed->source_size;
        if (placed->destination_path != *target) {
            request.destination_path = placed->destination_path;
            if (same_here(request.destination_path))
                co_return co_await finish(onto_itself(destination, request.destination_path));
        }
    }
    co_return co_await finish(co_await copy_file(src, dst, request, options.copy));
}

} // namespace rsexec
