#pragma once
// The server: one acceptor, one session per control connection, all on one io_context thread
// (the data path is sendfile(2) and large writes, so one thread keeps up with the network);
// checksums run on a small pool of threads (checksum.hpp). SIGINT and SIGTERM stop it gracefully.
// Out of file descriptors (EMFILE), the acceptor does not spin: a spare descriptor kept open for
// the purpose is closed to accept each waiting connection and answer it 421, then accepting
// pauses for a moment.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "ftp/expected.hpp"
#include "server/checksum.hpp"
#include "server/config.hpp"
#include "server/file_descriptor.hpp"
#include "server/jail.hpp"
#include "server/log.hpp"
#include "server/login_throttle.hpp"
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
    // Out of descriptors: the spare one is given up to accept, answer 421 and close every
    // connection waiting in the backlog, then taken again. How many were refused.
    std::size_t refuse_waiting_connections();
    void release(std::uint64_t id, const asio::ip::address& address);

    asio::io_context& io_;
    ServerConfig config_;
    Jail jail_;
    std::unique_ptr<TlsContexts> tls_; // nullptr when TLS is off
    Logger& log_;
    HashPool hashes_{2};
    asio::thread_pool logins_{1}; // crypt(3): one core at most, whatever the guessing
    LoginThrottle throttle_;
    FileDescriptor spare_; // /dev/null, held for refuse_waiting_connections()
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
