#include "server/server.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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
// How long accepting pauses after running out of descriptors (or kernel memory).
constexpr auto accept_backoff = std::chrono::milliseconds(100);
// What a session may hold: control, data listener, data connection, file.
constexpr std::size_t descriptors_per_session = 4;

// By errno value: asio's system category does not map its codes to std::errc conditions.
bool out_of_resources(const std::error_code& ec) {
    const int value = ec.value();
    return value == EMFILE || value == ENFILE || value == ENOBUFS || value == ENOMEM;
}

FileDescriptor open_spare() { return FileDescriptor(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

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
    // refuse_waiting_connections() calls accept4(2) on it directly.
    if (!ec) acceptor.native_non_blocking(true, ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(where, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ec, "cannot listen on " + endpoint_text(where) + ": " + ec.message());
    server->spare_ = open_spare();
    ::rlimit limit{};
    const auto sessions = server->config_.max_sessions;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        sessions * descriptors_per_session > limit.rlim_cur)
        log.warning("--max-sessions {} may need up to {} file descriptors; the limit is {} (ulimit -n): beyond it "
                    "connections get 421",
                    sessions, sessions * descriptors_per_session, limit.rlim_cur);
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
    const ServerContext context{config_, jail_, log_, hashes_, throttle_, tls_.get(), logins_};
    asio::steady_timer backoff(io_);
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            log_.warning("accept failed: {}", ec.message());
            if (out_of_resources(ec)) {
                // The connection stays in the backlog and the acceptor would report it again at
                // once: refuse what waits, then pause (the log folds the repeats).
                refuse_waiting_connections();
                backoff.expires_after(accept_backoff);
                co_await backoff.async_wait(use_tuple);
            }
            continue;
        }
        std::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (peer_ec) continue;
        if (sessions_.size() >= config_.max_sessions) {
            log_.warning("refused connections: {} sessions open (--max-sessions)", sessions_.size());
            static constexpr std::string_view full = "421 Too many sessions, try again later\r\n";
            socket.write_some(asio::buffer(full), peer_ec);
            socket.close(peer_ec);
            continue;
        }
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

std::size_t Server::refuse_waiting_connections() {
    static constexpr std::string_view busy = "421 Too many sessions (out of file descriptors), try again later\r\n";
    spare_.reset();
    std::size_t refused = 0;
    // Non-blocking: ends when the backlog is empty (EAGAIN) or the freed descriptor was taken.
    for (; refused < 1024; ++refused) {
        const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        [[maybe_unused]] const auto sent = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
    }
    spare_ = open_spare();
    if (refused > 0) log_.warning("refused connections with 421: out of file descriptors");
    return refused;
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
