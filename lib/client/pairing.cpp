#include "client/pairing.hpp"

#include "ftp/address_refusal.hpp"
#include "client/data_protection.hpp"

namespace rsexec {
namespace {

// The socket to hand to the other server: the announced port, and by default the address the
// listener's control connection reached rather than whatever host the reply names.
HostPort forwardable(const HostPort& announced, const ControlSession& announcer, const PairingOptions& options) {
    if (options.trust_announced_address) return announced;
    return {ip_address_of(announcer.peer_address()), announced.port};
}

// One pairing command that must get a reply of `reply_class`.
asio::awaitable<Expected<Reply>> step(ControlSession& session, int reply_class, std::string_view verb,
                                      std::string_view argument) {
    auto reply = co_await session.command(verb, argument);
    if (!reply) co_return reply;
    if (reply->code / 100 != reply_class)
        co_return pairing_step_refused(session, std::string(verb) + " " + std::string(argument), *reply);
    co_return reply;
}

asio::awaitable<Expected<PairingStep>> pair_rfc438(ControlSession& listener, ControlSession& connector,
                                                  bool listener_sends, const PairingOptions& options) {
    auto listening = co_await step(listener, 2, "LSTN", listener_sends ? "S" : "R");
    if (!listening) co_return listening.error();
    auto x = parse_sock_reply(listening->text());
    if (!x) co_return Error(x.error().code, "LSTN: " + x.error().message, listener.side());

    auto connecting = co_await step(connector, 2, "SOCK", format_sock_argument(forwardable(*x, listener, options)));
    if (!connecting) co_return connecting.error();
    auto y = parse_sock_reply(connecting->text());
    if (!y) co_return Error(y.error().code, "SOCK: " + y.error().message, connector.side());

    // RFC 438 rule 2: the listener accepts only the connector's own socket.
    co_return PairingStep{&listener, {"SOCK", format_sock_argument(forwardable(*y, connector, options))}};
}

asio::awaitable<Expected<PairingStep>> pair_announced(Dialect dialect, ControlSession& listener,
                                                      ControlSession& connector, const PairingOptions& options) {
    std::vector<ControlSession::Command> commands{{options.cpsv ? "CPSV" : listen_verb(dialect), ""}};
    const auto pin = passive_pin(dialect, listener, connector);
    if (pin) commands.push_back(*pin);
    if (auto sent = co_await listener.send_all(commands); !sent) co_return sent.error();
    auto passive = co_await listener.read_reply();
    if (!passive) co_return passive.error();
    std::optional<Expected<Reply>> pinned;
    if (pin) pinned = co_await listener.read_reply(); // read even after a refused PASV: in step
    if (!passive->completion()) co_return pairing_step_refused(listener, commands.front().verb, *passive);
    if (pinned && !*pinned) co_return pinned->error();
    if (pinned && !(*pinned)->completion()) co_return pairing_step_refused(listener, "SOCK " + pin->argument, **pinned);
    auto command = connect_command(dialect, *passive, listener, options);
    if (!command) co_return command.error();
    co_return PairingStep{&connector, {command->verb, command->argument}};
}

Side other(Side side) { return side == Side::source ? Side::destination : Side::source; }

} // namespace

const char* dialect_name(Dialect dialect) noexcept {
    switch (dialect) {
    case Dialect::rfc438: return "rfc438";
    case Dialect::pasv: return "pasv";
    case Dialect::epsv: return "epsv";
    }
    return "?";
}

std::optional<Dialect> parse_dialect(std::string_view name) {
    if (name == "rfc438") return Dialect::rfc438;
    if (name == "pasv") return Dialect::pasv;
    if (name == "epsv") return Dialect::epsv;
    return std::nullopt;
}

asio::awaitable<Expected<PairingStep>> pair_sessions_but_last(Dialect dialect, ControlSession& listener,
                                                              ControlSession& connector, bool listener_sends,
                                                              const PairingOptions& options) {
    switch (dialect) {
    case Dialect::rfc438: co_return co_await pair_rfc438(listener, connector, listener_sends, options);
    case Dialect::pasv:
    case Dialect::epsv: co_return co_await pair_announced(dialect, listener, connector, options);
    }
    co_return Error(Errc::pairing_refused, "unknown dialect");
}

asio::awaitable<Status> pair_sessions(Dialect dialect, ControlSession& listener, ControlSession& connector,
                                      bool listener_sends, const PairingOptions& options) {
    auto last = co_await pair_sessions_but_last(dialect, listener, connector, listener_sends, options);
    if (!last) co_return last.error();
    auto done = co_await step(*last->session, 2, last->command.verb, last->command.argument);
    if (!done) co_return done.error();
    co_return success();
}

Error pairing_step_refused(const ControlSession& session, std::string_view command, const Reply& reply) {
    Error error = session.refused(command, reply);
    if (refuses_peer_address(reply)) error.code = make_error_code(Errc::pairing_refused);
    return error;
}

bool pipelines_behind_transfers(const Features& features, std::string_view greeting) {
    return features.has("LSTN") || greeting.find("vsFTPd") != std::string_view::npos;
}

bool reads_commands_while_waiting(const Features& features) { return features.has("LSTN"); }

Expected<DataProtection> plan_data_protection(const ControlSession& source, const ControlSession& destination,
                                             const PairingAttempt& attempt) {
    ProtectionInputs inputs;
    inputs.source_protected = source.can_protect_data();
    inputs.destination_protected = destination.can_protect_data();
    inputs.source = &source.features();
    inputs.destination = &destination.features();
    inputs.allow_clear_data = source.options().tls.allow_clear_data;
    inputs.method = parse_tls_client_method(source.options().tls.tls_client_method).value_or(TlsClientMethod::automatic);
    return plan_data_protection(inputs, attempt);
}

asio::awaitable<Status> apply_data_protection(ControlSession& source, ControlSession& destination,
                                              const DataProtection& plan) {
    for (ControlSession* session : {&source, &destination}) {
        if (!session->tls_active()) continue;
        if (session->data_protection() != plan.level) {
            auto level = co_await session->expect(2, "PROT", std::string(1, plan.level));
            if (!level) co_return level.error();
            session->set_data_protection(plan.level);
        }
        const bool client = plan.sscn == session->side();
        if (session->tls_client_on_data() != client) {
            auto sscn = co_await session->expect(2, "SSCN", client ? "ON" : "OFF");
            if (!sscn) {
                Error error = sscn.error();
                error.code = make_error_code(Errc::tls_failed);
                co_return error;
            }
            session->set_tls_client_on_data(client);
        }
    }
    co_return success();
}

const char* listen_verb(Dialect dialect) noexcept {
    switch (dialect) {
    case Dialect::rfc438: return "LSTN";
    case Dialect::pasv: return "PASV";
    case Dialect::epsv: return "EPSV";
    }
    return "?";
}

Expected<ConnectCommand> connect_command(Dialect dialect, const Reply& announcement, const ControlSession& listener,
                                         const PairingOptions& options) {
    if (dialect == Dialect::epsv) {
        auto port = parse_epsv_reply(announcement.text());
        if (!port) return Error(port.error().code, "EPSV: " + port.error().message, listener.side());
        // RFC 2428 3: EPSV names no address; it is the one the control connection reached.
        return ConnectCommand{"EPRT", format_eprt_argument(HostPort{ip_address_of(listener.peer_address()), *port})};
    }
    if (dialect == Dialect::pasv) {
        auto announced = parse_pasv_reply(announcement.text());
        if (!announced) return Error(announced.error().code, "PASV: " + announced.error().message, listener.side());
        auto port = format_port_argument(forwardable(*announced, listener, options));
        if (!port) return Error(port.error().code, port.error().message, listener.side());
        return ConnectCommand{"PORT", std::move(*port)};
    }
    // RFC 438: the connector's SOCK names the socket the listener's LSTN announced; the pin that
    // ends the three steps (or a host pin sent with the LSTN) is the caller's.
    auto socket = parse_sock_reply(announcement.text());
    if (!socket) return Error(socket.error().code, "LSTN: " + socket.error().message, listener.side());
    return ConnectCommand{"SOCK", format_sock_argument(forwardable(*socket, listener, options))};
}

std::optional<ControlSession::Command> passive_pin(Dialect dialect, const ControlSession& listener,
                                                   const ControlSession& connector) {
    if (dialect == Dialect::rfc438 || !listener.features().has("LSTN")) return std::nullopt;
    // The connector's data connection comes from the address its control connection reached,
    // as servers bind it (rfc438 forwards that address too); PORT/EPRT leave the port to it.
    return host_pin(connector);
}

ControlSession::Command host_pin(const ControlSession& connector) {
    return ControlSession::Command{"SOCK", format_sock_argument(host_port_of(Endpoint(connector.peer_address(), 0)))};
}

std::vector<PairingAttempt> pairing_plan(const Features& source, const Features& destination,
                                         Side preferred_listener, std::optional<Dialect> forced, bool ipv6) {
    std::vector<Dialect> dialects;
    if (forced) {
        dialects.push_back(*forced);
    } else {
        if (source.has("LSTN") && destination.has("LSTN")) dialects.push_back(Dialect::rfc438);
        // Servers list EPSV more often than EPRT; either means RFC 2428 support.
        const auto speaks_2428 = [](const Features& f) { return f.has("EPSV") || f.has("EPRT"); };
        if (ipv6 || (speaks_2428(source) && speaks_2428(destination))) dialects.push_back(Dialect::epsv);
        if (!ipv6) dialects.push_back(Dialect::pasv);
    }
    std::vector<PairingAttempt> plan;
    for (const auto dialect : dialects) {
        plan.push_back({dialect, preferred_listener});
        plan.push_back({dialect, other(preferred_listener)});
    }
    return plan;
}

} // namespace rsexec
