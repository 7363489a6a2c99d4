#include "server/server.hpp"

#include <csignal>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "server/session.hpp"

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// How long a graceful stop waits for sessions to wind down before giving up on them.
constexpr auto stop_grace = std::chrono::seconds(3);

} // namespace

Expected<std::unique_ptr<Server>> Server::create(asio::io_context& io, ServerConfig config, Logger& log) {
    auto jail = Jail::open(config.root);
    if (!jail) return jail.error();
    std::unique_ptr<TlsContexts> tls;
    if (config.tls.mode != TlsMode::off) {
        auto loaded = TlsContexts::load(config.tls);
        if (!loaded) return loaded.error();
        tls = std::move(*loaded);
    }
    std::unique_ptr<Server> server(new Server(io, std::move(config), std::move(*jail), std::move(tls), log));
    const Endpoint where(server->config_.bind_address, server->config_.port);
    std::error_code ec;
    auto& acceptor = server->acceptor_;
    acceptor.open(where.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(where, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ec, "cannot listen on " + endpoint_text(where) + ": " + ec.message());
    return server;
}

Server::Server(asio::io_context& io, ServerConfig config, Jail jail, std::unique_ptr<TlsContexts> tls, Logger& log)
    : io_(io), config_(std::move(config)), jail_(std::move(jail)), tls_(std::move(tls)), log_(log), acceptor_(io) {}

Endpoint Server::local_endpoint() const {
    std::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void Server::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

asio::awaitable<void> Server::accept_loop() {
    const ServerContext context{config_, jail_, log_, workers_, tls_.get(), logins_};
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            log_.warning("accept failed: {}", ec.message());
            continue;
        }
        std::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (peer_ec) continue;
        const auto address = plain_address(peer.address());
        auto& count = per_address_[address];
        if (count >= config_.max_per_ip) {
            log_.warning("refused {}: {} connections from that address already", endpoint_text(peer), count);
            static constexpr std::string_view busy = "421 Too many connections from your address\r\n";
            socket.write_some(asio::buffer(busy), peer_ec);
            socket.close(peer_ec);
            continue;
        }
        ++count;
        // Replies are small and come in pairs (150, then 226): without TCP_NODELAY, Nagle holds
        // the second until the client's delayed ACK, 40 ms per transfer.
        socket.set_option(asio::ip::tcp::no_delay(true), peer_ec);
        const auto id = next_id_++;
        auto session = std::make_shared<Session>(std::move(socket), context, id);
        sessions_[id] = session;
        asio::co_spawn(
            io_, [session]() { return session->run(); },
            [this, id, address](std::exception_ptr error) {
                if (error) {
                    try {
                        std::rethrow_exception(error);
                    } catch (const std::exception& e) {
                        log_.error("session #{} ended: {}", id, e.what());
                    }
                }
                release(id, address);
            });
    }
}

void Server::release(std::uint64_t id, const asio::ip::address& address) {
    sessions_.erase(id);
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
    if (stopping_ && sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
#if defined(__GLIBC__)
    // Hundreds of sessions leave glibc's heap full of freed holes it keeps for reuse; an idle
    // server hands them back, so its resident size returns to where it started
    // (tests/faults/test_load.py). Once per idle moment, not per session: the walk is not free.
    if (sessions_.empty()) ::malloc_trim(0);
#endif
}

void Server::stop(std::function<void()> drained) {
    stopping_ = true;
    drained_ = std::move(drained);
    std::error_code ec;
    acceptor_.close(ec);
    for (auto& [id, weak] : sessions_)
        if (auto session = weak.lock()) session->stop();
    if (sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
}

int serve(ServerConfig config, Logger& log, std::FILE* announce) {
    asio::io_context io;
    // Signals are caught before the port is announced: a script may stop us right after.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer grace(io);
    auto server = Server::create(io, std::move(config), log);
    if (!server) {
        log.error("{}", server.error().message);
        return 1;
    }
    (*server)->start();
    // Scripts and tests read the port from this line: it must reach them at once.
    std::fprintf(announce, "rsexecd listening on %s\n", endpoint_text((*server)->local_endpoint()).c_str());
    std::fflush(announce);

    signals.async_wait([&](const std::error_code& ec, int signal) {
        if (ec) return;
        log.info("signal {}: stopping", signal);
        grace.expires_after(stop_grace);
        grace.async_wait([&](const std::error_code& wait_ec) {
            if (wait_ec) return;
            log.warning("sessions still open after {} s; stopping anyway", stop_grace.count());
            io.stop();
        });
        (*server)->stop([&] { grace.cancel(); });
    });
    io.run();
    return 0;
}

} // namespace rsexec::server
