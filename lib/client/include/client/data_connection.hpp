#pragma once
// A data connection rsexec itself opens to one server (RFC 959 3.2, passive mode): PASV or EPSV
// on the control session, a connect to the announced port, and after the transfer command's 1yz
// the TLS handshake when the data is protected (RFC 4217 9, rsexec the TLS client, the
// certificate checked as on the control connection). What the relay and local copies move
// their bytes over; the servers' own pairings never use it.
#include <memory>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include "ftp/expected.hpp"
#include "client/byte_pump.hpp"
#include "client/control_session.hpp"

namespace rsexec {

struct DataConnection {
    std::unique_ptr<asio::ip::tcp::socket> socket;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;

    PumpEnd end(Side side) const;
    void close();
};

// PROT P (and SSCN OFF: rsexec, not the server, is the TLS client) where the session can protect
// its data, PROT C where it cannot; a session under TLS that cannot protect its data is refused
// unless `allow_clear_data`. Returns whether the data will be under TLS.
asio::awaitable<Expected<bool>> protect_own_data(ControlSession& session, bool allow_clear_data);

// PASV (EPSV where FEAT lists it or the server is reached over IPv6) and the connect. The
// announced address is used only with `trust_announced_address`; otherwise the port at the
// address the control connection reached (a 227 naming another host is the bounce attack).
asio::awaitable<Expected<DataConnection>> open_passive_data(ControlSession& session, bool trust_announced_address);

// Its parts, for callers that send the PASV/EPSV together with other commands: the verb this
// session takes, where its 227/229 reply says to connect (as above), and the connect.
const char* passive_verb(const ControlSession& session);
Expected<Endpoint> announced_endpoint(const ControlSession& session, const Reply& reply, bool trust_announced_address);
asio::awaitable<Expected<DataConnection>> connect_data(ControlSession& session, const Endpoint& where);

// The TLS handshake on an open data connection, after the transfer command's 1yz.
asio::awaitable<Status> secure_data(ControlSession& session, DataConnection& data);

// RFC 959 4.1.3: ABOR, then NOOP whose 200 marks the end of the replies; a session that does not
// come back in step is closed.
asio::awaitable<void> abort_transfer(ControlSession& session);

} // namespace rsexec
