#include "server/data_channel.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

Error timed_out(Clock::duration timeout) {
    return Error(Errc::timeout,
                 "no data connection within " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) + " ms");
}

} // namespace

DataChannel::DataChannel(asio::any_io_executor executor, const PeerPolicy& policy, Endpoint control_peer,
                         asio::ip::address local_address, Logger& log, std::string tag)
    : executor_(std::move(executor)), policy_(policy), control_peer_(control_peer),
      local_address_(std::move(local_address)), log_(log), tag_(std::move(tag)) {}

Expected<Endpoint> DataChannel::listen() {
    reset();
    std::error_code ec;
    asio::ip::tcp::acceptor acceptor(executor_);
    const Endpoint local(local_address_, 0);
    acceptor.open(local.protocol(), ec);
    if (!ec) acceptor.bind(local, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error(ec, "cannot listen for a data connection");
    auto where = acceptor.local_endpoint(ec);
    if (ec) return Error(ec, "cannot listen for a data connection");
    acceptor_.emplace(std::move(acceptor));
    mode_ = Mode::passive;
    return where;
}

void DataChannel::pin(const Endpoint& peer) { pin_ = Pin{peer}; }

void DataChannel::connect_to(const Endpoint& target) {
    reset();
    target_ = target;
    mode_ = Mode::active;
}

Expected<Endpoint> DataChannel::bind_and_connect_to(const Endpoint& target) {
    reset();
    asio::ip::tcp::socket socket(executor_);
    if (auto bound = bind_local(socket); !bound) return bound.error();
    std::error_code ec;
    auto where = socket.local_endpoint(ec);
    if (ec) return Error(ec, "cannot bind a data socket");
    connecting_.emplace(std::move(socket));
    target_ = target;
    mode_ = Mode::active;
    return where;
}

Expected<std::monostate> DataChannel::bind_local(asio::ip::tcp::socket& socket) {
    // From the control connection's own address, so the peer sees the host it talks to.
    const Endpoint local(local_address_, 0);
    std::error_code ec;
    socket.open(local.protocol(), ec);
    if (!ec) socket.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) socket.bind(local, ec);
    if (ec) return Error(ec, "cannot bind a data socket");
    return std::monostate{};
}

bool DataChannel::admits(const Endpoint& peer) const {
    if (pin_) return pin_->admits(peer);
    return policy_.allows(control_peer_.address(), peer.address());
}

asio::awaitable<Expected<asio::ip::tcp::socket>> DataChannel::open(Clock::duration timeout) {
    switch (mode_) {
    case Mode::passive: {
        auto socket = co_await accept_admitted(timeout);
        reset();
        co_return socket;
    }
    case Mode::active: {
        auto socket = co_await connect(timeout);
        reset();
        co_return socket;
    }
    case Mode::none: break;
    }
    co_return Error(Errc::connect_failed, "use PORT, EPRT, PASV, EPSV, LSTN or SOCK first");
}

asio::awaitable<Expected<asio::ip::tcp::socket>> DataChannel::accept_admitted(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        const auto left = deadline - Clock::now();
        if (left <= Clock::duration::zero() || !acceptor_) co_return timed_out(timeout);
        auto accepted = co_await within(left, acceptor_->async_accept(use_tuple));
        if (!accepted) co_return timed_out(timeout);
        auto& [ec, socket] = *accepted;
        if (ec) co_return Error(ec, "accepting the data connection failed");
        std::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (!peer_ec && admits(peer)) co_return std::move(socket);
        // RFC 2577 4: a connection from anyone else is dropped; the named peer may still come.
        log_.warning("{} refused data connection from {} ({})", tag_, peer_ec ? "?" : endpoint_text(peer),
                     pin_ ? "not the socket named by SOCK" : "not an allowed peer");
        socket.close(peer_ec);
    }
}

asio::awaitable<Expected<asio::ip::tcp::socket>> DataChannel::connect(Clock::duration timeout) {
    if (!connecting_) {
        asio::ip::tcp::socket socket(executor_);
        if (auto bound = bind_local(socket); !bound) co_return bound.error();
        connecting_.emplace(std::move(socket));
    }
    const auto target = *target_;
    auto connected = co_await within(timeout, connecting_->async_connect(target, use_tuple));
    if (!connected) co_return timed_out(timeout);
    if (auto [ec] = *connected; ec) co_return Error(ec, "cannot connect to " + endpoint_text(target));
    if (!connecting_) co_return Error(Errc::interrupted, "data connection cancelled");
    auto socket = std::move(*connecting_);
    connecting_.reset();
    co_return std::move(socket);
}

void DataChannel::cancel() {
    std::error_code ec;
    if (acceptor_) acceptor_->close(ec);
    if (connecting_) connecting_->close(ec);
}

void DataChannel::reset() {
    cancel();
    acceptor_.reset();
    connecting_.reset();
    pin_.reset();
    target_.reset();
    mode_ = Mode::none;
}

} // namespace rsexec::server
