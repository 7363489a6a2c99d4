#pragma once
// The data connection of one control session (RFC 959 3.2, 5.2): who listens, who connects,
// and who is allowed at the other end.
//
//   passive - PASV, EPSV (RFC 2428) and RFC 438 LSTN: listen now on the control connection's
//             local address, port 0; accept at the transfer command.
//   active  - PORT, EPRT and RFC 438 SOCK without LSTN: connect at the transfer command, from
//             the control connection's local address (SOCK binds that socket at once so its
//             port can be announced and pinned by the other server).
//
// An accepted connection from a peer the policy does not admit (or, after SOCK, any socket but
// the pinned one) is closed at once and logged; accepting goes on until the deadline
// (RFC 2577 "port stealing"). Each configuration serves one transfer.
#include <optional>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "ftp/deadline.hpp"
#include "ftp/expected.hpp"
#include "server/log.hpp"
#include "server/policy.hpp"

namespace rsexec::server {

class DataChannel {
public:
    enum class Mode { none, passive, active };

    DataChannel(asio::any_io_executor executor, const PeerPolicy& policy, Endpoint control_peer,
                asio::ip::address local_address, Logger& log, std::string tag);

    Mode mode() const noexcept { return mode_; }
    bool pinned() const noexcept { return pin_.has_value(); }

    // PASV, EPSV, LSTN: a fresh listening socket; returns where it listens.
    Expected<Endpoint> listen();
    // RFC 438 rule 2, SOCK after LSTN: only `peer` (any port if its port is 0) may connect.
    void pin(const Endpoint& peer);
    // PORT, EPRT: connect to `target` at the next transfer.
    void connect_to(const Endpoint& target);
    // SOCK without LSTN: as connect_to, with the local socket bound now; returns it.
    Expected<Endpoint> bind_and_connect_to(const Endpoint& target);

    // The data connection for one transfer, within `timeout`; the configuration is then spent.
    asio::awaitable<Expected<asio::ip::tcp::socket>> open(Clock::duration timeout);

    // ABOR or shutdown: a pending open() ends with an error.
    void cancel();
    // Forget the configuration (and close its sockets).
    void reset();

private:
    bool admits(const Endpoint& peer) const;
    asio::awaitable<Expected<asio::ip::tcp::socket>> accept_admitted(Clock::duration timeout);
    asio::awaitable<Expected<asio::ip::tcp::socket>> connect(Clock::duration timeout);
    Expected<std::monostate> bind_local(asio::ip::tcp::socket& socket);

    asio::any_io_executor executor_;
    const PeerPolicy& policy_;
    Endpoint control_peer_;
    asio::ip::address local_address_;
    Logger& log_;
    std::string tag_;

    Mode mode_ = Mode::none;
    std::optional<asio::ip::tcp::acceptor> acceptor_;
    std::optional<Pin> pin_;
    std::optional<Endpoint> target_;
    std::optional<asio::ip::tcp::socket> connecting_;
};

} // namespace rsexec::server
