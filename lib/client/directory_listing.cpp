#include "client/directory_listing.hpp"

#include <array>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto as_value = asio::experimental::as_tuple(asio::use_awaitable);

// The port the server listens on for this listing; the address is always the control
// connection's, whatever a 227 names (address hygiene, as in pairing).
asio::awaitable<Expected<Endpoint>> passive_endpoint(ControlSession& session) {
    if (session.features().has("EPSV") || session.peer_address().is_v6()) {
        auto reply = co_await session.command("EPSV");
        if (!reply) co_return reply.error();
        if (reply->code == 229) {
            auto port = parse_epsv_reply(reply->text());
            if (!port) co_return port.error();
            co_return Endpoint(session.peer_address(), *port);
        }
    }
    auto reply = co_await session.expect(2, "PASV");
    if (!reply) co_return reply.error();
    auto announced = parse_pasv_reply(reply->text());
    if (!announced) co_return announced.error();
    co_return Endpoint(session.peer_address(), announced->port);
}

template <class Stream>
asio::awaitable<Status> read_all(Stream& socket, Clock::duration timeout, Side side, ListingParser& parser) {
    std::size_t total = 0;
    std::array<char, 64 * 1024> buffer;
    for (;;) {
        auto reading = [&]() -> asio::awaitable<Expected<std::size_t>> {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), as_value);
            // A TLS server that closes without close_notify ends the listing as a TCP close does.
            if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) co_return std::size_t{0};
            if (ec) co_return Error(Errc::transfer_failed, "listing data connection: " + ec.message(), side);
            co_return n;
        };
        auto got = co_await within(timeout, reading());
        if (!got) co_return Error(Errc::timeout, "listing data connection stalled", side);
        if (!*got) co_return got->error();
        if (**got == 0) {
            parser.finish();
            co_return success();
        }
        total += **got;
        if (total > max_listing_bytes) co_return Error(Errc::reply_too_large, "directory listing over 64 MiB", side);
        parser.feed(std::string_view(buffer.data(), **got));
    }
}

} // namespace

asio::awaitable<Expected<DirectoryListing>> list_directory(ControlSession& session, const std::string& path) {
    auto endpoint = co_await passive_endpoint(session);
    if (!endpoint) co_return endpoint.error();

    asio::ip::tcp::socket data(session.executor());
    auto connecting = [&]() -> asio::awaitable<Status> {
        auto [ec] = co_await data.async_connect(*endpoint, as_value);
        if (ec) co_return Error(Errc::connect_failed, "cannot open the listing data connection: " + ec.message(), session.side());
        co_return success();
    };
    auto connected = co_await within(session.timeout(), connecting());
    if (!connected) co_return Error(Errc::timeout, "timed out opening the listing data connection", session.side());
    if (!*connected) co_return connected->error();

    const bool mlsd = session.features().has("MLST");
    const std::string verb = mlsd ? "MLSD" : "LIST";
    if (session.data_protection() != 'P') {
        auto started = co_await session.command(verb, path);
        if (!started) co_return started.error();
        if (!started->preliminary()) co_return session.refused(verb + " " + path, *started);
    }
    ListingParser parser(mlsd ? ListingFormat::mlsd : ListingFormat::unix_list);
    Status read = success();
    if (session.data_protection() == 'P') {
        // RFC 4217 9: PROT P puts this data connection under TLS too, rsexec the TLS client.
        // It resumes the control connection's TLS session, which some servers insist on.
        asio::ssl::stream<asio::ip::tcp::socket&> tls(data, *session.options().tls.context);
        if (SSL* control = session.tls_native()) {
            if (SSL_SESSION* resumed = SSL_get1_session(control)) {
                SSL_set_session(tls.native_handle(), resumed);
                SSL_SESSION_free(resumed);
            }
        }
        if (session.options().tls.verify && session.login_used())
            tls.set_verify_callback(asio::ssl::host_name_verification(session.login_used()->host));
        if (auto sent = co_await session.send(verb, path); !sent) co_return sent.error();
        // The server may start its handshake before or after its 150: both at once.
        auto shaking = [&]() -> asio::awaitable<std::error_code> {
            auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, as_value);
            co_return ec;
        };
        auto [started, shaken] = co_await (session.read_reply() && within(session.timeout(), shaking()));
        if (!started) co_return started.error();
        if (!started->preliminary()) co_return session.refused(verb + " " + path, *started);
        if (!shaken || *shaken) {
            co_return Error(Errc::tls_failed, "TLS on the listing data connection failed: " +
                                                  (shaken ? shaken->message() : std::string("timed out")),
                            session.side());
        }
        read = co_await read_all(tls, session.timeout(), session.side(), parser);
    } else {
        read = co_await read_all(data, session.timeout(), session.side(), parser);
    }
    data.close();
    if (!read) co_return read.error();
    auto finished = co_await session.read_reply();
    if (!finished) co_return finished.error();
    if (!finished->completion()) co_return session.refused(verb + " " + path, *finished);
    DirectoryListing listing;
    listing.entries = std::move(parser.entries());
    listing.oversized = parser.oversized();
    co_return listing;
}

} // namespace rsexec
