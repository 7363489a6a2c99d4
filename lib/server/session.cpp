#include "server/session.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "ftp/command.hpp"

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// A client that sends commands but never reads the replies is cut off here.
constexpr std::size_t max_outbox_bytes = 1024 * 1024;

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

Endpoint remote_of(const asio::ip::tcp::socket& socket) {
    std::error_code ec;
    return socket.remote_endpoint(ec);
}

Endpoint local_of(const asio::ip::tcp::socket& socket) {
    std::error_code ec;
    return socket.local_endpoint(ec);
}

} // namespace

Session::Session(asio::ip::tcp::socket control, ServerContext context, std::uint64_t id)
    : control_(std::move(control)), context_(context), id_(id), peer_(remote_of(control_)),
      local_(local_of(control_)), tag_(fmt::format("#{} {}", id_, endpoint_text(peer_))),
      framer_(context.config.max_line), outbox_flushed_(control_.get_executor()),
      login_delay_(control_.get_executor()), login_started_(Clock::now()),
      data_(control_.get_executor(), context.config.data_peers, peer_, local_.address(), context.log, tag_),
      transfer_done_(control_.get_executor()) {
    // Clients send ABOR's Telnet Synch as urgent data (RFC 959 4.1.3); keep it in the stream.
    std::error_code ec;
    control_.set_option(asio::socket_base::out_of_band_inline(true), ec);
}

asio::awaitable<void> Session::run() {
    auto self = shared_from_this();
    context_.log.info("{} connected", tag_);
    if (tls_enabled() && context_.config.tls.implicit && !co_await secure_control("implicit TLS")) {
        close_control();
        context_.log.info("{} disconnected", tag_);
        co_return;
    }
    reply(220, "rsexecd ready");
    while (!close_when_sent_ && !closed_) {
        auto line = co_await read_line();
        if (!line) break;
        if (line->too_long) {
            // The line is dropped whole; the session goes on (docs/PROTOCOL.md).
            context_.log.warning("{} command line longer than {} bytes dropped", tag_, context_.config.max_line);
            reply(500, fmt::format("Command line too long (limit {} bytes)", context_.config.max_line));
            continue;
        }
        co_await dispatch(std::move(line->text));
    }
    abort_transfer();
    cancel_hash("the session ended");
    data_.cancel();
    close_kept_data("end of session");
    // Replies still queued (221, 421) go out first; the writer closes after them.
    close_when_sent_ = true;
    if (!writing_) close_control();
    context_.log.info("{} disconnected", tag_);
}

void Session::stop() {
    abort_transfer();
    cancel_hash("server stopping");
    data_.cancel();
    close_kept_data("server stopping");
    login_delay_.cancel();
    close_control();
}

std::pair<Clock::duration, std::string_view> Session::read_limit() const {
    const auto now = Clock::now();
    std::pair<Clock::duration, std::string_view> limit{context_.config.idle_timeout, "idle"};
    // A client that never logs in, or trickles a line, holds a session (and a --max-sessions
    // slot) without being idle: commands before login and bytes of a line do not extend these.
    if (!access_) {
        const auto left = login_started_ + context_.config.login_timeout - now;
        if (left < limit.first) limit = {left, "login"};
    }
    if (line_started_) {
        const auto left = *line_started_ + context_.config.line_timeout - now;
        if (left < limit.first) limit = {left, "line"};
    }
    limit.first = std::max(limit.first, Clock::duration::zero());
    return limit;
}

asio::awaitable<std::optional<CommandLine>> Session::read_line() {
    for (;;) {
        if (auto line = framer_.next()) {
            line_started_.reset();
            co_return line;
        }
        if (closed_) co_return std::nullopt;
        if (framer_.holds_partial_line() && !line_started_) line_started_ = Clock::now();
        const auto [limit, which] = read_limit();
        auto got = co_await within(limit, read_control(asio::buffer(chunk_)));
        if (!got) {
            if (which == "idle") {
                if (transfer_ || hashing_) continue; // a long transfer is not idleness
                context_.log.info("{} idle timeout", tag_);
                reply(421, "Idle timeout, closing control connection");
            } else if (which == "login") {
                context_.log.info("{} login timeout: no login within {:.0f} s", tag_,
                                  std::chrono::duration<double>(context_.config.login_timeout).count());
                reply(421, "Login timeout, closing control connection");
            } else {
                context_.log.info("{} line timeout: a command line not ended within {:.0f} s", tag_,
                                  std::chrono::duration<double>(context_.config.line_timeout).count());
                reply(421, "Command line not completed in time, closing control connection");
            }
            close_when_sent_ = true;
            co_return std::nullopt;
        }
        auto [ec, n] = *got;
        if (ec) co_return std::nullopt;
        framer_.feed(std::string_view(chunk_.data(), n));
    }
}

asio::awaitable<void> Session::dispatch(std::string line) {
    // The redacted copy only when it is logged: at --log-level warning a command costs no string.
    if (context_.log.enabled(LogLevel::info)) context_.log.info("{} > {}", tag_, loggable_command(line));
    const auto space = line.find(' ');
    const std::string verb = upper(std::string_view(line).substr(0, space));
    std::string argument = space == std::string::npos ? std::string{} : line.substr(space + 1);
    if (verb.empty()) {
        reply(500, "Empty command");
        co_return;
    }
    const CommandSpec* spec = find_command(verb);
    if (!spec) {
        reply(502, "Command not implemented");
        co_return;
    }
    if (tls_required() && !control_tls_ && !allowed_in_clear(verb)) {
        // RFC 4217 4: a server that insists on TLS refuses the login (and anything else) first.
        reply(530, "TLS required (AUTH TLS first)");
        co_return;
    }
    if (!access_ && !spec->before_login) {
        reply(530, "Please login with USER and PASS");
        co_return;
    }
    if ((spec->argument == Argument::required && argument.empty()) ||
        (spec->argument == Argument::none && !argument.empty())) {
        reply(501, "Syntax error in parameters or arguments");
        co_return;
    }
    const bool pin = verb == "SOCK" && listening_for_sock_ && data_.mode() == DataChannel::Mode::passive;
    if (epsv_all_ && sets_up_data_connection(verb) && verb != "EPSV" && !pin) {
        // RFC 2428 4: after EPSV ALL, every other way to set up a data connection is refused
        // (a SOCK right after EPSV only pins the peer of EPSV's socket).
        reply(503, verb + " refused after EPSV ALL (RFC 2428): use EPSV");
        co_return;
    }
    if ((transfer_ || hashing_) && !spec->during_transfer) co_await wait_for_transfer();
    // RFC 959 4.1.3: RNTO must follow RNFR immediately.
    if (verb != "RNTO") rename_from_.reset();
    try {
        co_await (this->*(spec->handler))(std::move(argument));
    } catch (const std::exception& e) {
        context_.log.error("{} {} failed: {}", tag_, verb, e.what());
        reply(451, "Local error in processing");
    }
}

void Session::reply(int code, std::string_view text) {
    context_.log.debug("{} < {} {}", tag_, code, text);
    send(fmt::format("{} {}\r\n", code, text));
}

void Session::reply_lines(int code, std::string_view first, const std::vector<std::string>& lines,
                          std::string_view last) {
    std::string out = fmt::format("{}-{}\r\n", code, first);
    for (const auto& line : lines) out += " " + line + "\r\n";
    out += fmt::format("{} {}\r\n", code, last);
    context_.log.debug("{} < {} {} ({} lines)", tag_, code, first, lines.size());
    send(std::move(out));
}

void Session::send(std::string bytes) {
    if (closed_) return;
    outbox_bytes_ += bytes.size();
    outbox_.push_back(std::move(bytes));
    if (outbox_bytes_ > max_outbox_bytes) {
        context_.log.warning("{} does not read its replies; closing", tag_);
        close_control();
        return;
    }
    if (!writing_) {
        writing_ = true;
        outbox_flushed_.expires_at(Clock::time_point::max());
        asio::co_spawn(control_.get_executor(), write_outbox(shared_from_this()), asio::detached);
    }
}

asio::awaitable<void> Session::write_outbox(std::shared_ptr<Session> /*keep_alive*/) {
    while (!outbox_.empty() && !closed_) {
        // Every reply queued by now leaves in one write: the replies to pipelined commands
        // reach the client in one segment, not one send(2) and one wakeup each.
        std::string bytes = std::move(outbox_.front());
        outbox_.pop_front();
        while (!outbox_.empty()) {
            bytes += outbox_.front();
            outbox_.pop_front();
        }
        outbox_bytes_ = 0;
        auto sent = co_await within(context_.config.idle_timeout, write_control(asio::buffer(bytes)));
        if (!sent || std::get<0>(*sent)) {
            close_control();
            break;
        }
    }
    writing_ = false;
    outbox_flushed_.cancel();
    if (close_when_sent_) close_control();
}

asio::awaitable<void> Session::flush_outbox() {
    while (writing_ && !closed_) co_await outbox_flushed_.async_wait(use_tuple);
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> Session::read_control(asio::mutable_buffer buffer) {
    if (control_tls_) co_return co_await control_tls_->async_read_some(buffer, use_tuple);
    co_return co_await control_.async_read_some(buffer, use_tuple);
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> Session::write_control(asio::const_buffer buffer) {
    if (control_tls_) co_return co_await asio::async_write(*control_tls_, buffer, use_tuple);
    co_return co_await asio::async_write(control_, buffer, use_tuple);
}

asio::awaitable<bool> Session::secure_control(std::string_view why) {
    control_tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(control_, context_.tls->server());
    auto shaken = co_await within(read_limit().first,
                                  control_tls_->async_handshake(asio::ssl::stream_base::server, use_tuple));
    std::string failure;
    if (!shaken) failure = "no handshake within the idle timeout";
    else if (auto [ec] = *shaken; ec) failure = ec.message();
    if (!failure.empty()) {
        context_.log.warning("{} TLS handshake on the control connection ({}) failed: {}", tag_, why, failure);
        close_control();
        co_return false;
    }
    context_.log.info("{} control connection is TLS ({}, {})", tag_, why,
                      SSL_get_version(control_tls_->native_handle()));
    co_return true;
}

void Session::close_control() {
    if (closed_) return;
    closed_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    std::error_code ec;
    control_.shutdown(asio::socket_base::shutdown_both, ec);
    control_.close(ec);
}

bool Session::data_ready() {
    if (tls_required() && !protect_data_) {
        // RFC 4217 10: 521, the data connection cannot be opened with this PROT setting.
        reply(521, "Data connections must be protected (PROT P first)");
        return false;
    }
    if (kept_data_ || data_.mode() != DataChannel::Mode::none) return true;
    reply(425, "Use PORT, EPRT, PASV, EPSV, LSTN or SOCK first");
    return false;
}

void Session::start_transfer(std::string verb, std::string path, TransferPlan plan) {
    auto transfer = std::make_shared<Transfer>();
    transfer->verb = std::move(verb);
    transfer->path = std::move(path);
    if (protect_data_) transfer->tls = data_tls_role(sscn_, pairing_);
    transfer_ = transfer;
    ++transfers_started_;
    listening_for_sock_ = false;
    transfer_done_.expires_at(Clock::time_point::max());
    asio::co_spawn(control_.get_executor(), run_transfer(shared_from_this(), transfer, std::move(plan)),
                   asio::detached);
}

asio::awaitable<void> Session::run_transfer(std::shared_ptr<Session> /*keep_alive*/, std::shared_ptr<Transfer> transfer,
                                            TransferPlan plan) {
    const auto& config = context_.config;
    try {
        // A passive side answers 150 only once its data connection is there: the other server
        // of an RFC 438 pair may send its transfer command later, and must not be kept waiting.
        // ABOR may arrive in the same read as the transfer command, before this coroutine runs.
        const bool blocks = block_mode_;
        Expected<DataSocket> opened = Error(Errc::interrupted, "aborted");
        bool reused = false;
        if (!transfer->aborted && kept_data_) {
            // RFC 959 3.3: in block mode the EOF block, not the close, ends a file, so the
            // connection of the last transfer carries this one (reply 125).
            if (kept_data_alive()) {
                opened = std::move(*kept_data_);
                transfer->unread = std::exchange(kept_unread_, {});
                reused = true;
                kept_data_.reset();
            } else {
                opened = Error(Errc::connection_closed, "the kept data connection was closed by the peer");
                close_kept_data("closed by the peer");
            }
        } else if (!transfer->aborted) {
            auto socket = co_await data_.open(config.data_timeout);
            if (socket) opened = DataSocket(std::move(*socket));
            else opened = socket.error();
        }
        if (!opened) {
            if (transfer->aborted) {
                reply(426, "Connection closed; transfer aborted");
            } else {
                context_.log.warning("{} {} {}: {}", tag_, transfer->verb, transfer->path, opened.error().message);
                reply(425, "Can't open data connection: " + opened.error().message);
            }
            finish_transfer(transfer);
            co_return;
        }
        transfer->socket.emplace(std::move(*opened));
        std::string what = transfer->path;
        if (const auto* send = std::get_if<SendFile>(&plan); send && send->offset > 0)
            what += fmt::format(" from offset {}", send->offset);
        if (reused)
            reply(125, "Data connection already open; transfer starting.");
        else
            reply(150, fmt::format("Opening {} mode data connection for {}",
                                   std::holds_alternative<SendText>(plan) || !binary_ ? "ASCII" : "BINARY", what));
        auto& socket = *transfer->socket;
        if (transfer->tls && !reused && !transfer->aborted) {
            // RFC 4217 9: after the 1xx reply the data connection is secured before any data;
            // a peer playing the same TLS role never completes it (data-timeout).
            auto secured = co_await socket.secure(context_.tls->for_role(*transfer->tls), *transfer->tls,
                                                  config.data_timeout);
            if (!secured && !transfer->aborted) {
                context_.log.warning("{} {} {}: TLS on the data connection (this server the TLS {}) failed: {}", tag_,
                                     transfer->verb, transfer->path, role_name(*transfer->tls),
                                     secured.error().message);
                socket.close();
                reply(426, "Connection closed; transfer aborted: " + secured.error().message);
                finish_transfer(transfer);
                co_return;
            }
            if (secured)
                context_.log.info("{} {} {}: data connection is {}, this server the TLS {}", tag_, transfer->verb,
                                  transfer->path, socket.tls_version(), role_name(*transfer->tls));
        }
        transfer->progress.started = Clock::now();
        Status result = co_await std::visit(
            [&](const auto& step) -> asio::awaitable<Status> {
                using Step = std::decay_t<decltype(step)>;
                if constexpr (std::is_same_v<Step, SendFile>) {
                    if (blocks) return send_file_blocks(socket, step, transfer->progress, config.data_timeout);
                    return send_file(socket, step, transfer->progress, config.data_timeout);
                } else if constexpr (std::is_same_v<Step, ReceiveFile>) {
                    if (blocks)
                        return receive_file_blocks(socket, step, transfer->unread, transfer->progress,
                                                   config.data_timeout);
                    return receive_file(socket, step, transfer->progress, config.data_timeout);
                } else {
                    if (blocks) return send_text_blocks(socket, step, transfer->progress, config.data_timeout);
                    return send_text(socket, step, transfer->progress, config.data_timeout);
                }
            },
            plan);
        plan = SendText{}; // close the file before the reply: the client may read it at once
        if (blocks && result && !transfer->aborted) {
            // Block mode keeps the connection for the next transfer; any failure closes it.
            kept_data_ = std::move(transfer->socket);
            kept_unread_ = std::move(transfer->unread);
            transfer->socket.reset();
        } else if (result && !transfer->aborted) {
            co_await socket.close_gracefully(config.data_timeout);
        } else {
            socket.close();
        }
        const auto seconds = seconds_since(transfer->progress.started);
        const auto bytes = transfer->progress.bytes;
        const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0;
        if (transfer->aborted) {
            context_.log.info("transfer {} {} aborted bytes={} seconds={:.3f}", transfer->verb, transfer->path, bytes,
                              seconds);
            reply(426, "Connection closed; transfer aborted");
        } else if (!result) {
            context_.log.warning("transfer {} {} failed bytes={} seconds={:.3f}: {}", transfer->verb, transfer->path,
                                 bytes, seconds, result.error().message);
            if (result.error().code.category() == std::generic_category())
                reply(451, "Local error: " + result.error().message);
            else
                reply(426, "Connection closed; transfer aborted: " + result.error().message);
        } else {
            context_.log.info("transfer {} {} bytes={} seconds={:.3f} MB/s={:.1f} {}", transfer->verb, transfer->path,
                              bytes, seconds, rate, tag_);
            reply(226, fmt::format("Transfer complete, {} bytes", bytes));
        }
    } catch (const std::exception& e) {
        context_.log.error("{} transfer {} {} failed: {}", tag_, transfer->verb, transfer->path, e.what());
        reply(451, "Local error in processing");
    }
    finish_transfer(transfer);
}

void Session::finish_transfer(const std::shared_ptr<Transfer>& transfer) {
    if (transfer_ == transfer) transfer_.reset();
    transfer_done_.cancel();
}

void Session::abort_transfer() {
    if (!transfer_) return;
    transfer_->aborted = true;
    data_.cancel();
    if (transfer_->socket) {
        // The transfer coroutine closes the socket itself once its pending wait returns.
        std::error_code ec;
        transfer_->socket->tcp().shutdown(asio::socket_base::shutdown_both, ec);
        transfer_->socket->tcp().cancel(ec);
    }
}

asio::awaitable<void> Session::wait_for_transfer() {
    while (transfer_ || hashing_) co_await transfer_done_.async_wait(use_tuple);
}

asio::awaitable<bool> Session::wait_for_login_turn(const std::string& address) {
    // Checks run on the login pool, so attempts from one address overlap; while fewer than the
    // free attempts have failed, a full set of checks in flight is waited out, not counted as failures.
    const auto give_up = Clock::now() + context_.throttle.max_wait();
    while (context_.throttle.checks_full(address) && Clock::now() < give_up) {
        login_delay_.expires_after(std::chrono::milliseconds(20));
        auto [ec] = co_await login_delay_.async_wait(use_tuple);
        if (ec || closed_) co_return false;
    }
    const auto now = Clock::now();
    const auto turn = context_.throttle.admit(address, now);
    if (!turn) {
        // No tag: one line per address, so the log's repeat counting folds a flood of them.
        context_.log.warning("login from {} throttled: {} failed logins, refused with 421", address,
                             context_.throttle.failures_of(address));
        reply(421, "Too many failed logins from your address, try again later");
        close_when_sent_ = true;
        co_return false;
    }
    if (*turn > now) {
        context_.log.info("{} login throttled: {} failed logins from {}, this one checked in {:.1f} s", tag_,
                          context_.throttle.failures_of(address) - 1, address,
                          std::chrono::duration<double>(*turn - now).count());
        login_delay_.expires_at(*turn);
        auto [ec] = co_await login_delay_.async_wait(use_tuple);
        if (ec || closed_) {
            context_.throttle.abandoned(address);
            co_return false;
        }
    }
    co_return true;
}

void Session::cancel_hash(std::string_view why) {
    if (!hashing_ || hashing_->cancelled->load()) return;
    hashing_->why = why;
    hashing_->cancelled->store(true);
}

void Session::close_kept_data(std::string_view why) {
    kept_unread_.clear();
    if (!kept_data_) return;
    context_.log.info("{} kept data connection closed ({})", tag_, why);
    kept_data_->close();
    kept_data_.reset();
}

bool Session::kept_data_alive() {
    if (!kept_unread_.empty()) return true; // the next file's blocks, at least in part, are here
    // A peer that closed (0) or reset (error) it meanwhile; no data and no error: still open.
    char byte = 0;
    const auto peeked = ::recv(kept_data_->tcp().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked > 0 || (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

asio::awaitable<void> Session::transfer_command(asio::awaitable<void> prepare) {
    const auto started = transfers_started_;
    co_await std::move(prepare);
    if (block_mode_ && transfers_started_ == started) {
        close_kept_data("transfer command refused");
        data_.reset();
    }
}

std::string Session::status_lines_of_transfer() const {
    if (!transfer_) return {};
    return fmt::format("{} {}: {} bytes so far", transfer_->verb, transfer_->path, transfer_->progress.bytes);
}

} // namespace rsexec::server
