#include "rsexec/url_copy.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>

namespace rsexec {

Expected<std::string> destination_path(const FtpUrl& source, const FtpUrl& destination) {
    if (source.names_directory()) return Error(Errc::bad_url, "source URL names a directory, not a file: " + source.display());
    if (!destination.names_directory()) return destination.path;
    return destination.path + source.file_name();
}

asio::awaitable<Expected<CopyResult>> copy_url(const FtpUrl& source, const FtpUrl& destination,
                                               const UrlCopyOptions& options) {
    using namespace asio::experimental::awaitable_operators;
    auto target = destination_path(source, destination);
    if (!target) co_return target.error();

    auto executor = co_await asio::this_coro::executor;
    ControlSession src(executor, Side::source, options.session);
    ControlSession dst(executor, Side::destination, options.session);
    // Both logins at once: the slower server sets the pace, not the sum of the two.
    auto [src_open, dst_open] = co_await (src.open(source.host, source.port, credentials_for(source, options.netrc), source.implicit_tls()) &&
                                          dst.open(destination.host, destination.port,
                                                   credentials_for(destination, options.netrc),
                                                   destination.implicit_tls()));
    if (!src_open) co_return src_open.error();
    if (!dst_open) co_return dst_open.error();

    CopyRequest request{source.path, *target, options.mode, std::nullopt};
    auto result = co_await copy_file(src, dst, request, options.copy);
    for (ControlSession* session : {&src, &dst}) {
        if (session->is_open()) co_await session->command("QUIT");
        session->close();
    }
    co_return result;
}

} // namespace rsexec
