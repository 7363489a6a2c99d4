#include "client/data_connection.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl/host_name_verification.hpp>

namespace rsexec {
namespace {

constexpr auto as_value = asio::experimental::as_tuple(asio::use_awaitable);

} // namespace

PumpEnd DataConnection::end(Side side) const {
    PumpEnd end;
    end.side = side;
    end.socket = socket.get();
    end.tls = tls.get();
    end.name = std::string(side_name(side)) + " data connection";
    return end;
}

void DataConnection::close() {
    std::error_code ignored;
    if (socket && socket->is_open()) socket->close(ignored);
}

asio::awaitable<Expected<bool>> protect_own_data(ControlSession& session, bool allow_clear_data) {
    const bool protect = session.can_protect_data();
    if (!protect && session.tls_active() && !allow_clear_data)
        co_return Error(Errc::tls_failed,
                        "the server does not protect data connections (PROT P refused) and --allow-clear-data "
                        "was not given",
                        session.side());
    const char level = protect ? 'P' : 'C';
    if (session.tls_active() && session.data_protection() != level) {
        if (auto set = co_await session.expect(2, "PROT", std::string(1, level)); !set) co_return set.error();
        session.set_data_protection(level);
    }
    if (session.tls_client_on_data()) {
        // A pairing attempt made this server the TLS client (SSCN ON); towards rsexec it is the
        // TLS server, as RFC 4217 makes every server.
        if (auto off = co_await session.expect(2, "SSCN", "OFF"); !off) co_return off.error();
        session.set_tls_client_on_data(false);
    }
    co_return protect;
}

const char* passive_verb(const ControlSession& session) {
    return session.peer_address().is_v6() || session.features().has("EPSV") ? "EPSV" : "PASV";
}

Expected<Endpoint> announced_endpoint(const ControlSession& session, const Reply& reply, bool trust_announced_address) {
    const auto peer = session.peer_address();
    if (std::string_view(passive_verb(session)) == "EPSV") {
        auto port = parse_epsv_reply(reply.text());
        if (!port) return Error(port.error().code, "EPSV: " + port.error().message, session.side());
        return Endpoint(peer, *port);
    }
    auto announced = parse_pasv_reply(reply.text());
    if (!announced) return Error(announced.error().code, "PASV: " + announced.error().message, session.side());
    return trust_announced_address ? to_endpoint(*announced) : Endpoint(peer, announced->port);
}

asio::awaitable<Expected<DataConnection>> connect_data(ControlSession& session, const Endpoint& where) {
    DataConnection data;
    data.socket = std::make_unique<asio::ip::tcp::socket>(session.executor());
    auto connecting = [&]() -> asio::awaitable<std::error_code> {
        auto [ec] = co_await data.socket->async_connect(where, as_value);
        co_return ec;
    };
    auto connected = co_await within(session.timeout(), connecting());
    const std::string target = where.address().to_string() + ":" + std::to_string(where.port());
    if (!connected) co_return Error(Errc::connect_failed, "data connection to " + target + " timed out", session.side());
    if (*connected)
        co_return Error(Errc::connect_failed, "data connection to " + target + ": " + connected->message(), session.side());
    co_return std::move(data);
}

asio::awaitable<Expected<DataConnection>> open_passive_data(ControlSession& session, bool trust_announced_address) {
    auto reply = co_await session.expect(2, passive_verb(session));
    if (!reply) co_return reply.error();
    auto where = announced_endpoint(session, *reply, trust_announced_address);
    if (!where) co_return where.error();
    co_return co_await connect_data(session, *where);
}

asio::awaitable<Status> secure_data(ControlSession& session, DataConnection& data) {
    const auto& tls = session.options().tls;
    if (!tls.context) co_return Error(Errc::tls_failed, "TLS is not set up", session.side());
    data.tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(*data.socket, *tls.context);
    const std::string host = session.login_used() ? session.login_used()->host : std::string();
    std::error_code not_address;
    (void)asio::ip::make_address(host, not_address);
    if (not_address && !host.empty()) SSL_set_tlsext_host_name(data.tls->native_handle(), host.c_str());
    if (tls.verify) data.tls->set_verify_callback(asio::ssl::host_name_verification(host));
    // Servers that require the data connection to resume the control connection's TLS session
    // (vsftpd's require_ssl_reuse) get it offered.
    if (SSL* control = session.tls_native()) {
        if (SSL_SESSION* resumable = SSL_get_session(control)) SSL_set_session(data.tls->native_handle(), resumable);
    }
    auto shaking = [&]() -> asio::awaitable<std::error_code> {
        auto [ec] = co_await data.tls->async_handshake(asio::ssl::stream_base::client, as_value);
        co_return ec;
    };
    auto shaken = co_await within(session.timeout(), shaking());
    if (!shaken) co_return Error(Errc::tls_failed, "TLS handshake on the data connection timed out", session.side());
    if (*shaken) {
        std::string why = shaken->message();
        const long verify = SSL_get_verify_result(data.tls->native_handle());
        if (verify != X509_V_OK) why = std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify);
        co_return Error(Errc::tls_failed, "TLS handshake on the data connection failed: " + why, session.side());
    }
    co_return success();
}

asio::awaitable<void> abort_transfer(ControlSession& session) {
    if (!session.is_open()) co_return;
    std::vector<ControlSession::Command> commands;
    commands.push_back({"ABOR", ""});
    commands.push_back({"NOOP", ""});
    if (auto sent = co_await session.send_all(commands); !sent) {
        session.close();
        co_return;
    }
    const auto limit = std::min<Clock::duration>(session.timeout(), std::chrono::seconds(10));
    for (int replies = 0; replies < 6; ++replies) {
        auto reply = co_await session.read_reply(limit);
        if (!reply) break;
        if (reply->code == 200) co_return;
    }
    session.close();
}

} // namespace rsexec
