#pragma once
// One FTP control connection, as a client (RFC 959 5.3): connect, greeting, login, FEAT,
// commands and their replies. Every wait is bounded by the session's timeout. The session only
// moves bytes; the reply parser, command formatter and FEAT reader do the protocol work.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>

#include "ftp/address.hpp"
#include "ftp/credentials.hpp"
#include "ftp/deadline.hpp"
#include "ftp/expected.hpp"
#include "ftp/features.hpp"
#include "ftp/reply.hpp"
#include "ftp/reply_parser.hpp"
#include "client/endpoint.hpp"
#include "client/tls.hpp"

namespace rsexec {

enum class Direction { sent, received };

// Sees every control line both ways; sent passwords arrive already masked. `who` is the
// session's label: "src", "dst", or "src#2" for a batch worker's session.
using TraceHook = std::function<void(std::string_view who, Direction, std::string_view line)>;

// Where and as whom a session logged in: enough to open another session to the same server as
// the same user (the stall watch polls SIZE on one while this one is busy with a transfer).
struct Login {
    std::string host;
    std::uint16_t port = 0;
    Credentials credentials;
    bool implicit_tls = false;
};

struct SessionOptions {
    Clock::duration timeout = std::chrono::seconds(30);
    ReplyLimits limits;
    TraceHook trace;
    std::string label;  // for the trace; the side's name when empty
    TlsSettings tls;
};

class ControlSession {
public:
    ControlSession(asio::any_io_executor executor, Side side, SessionOptions options);

    // Resolves, connects and reads the 220 greeting (after the TLS handshake when implicit).
    asio::awaitable<Status> connect(std::string host, std::uint16_t port, bool implicit_tls = false);
    // AUTH TLS (RFC 4217 4) as the options' TLS mode asks, then the handshake.
    asio::awaitable<Status> secure();
    // USER, PASS (and ACCT when the server asks for it: RFC 959 5.4 reply 332).
    asio::awaitable<Status> login(const Credentials& credentials);
    // FEAT (RFC 2389); a server without FEAT simply has no features.
    asio::awaitable<Status> load_features();
    // All of the above, then (under TLS) PBSZ 0 and PROT P, and TYPE I: a session ready for
    // binary transfers. `implicit_tls`: ftps://, TLS from the first byte.
    asio::awaitable<Status> open(std::string host, std::uint16_t port, const Credentials& credentials,
                                 bool implicit_tls = false);
    // QUIT, close, and open() again to the same server as the same user: whatever the server
    // kept from this session (a passive socket it still listens on, say) goes with the old
    // connection. Only for a session set up by open().
    asio::awaitable<Status> reopen();

    // Sends one command and reads its reply, whatever the code.
    asio::awaitable<Expected<Reply>> command(std::string_view verb, std::string_view argument = {});
    // Sends one command and requires a reply of the given class (2 for 2yz, 3 for 3yz).
    asio::awaitable<Expected<Reply>> expect(int reply_class, std::string_view verb, std::string_view argument = {});
    asio::awaitable<Status> send(std::string_view verb, std::string_view argument = {});
    // Several commands in one write, for pipelining: servers read commands in order and answer
    // each in turn, so the replies come back in the order of `commands`.
    struct Command {
        std::string verb;
        std::string argument;
    };
    asio::awaitable<Status> send_all(const std::vector<Command>& commands);
    // The next reply; bounded by the timeout unless `limit` says otherwise.
    asio::awaitable<Expected<Reply>> read_reply(std::optional<Clock::duration> limit = std::nullopt);

    // A reply already received in full, without waiting for the network.
    std::optional<Expected<Reply>> buffered_reply();
    // Waits for more bytes from the server (no deadline: race it against one).
    asio::awaitable<Status> receive();

    // The error for a negative reply to `command`: "STOR x: 553 Could not create file".
    Error refused(std::string_view command, const Reply& reply) const;

    const Features& features() const noexcept { return features_; }
    // The 220 greeting's text, which often names the server software.
    const std::string& greeting() const noexcept { return greeting_; }
    bool tls_active() const noexcept { return tls_ != nullptr; }
    // The control connection's TLS, whose session a data connection of this client resumes.
    SSL* tls_native() noexcept { return tls_ ? tls_->native_handle() : nullptr; }
    // The data protection level last accepted (PROT, RFC 4217 9): 'C' clear or 'P' private.
    char data_protection() const noexcept { return protection_; }
    // Whether the server accepted PBSZ 0 and PROT P at login: data connections can be TLS.
    bool can_protect_data() const noexcept { return protectable_; }
    void set_data_protection(char level) noexcept { protection_ = level; }
    // Whether this server is the TLS client on its data connections (SSCN ON).
    bool tls_client_on_data() const noexcept { return tls_client_on_data_; }
    void set_tls_client_on_data(bool on) noexcept { tls_client_on_data_ = on; }
    Side side() const noexcept { return side_; }
    std::string_view label() const noexcept;
    bool is_open() const noexcept { return socket_.is_open(); }
    // The server's address as this connection reached it: the only address a listener's
    // announcement is trusted to name by default.
    asio::ip::address peer_address() const { return peer_.address(); }
    Clock::duration timeout() const noexcept { return options_.timeout; }
    const SessionOptions& options() const noexcept { return options_; }
    // Set by open(); nullopt for a session opened step by step.
    const std::optional<Login>& login_used() const noexcept { return login_used_; }
    asio::any_io_executor executor() { return socket_.get_executor(); }
    void close();

private:
    asio::awaitable<Status> handshake();

    Side side_;
    SessionOptions options_;
    asio::ip::tcp::socket socket_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;  // set once secured
    std::string host_;  // as given, for certificate verification
    char protection_ = 'C';
    bool protectable_ = false;
    bool tls_client_on_data_ = false;
    Endpoint peer_;
    ReplyParser parser_;
    std::string pending_;  // received bytes the parser has not consumed yet
    Features features_;
    std::string greeting_;
    std::optional<Login> login_used_;
};

} // namespace rsexec
