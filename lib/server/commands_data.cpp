// Data connection set-up: TYPE, STRU, ALLO, REST, PASV, EPSV, PORT, EPRT and RFC 438 LSTN/SOCK.
#include "server/commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "ftp/address.hpp"
#include "server/checksum.hpp"
#include "server/endpoint.hpp"
#include "server/listing.hpp"
#include "server/session.hpp"
#include "command_helpers.hpp"

namespace rsexec::server {
using namespace command_helpers;

// ---- transfer parameters (RFC 959 4.1.2) ---------------------------------------------------

asio::awaitable<void> Session::on_type(std::string argument) {
    const auto type = upper(argument);
    // TYPE A is accepted and served as binary: files move byte for byte (docs/PROTOCOL.md).
    if (type == "A" || type == "A N") {
        binary_ = false;
        reply(200, "Switching to ASCII mode");
    } else if (type == "I" || type == "L 8") {
        binary_ = true;
        reply(200, "Switching to Binary mode");
    } else {
        reply(504, "Command not implemented for that parameter");
    }
    co_return;
}

asio::awaitable<void> Session::on_stru(std::string argument) {
    if (equals_nocase(argument, "F")) reply(200, "Structure set to F");
    else reply(504, "Only file structure is supported");
    co_return;
}

asio::awaitable<void> Session::on_allo(std::string) {
    reply(202, "ALLO not needed");
    co_return;
}

asio::awaitable<void> Session::on_rest(std::string argument) {
    std::uint64_t offset = 0;
    const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), offset);
    if (ec != std::errc{} || end != argument.data() + argument.size()) {
        reply(501, "REST needs a byte offset");
        co_return;
    }
    restart_offset_ = offset;
    reply(350, fmt::format("Restarting at {}. Send STOR or RETR", offset));
}

// ---- data connection set-up (RFC 959 4.1.2, RFC 2428, RFC 438) ----------------------------

asio::awaitable<void> Session::on_pasv(std::string) {
    close_kept_data("PASV");
    listening_for_sock_ = false;
    if (!plain_address(local_.address()).is_v4()) {
        reply(425, "PASV needs IPv4; use EPSV");
        co_return;
    }
    pairing_ = Pairing::ordinary;
    auto where = data_.listen();
    if (!where) reply(425, "Can't open passive connection");
    else reply(227, format_pasv_reply_text(host_port_of(*where)));
    // A SOCK next pins the peer, as after LSTN (RFC 438 rule 2): with --fxp-peers, any listed
    // host could otherwise take the data connection.
    listening_for_sock_ = where.has_value();
}

asio::awaitable<void> Session::on_epsv(std::string argument) {
    close_kept_data("EPSV");
    listening_for_sock_ = false;
    if (equals_nocase(argument, "ALL")) {
        epsv_all_ = true;
        reply(200, "EPSV ALL ok: EPSV alone sets up data connections from now on");
        co_return;
    }
    const char* family = plain_address(local_.address()).is_v4() ? "1" : "2";
    if (!argument.empty() && argument != family) {
        // RFC 2428 3: name the protocol the server can use.
        reply(522, fmt::format("Network protocol not supported, use ({})", family));
        co_return;
    }
    pairing_ = Pairing::ordinary;
    auto where = data_.listen();
    if (!where) reply(425, "Can't open passive connection");
    else reply(229, format_epsv_reply_text(where->port()));
    listening_for_sock_ = where.has_value(); // SOCK pins, as after PASV
}

bool Session::refuse_data_target(std::string_view verb, const Endpoint& target) {
    const auto refusal = check_data_target(context_.config.data_peers, peer_.address(), target);
    if (refusal == TargetRefusal::none) return false;
    context_.log.warning("{} refused {} {}: {}", tag_, verb, endpoint_text(target), describe(refusal));
    reply(504, std::string(verb) + " refused: " + describe(refusal));
    return true;
}

asio::awaitable<void> Session::on_port(std::string argument) {
    close_kept_data("PORT");
    listening_for_sock_ = false;
    auto target = to_endpoint(parse_port_argument(argument));
    if (!target) {
        reply(501, "Bad PORT argument");
        co_return;
    }
    if (refuse_data_target("PORT", *target)) co_return;
    data_.connect_to(*target);
    pairing_ = Pairing::ordinary;
    reply(200, "PORT command successful");
}

asio::awaitable<void> Session::on_eprt(std::string argument) {
    close_kept_data("EPRT");
    listening_for_sock_ = false;
    auto target = to_endpoint(parse_eprt_argument(argument));
    if (!target) {
        reply(501, "Bad EPRT argument");
        co_return;
    }
    if (plain_address(target->address()).is_v4() != plain_address(local_.address()).is_v4()) {
        reply(522, fmt::format("Network protocol not supported, use ({})",
                               plain_address(local_.address()).is_v4() ? "1" : "2"));
        co_return;
    }
    if (refuse_data_target("EPRT", *target)) co_return;
    data_.connect_to(*target);
    pairing_ = Pairing::ordinary;
    reply(200, "EPRT command successful");
}

asio::awaitable<void> Session::on_lstn(std::string argument) {
    close_kept_data("LSTN");
    // RFC 438 rule 1: R (this side will receive) or S (send) is advisory.
    if (!argument.empty() && !equals_nocase(argument, "R") && !equals_nocase(argument, "S")) {
        reply(501, "LSTN takes R, S or nothing");
        co_return;
    }
    auto where = data_.listen();
    if (!where) {
        reply(425, "Can't open listening socket");
        co_return;
    }
    listening_for_sock_ = true;
    pairing_ = Pairing::ordinary; // the listener is the TLS server (RFC 438 pairing, tls.hpp)
    reply(255, "SOCK " + format_sock_argument(host_port_of(*where)));
}

asio::awaitable<void> Session::on_sock(std::string argument) {
    close_kept_data("SOCK");
    auto target = to_endpoint(parse_sock_argument(argument));
    if (!target) {
        reply(501, "Bad SOCK argument");
        co_return;
    }
    if (refuse_data_target("SOCK", *target)) co_return;
    if (std::exchange(listening_for_sock_, false) && data_.mode() == DataChannel::Mode::passive) {
        // RFC 438 rule 2: only the named socket may connect to our listening socket.
        data_.pin(*target);
        const auto address = plain_address(target->address()).to_string();
        reply(200, target->port() == 0 ? fmt::format("Only {} (any port) may connect", address)
                                       : fmt::format("Only {} may connect", endpoint_text(*target)));
        co_return;
    }
    if (target->port() == 0) {
        reply(501, "SOCK without LSTN needs a port to connect to");
        co_return;
    }
    auto local = data_.bind_and_connect_to(*target);
    if (!local) {
        reply(425, "Can't bind data socket");
        co_return;
    }
    pairing_ = Pairing::rfc438_connect; // the connector is the TLS client unless SSCN says otherwise
    // Our own data socket, so the listening server can pin it.
    reply(255, "SOCK " + format_sock_argument(host_port_of(*local)));
}

} // namespace rsexec::server
