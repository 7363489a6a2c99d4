#include "client/control_session.hpp"

#include <array>

#include <asio/connect.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/write.hpp>

#include "ftp/command.hpp"
#include "ftp/deadline.hpp"
#include "ftp/password_redaction.hpp"

namespace rsexec {
namespace {

constexpr auto as_value = asio::experimental::as_tuple(asio::use_awaitable);

} // namespace

ControlSession::ControlSession(asio::any_io_executor executor, Side side, SessionOptions options)
    : side_(side), options_(std::move(options)), socket_(executor), parser_(options_.limits) {}

asio::awaitable<Status> ControlSession::connect(std::string host, std::uint16_t port, bool implicit_tls) {
    const auto where = host + ":" + std::to_string(port);
    host_ = host;
    asio::ip::tcp::resolver resolver(socket_.get_executor());
    auto resolving = [&]() -> asio::awaitable<Expected<asio::ip::tcp::resolver::results_type>> {
        auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), as_value);
        if (ec) co_return Error(Errc::resolve_failed, "cannot resolve " + host + ": " + ec.message(), side_);
        co_return results;
    };
    auto results = co_await within(options_.timeout, resolving());
    if (!results) co_return Error(Errc::resolve_failed, "timed out resolving " + host, side_);
    if (!*results) co_return results->error();

    auto connecting = [&]() -> asio::awaitable<Status> {
        auto [ec, endpoint] = co_await asio::async_connect(socket_, **results, as_value);
        if (ec) co_return Error(Errc::connect_failed, "cannot connect to " + where + ": " + ec.message(), side_);
        peer_ = endpoint;
        co_return success();
    };
    auto connected = co_await within(options_.timeout, connecting());
    // The TCP handshake never completed (SYNs dropped, a full accept queue): no connection was
    // made, so it is a connection failure, not a server that stopped answering.
    if (!connected) co_return Error(Errc::connect_failed, "timed out connecting to " + where, side_);
    if (!*connected) co_return connected->error();
    socket_.set_option(asio::ip::tcp::no_delay(true));
    if (implicit_tls) {
        if (auto secured = co_await handshake(); !secured) co_return secured;
    }

    // RFC 959 5.4: 120 means "ready in a few minutes", followed by 220.
    for (;;) {
        auto greeting = co_await read_reply();
        if (!greeting) co_return greeting.error();
        if (greeting->code == 120) continue;
        greeting_ = greeting->text();
        if (greeting->code != 220) {
            Error error = refused("connect", *greeting);
            error.code = make_error_code(Errc::connect_failed);
            co_return error;
        }
        co_return success();
    }
}

asio::awaitable<Status> ControlSession::handshake() {
    const auto& tls = options_.tls;
    if (!tls.context) co_return Error(Errc::tls_failed, "TLS is not set up", side_);
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *tls.context);
    std::error_code not_address;
    (void)asio::ip::make_address(host_, not_address);
    // SNI, for servers that keep several names on one address; never for an address.
    if (not_address) SSL_set_tlsext_host_name(tls_->native_handle(), host_.c_str());
    if (tls.verify) tls_->set_verify_callback(asio::ssl::host_name_verification(host_));
    auto shaking = [&]() -> asio::awaitable<std::error_code> {
        auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, as_value);
        co_return ec;
    };
    auto shaken = co_await within(options_.timeout, shaking());
    if (!shaken) co_return Error(Errc::tls_failed, "TLS handshake with " + host_ + " timed out", side_);
    if (*shaken) {
        std::string why = shaken->message();
        const long verify = SSL_get_verify_result(tls_->native_handle());
        if (verify != X509_V_OK) why = std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify);
        else if (tls.verify && shaken->category() == asio::error::get_ssl_category())
            why += " (does the certificate name " + host_ + "?)";
        tls_.reset();
        close();
        co_return Error(Errc::tls_failed, "TLS handshake with " + host_ + " failed: " + why, side_);
    }
    co_return success();
}

asio::awaitable<Status> ControlSession::secure() {
    const auto mode = options_.tls.mode;
    if (tls_ || mode == TlsMode::off) co_return success();
    auto reply = co_await command("AUTH", "TLS");
    if (!reply) co_return reply.error();
    if (reply->code != 234) {
        if (mode == TlsMode::optional) co_return success();
        Error error = refused("AUTH TLS", *reply);
        error.code = make_error_code(Errc::tls_failed);
        error.message += " (TLS is required: the password would cross in clear)";
        co_return error;
    }
    co_return co_await handshake();
}

asio::awaitable<Status> ControlSession::login(const Credentials& credentials) {
    auto reply = co_await command("USER", credentials.user);
    if (!reply) co_return reply.error();
    if (reply->code == 331) {
        reply = co_await command("PASS", credentials.password);
        if (!reply) co_return reply.error();
    }
    if (reply->code == 332) {
        if (credentials.account.empty()) co_return Error(Errc::login_failed, "server asks for an account (ACCT) and none was given", side_);
        reply = co_await command("ACCT", credentials.account);
        if (!reply) co_return reply.error();
    }
    if (!reply->completion()) {
        Error error = refused("login as " + credentials.user, *reply);
        error.code = make_error_code(Errc::login_failed);
        co_return error;
    }
    co_return success();
}

asio::awaitable<Status> ControlSession::load_features() {
    auto reply = co_await command("FEAT");
    if (!reply) co_return reply.error();
    features_ = Features::from_reply(*reply);
    co_return success();
}

namespace {

// Whether a server reads the commands after USER before it answers it, by its greeting: rsexecd
// reads every command in order and answers each in turn (docs/PROTOCOL.md). Others are not
// asked: a server may drop what arrives before it has answered USER.
bool reads_login_ahead(std::string_view greeting) { return greeting.starts_with("220 rsexecd "); }

// The replies to USER and PASS sent in one write, read as login() reads them.
asio::awaitable<Status> login_replies(ControlSession& session, const Credentials& credentials) {
    auto user = co_await session.read_reply();
    if (!user) co_return user.error();
    // USER answered 230 (no password needed) or refused: PASS's reply (503, 530) says nothing more.
    const bool asked_password = user->code == 331;
    auto pass = co_await session.read_reply();
    if (asked_password && !pass) co_return pass.error();
    const Reply& answer = asked_password ? *pass : *user;
    if (answer.code == 332)
        co_return Error(Errc::login_failed, "server asks for an account (ACCT) and none was given", session.side());
    if (!answer.completion()) {
        Error error = session.refused("login as " + credentials.user, answer);
        error.code = make_error_code(Errc::login_failed);
        co_return error;
    }
    if (!pass) co_return pass.error();
    co_return success();
}

} // namespace

asio::awaitable<Status> ControlSession::open(std::string host, std::uint16_t port, const Credentials& credentials,
                                             bool implicit_tls) {
    login_used_ = Login{host, port, credentials, implicit_tls};
    if (auto connected = co_await connect(std::move(host), port, implicit_tls); !connected) co_return connected;
    if (auto secured = co_await secure(); !secured) co_return secured;
    // A server that asks for an account (332) is asked step by step.
    const bool login_ahead = reads_login_ahead(greeting_) && credentials.account.empty();
    std::vector<Command> commands;
    if (login_ahead) {
        commands.push_back({"USER", credentials.user});
        commands.push_back({"PASS", credentials.password});
    } else if (auto logged_in = co_await login(credentials); !logged_in) {
        co_return logged_in;
    }
    // The commands after login in one write (none depends on another's reply): one round trip
    // per login. RFC 4217 9: PBSZ 0 then PROT P asks for TLS on data connections too.
    // RFC 959 3.1.1.3: image type, so that sizes match byte for byte on both servers.
    if (tls_) {
        commands.push_back({"PBSZ", "0"});
        commands.push_back({"PROT", "P"});
    }
    commands.push_back({"FEAT", ""});
    commands.push_back({"TYPE", "I"});
    if (auto sent = co_await send_all(commands); !sent) co_return sent;
    if (login_ahead) {
        if (auto logged_in = co_await login_replies(*this, credentials); !logged_in) co_return logged_in;
    }
    if (tls_) {
        auto size = co_await read_reply();
        if (!size) co_return size.error();
        auto level = co_await read_reply();
        if (!level) co_return level.error();
        // A server that will not protect data leaves it clear; the pairing decides whether
        // that is acceptable (data_protection.hpp).
        if (size->completion() && level->completion()) protection_ = 'P', protectable_ = true;
    }
    auto feat = co_await read_reply();
    if (!feat) co_return feat.error();
    features_ = Features::from_reply(*feat);  // a server without FEAT simply has no features
    auto type = co_await read_reply();
    if (!type) co_return type.error();
    if (!type->completion()) co_return refused("TYPE I", *type);
    co_return success();
}

asio::awaitable<Status> ControlSession::send(std::string_view verb, std::string_view argument) {
    std::vector<Command> one;  // not a braced list in the co_await: GCC 12 rejects it
    one.push_back({std::string(verb), std::string(argument)});
    co_return co_await send_all(one);
}

asio::awaitable<Status> ControlSession::send_all(const std::vector<Command>& commands) {
    std::string lines;
    for (const auto& command : commands) {
        auto line = format_command(command.verb, command.argument);
        if (!line) {
            Error error = line.error();
            error.side = side_;
            co_return error;
        }
        if (options_.trace) options_.trace(label(), Direction::sent, loggable_command(*line));
        lines += *line;
    }
    if (lines.empty()) co_return success();
    const std::string verb = commands.front().verb;
    auto writing = [&]() -> asio::awaitable<Status> {
        std::error_code ec;
        if (tls_) std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(lines), as_value);
        else std::tie(ec, std::ignore) = co_await asio::async_write(socket_, asio::buffer(lines), as_value);
        if (ec) co_return Error(Errc::connection_closed, "control connection lost sending " + verb + ": " + ec.message(), side_);
        co_return success();
    };
    auto written = co_await within(options_.timeout, writing());
    if (!written) co_return Error(Errc::timeout, "timed out sending " + verb, side_);
    co_return *written;
}

asio::awaitable<Status> ControlSession::receive() {
    std::array<char, 4096> buffer;
    std::error_code ec;
    std::size_t n = 0;
    if (tls_) std::tie(ec, n) = co_await tls_->async_read_some(asio::buffer(buffer), as_value);
    else std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(buffer), as_value);
    // A TLS peer that closes without close_notify: the same as a close for the control reader.
    if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
    if (ec == asio::error::eof) co_return Error(Errc::connection_closed, "server closed the control connection", side_);
    if (ec) co_return Error(Errc::connection_closed, "control connection lost: " + ec.message(), side_);
    pending_.append(buffer.data(), n);
    co_return success();
}

std::optional<Expected<Reply>> ControlSession::buffered_reply() {
    const auto used = parser_.feed(pending_);
    pending_.erase(0, used);
    if (parser_.failed()) {
        Error error = parser_.error();
        error.side = side_;
        close();  // the stream cannot be trusted past a malformed reply
        return error;
    }
    if (!parser_.ready()) return std::nullopt;
    Reply reply = parser_.take();
    if (options_.trace)
        for (const auto& line : reply.lines) options_.trace(label(), Direction::received, line);
    return reply;
}

asio::awaitable<Expected<Reply>> ControlSession::read_reply(std::optional<Clock::duration> limit) {
    const auto deadline = Clock::now() + limit.value_or(options_.timeout);
    for (;;) {
        if (auto reply = buffered_reply()) co_return std::move(*reply);
        const auto left = deadline - Clock::now();
        // Not `cond ? co_await ... : nullopt`: GCC 12 destroys the result of a co_await inside
        // ?: twice, which freed the error of a connection closed mid-reply twice.
        std::optional<Status> got;
        if (left > Clock::duration::zero()) got = co_await within(left, receive());
        if (!got) co_return Error(Errc::timeout, "no reply from server within the timeout", side_);
        if (!*got) co_return got->error();
    }
}

asio::awaitable<Expected<Reply>> ControlSession::command(std::string_view verb, std::string_view argument) {
    if (auto sent = co_await send(verb, argument); !sent) co_return sent.error();
    co_return co_await read_reply();
}

asio::awaitable<Expected<Reply>> ControlSession::expect(int reply_class, std::string_view verb, std::string_view argument) {
    auto reply = co_await command(verb, argument);
    if (!reply) co_return reply;
    if (reply->code / 100 != reply_class) {
        const std::string shown = verb == "PASS" ? "PASS" : (argument.empty() ? std::string(verb) : std::string(verb) + " " + std::string(argument));
        co_return refused(shown, *reply);
    }
    co_return reply;
}

Error ControlSession::refused(std::string_view command, const Reply& reply) const {
    const Errc code = reply.transient_negative() ? Errc::transient_reply
        : reply.permanent_negative()             ? Errc::permanent_reply
                                                 : Errc::unexpected_reply;
    std::string text = reply.lines.empty() ? std::to_string(reply.code) : reply.lines.back();
    // A server may quote the login's password back ("530 Login incorrect for user:secret").
    std::vector<std::string> passwords;
    if (login_used_) passwords.push_back(login_used_->credentials.password);
    text = redact_passwords(std::move(text), passwords);
    if (text.size() > 300) text.resize(300);
    return Error(code, std::string(command) + ": " + text, side_, reply.code);
}

std::string_view ControlSession::label() const noexcept {
    return options_.label.empty() ? std::string_view(side_name(side_)) : std::string_view(options_.label);
}

asio::awaitable<Status> ControlSession::reopen() {
    if (!login_used_) co_return Error(Errc::connect_failed, "cannot reconnect a session opened step by step", side_);
    const Login login = *login_used_;
    if (is_open()) (void)co_await send("QUIT");  // a courtesy: its reply is not awaited
    close();
    tls_.reset();
    parser_ = ReplyParser(options_.limits);
    pending_.clear();
    features_ = Features{};
    greeting_.clear();
    protection_ = 'C';
    protectable_ = false;
    tls_client_on_data_ = false;
    co_return co_await open(login.host, login.port, login.credentials, login.implicit_tls);
}

void ControlSession::close() {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
}

} // namespace rsexec
