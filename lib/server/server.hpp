#pragma once
// The server: one acceptor, one session per control connection, all on one io_context thread
// (the data path is sendfile(2) and large writes, so one thread keeps up with the network);
// checksums run on a worker thread. SIGINT and SIGTERM stop it gracefully.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/thread_pool.hpp>

#include "rsexec/expected.hpp"
#include "server/config.hpp"
#include "server/jail.hpp"
#include "server/log.hpp"
#include "server/tls.hpp"

namespace rsexec::server {

class Session;

class Server {
public:
    // Opens the root and listens on the configured address at once, so a --port 0 server has
    // its port before run().
    static Expected<std::unique_ptr<Server>> create(asio::io_context& io, ServerConfig config, Logger& log);

    Endpoint local_endpoint() const;
    // Accepts control connections until stop().
    void start();
    // Stops accepting and closes every session; `drained` runs once the last one has ended.
    void stop(std::function<void()> drained = {});

private:
    Server(asio::io_context& io, ServerConfig config, Jail jail, std::unique_ptr<TlsContexts> tls, Logger& log);

    asio::awaitable<void> accept_loop();
    void release(std::uint64_t id, const asio::ip::address& address);

    asio::io_context& io_;
    ServerConfig config_;
    Jail jail_;
    std::unique_ptr<TlsContexts> tls_; // nullptr when TLS is off
    Logger& log_;
    asio::thread_pool workers_{1};
    asio::thread_pool logins_{1}; // crypt(3): one core at most, whatever the guessing
    asio::ip::tcp::acceptor acceptor_;
    std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
    std::map<asio::ip::address, std::size_t> per_address_; // --max-per-ip
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    std::function<void()> drained_;
};

// All of rsexecd but option parsing: serve until SIGINT or SIGTERM. Writes
// "rsexecd listening on ADDR:PORT" to `announce` once accepting; returns the exit status.
int serve(ServerConfig config, Logger& log, std::FILE* announce);

} // namespace rsexec::server
