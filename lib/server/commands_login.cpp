// Login and session commands (RFC 959 4.1.1), FTP over TLS (RFC 4217) and SSCN/CPSV.
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

// ---- login (RFC 959 4.1.1) ------------------------------------------------------------------

asio::awaitable<void> Session::on_user(std::string argument) {
    access_.reset();
    pending_user_ = argument;
    if (is_anonymous_name(argument)) reply(331, "Anonymous login ok, send your e-mail address as password");
    else reply(331, "Password required for " + argument);
    co_return;
}

asio::awaitable<void> Session::on_pass(std::string argument) {
    if (!pending_user_) {
        reply(503, "Login with USER first");
        co_return;
    }
    const std::string name = *std::exchange(pending_user_, std::nullopt);
    const auto address = LoginThrottle::address_key(peer_.address());
    if (!co_await wait_for_login_turn(address)) co_return;
    std::optional<Access> granted;
    if (co_await asio::co_spawn(context_.logins.get_executor(), check_password(context_.config.accounts, name, argument),
                                asio::use_awaitable))
        granted = Access::read_write;
    if (!granted && is_anonymous_name(name) && context_.config.anonymous != AnonymousAccess::off)
        granted = context_.config.anonymous == AnonymousAccess::read_write ? Access::read_write : Access::read_only;
    if (granted) {
        context_.throttle.succeeded(address, name);
        access_ = granted;
        user_ = name;
        cwd_ = "/";
        context_.log.info("{} logged in as {} ({})", tag_, name, *granted == Access::read_write ? "rw" : "ro");
        reply(230, "Login successful");
        co_return;
    }
    ++failed_logins_;
    context_.log.warning("{} failed login as {}", tag_, name);
    // RFC 2577 5: slow down password guessing; an account guessed at from many places, more.
    const auto penalty = context_.throttle.failed(address, name, Clock::now());
    if (penalty > Clock::duration::zero())
        context_.log.warning("{} login as {} throttled: the account's failures hold this 530 {:.0f} s more", tag_,
                             name, std::chrono::duration<double>(penalty).count());
    login_delay_.expires_after(context_.config.login_delay + penalty);
    co_await login_delay_.async_wait(use_tuple);
    if (failed_logins_ >= context_.config.max_login_failures) {
        reply(421, "Too many failed logins, closing control connection");
        close_when_sent_ = true;
        co_return;
    }
    reply(530, "Login incorrect");
}

asio::awaitable<void> Session::on_quit(std::string) {
    close_kept_data("QUIT");
    reply(221, "Goodbye");
    close_when_sent_ = true;
    co_return;
}

asio::awaitable<void> Session::on_noop(std::string) {
    reply(200, "NOOP ok");
    co_return;
}

asio::awaitable<void> Session::on_syst(std::string) {
    reply(215, "UNIX Type: L8");
    co_return;
}

asio::awaitable<void> Session::on_feat(std::string) {
    reply_lines(211, "Features:", feature_lines(tls_enabled()), "End");
    co_return;
}

asio::awaitable<void> Session::on_opts(std::string argument) {
    const auto space = argument.find(' ');
    const auto option = upper(std::string_view(argument).substr(0, space));
    const auto value = space == std::string::npos ? std::string{} : upper(std::string_view(argument).substr(space + 1));
    if (option == "UTF8" && (value.empty() || value == "ON")) reply(200, "Always in UTF8 mode");
    else if (option == "HASH" && (value.empty() || value == "SHA-256")) reply(200, "SHA-256");
    else if (option == "HASH") reply(501, "Unknown algorithm, only SHA-256");
    else if (option == "MLST") reply(200, "MLST OPTS type;size;modify;perm;");
    else reply(501, "Option not understood");
    co_return;
}

asio::awaitable<void> Session::on_help(std::string) {
    std::string verbs;
    for (const auto* verb : {"USER", "PASS", "QUIT", "NOOP", "SYST", "FEAT", "OPTS", "TYPE", "MODE", "STRU",
                             "PWD", "CWD", "CDUP", "PASV", "EPSV", "PORT", "EPRT", "LSTN", "SOCK", "RETR", "STOR",
                             "APPE", "REST", "SIZE", "MDTM", "MFMT", "LIST", "NLST", "MLSD", "MLST", "DELE", "MKD", "RMD",
                             "RNFR", "RNTO", "ABOR", "STAT", "HASH", "XSHA256"}) {
        verbs += verbs.empty() ? "" : " ";
        verbs += verb;
    }
    if (tls_enabled()) verbs += " AUTH PBSZ PROT SSCN CPSV";
    reply_lines(214, "The following commands are recognized:", {verbs}, "Help OK");
    co_return;
}

// ---- FTP over TLS (RFC 4217) and server-to-server TLS (SSCN, CPSV) -------------------------

asio::awaitable<void> Session::on_auth(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "AUTH not available: this server has no certificate (--tls-cert)");
        co_return;
    }
    if (control_tls_) {
        reply(503, "Already using TLS");
        co_return;
    }
    const auto mechanism = upper(argument);
    if (mechanism != "TLS" && mechanism != "TLS-C" && mechanism != "SSL") {
        reply(504, "AUTH TLS, TLS-C or SSL only");
        co_return;
    }
    // RFC 4217 4: the security state (and the login) starts over under TLS.
    access_.reset();
    pending_user_.reset();
    login_started_ = Clock::now(); // a new login, with its own --login-timeout
    pbsz_ = false;
    protect_data_ = false;
    close_kept_data("AUTH");
    data_.reset();
    reply(234, "AUTH " + mechanism + " OK, starting TLS negotiation");
    co_await flush_outbox();
    if (closed_) co_return;
    // Anything the client sent after AUTH and before the handshake came in the clear: taking it
    // as commands would let an attacker on the path inject them into the protected session.
    if (const auto dropped = framer_.discard(); dropped > 0)
        context_.log.warning("{} {} clear bytes after AUTH dropped", tag_, dropped);
    co_await secure_control("AUTH " + mechanism);
}

asio::awaitable<void> Session::on_pbsz(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    if (!control_tls_) {
        reply(503, "PBSZ needs AUTH TLS first");
        co_return;
    }
    std::uint64_t size = 0;
    const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), size);
    if (ec != std::errc{} || end != argument.data() + argument.size()) {
        reply(501, "PBSZ needs a number");
        co_return;
    }
    // RFC 4217 8: TLS is a streaming protection, the buffer size is always 0.
    pbsz_ = true;
    reply(200, "PBSZ=0");
}

asio::awaitable<void> Session::on_prot(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    if (!control_tls_) {
        reply(503, "PROT needs AUTH TLS first");
        co_return;
    }
    const auto level = upper(argument);
    if (level == "P") {
        if (!pbsz_) {
            reply(503, "PROT needs PBSZ first");
            co_return;
        }
        protect_data_ = true;
    } else if (level == "C") {
        if (tls_required()) {
            reply(536, "PROT C refused: this server requires protected data connections");
            co_return;
        }
        protect_data_ = false;
    } else if (level == "S" || level == "E") {
        // RFC 4217 9: TLS offers no integrity-only or confidentiality-only level.
        reply(536, "Only PROT C and P are supported");
        co_return;
    } else {
        reply(504, "PROT takes C or P");
        co_return;
    }
    // A data connection kept in block mode has the old protection level.
    close_kept_data("PROT");
    reply(200, "Protection level set to " + level);
}

asio::awaitable<void> Session::on_sscn(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    const auto setting = upper(argument);
    if (setting == "ON") sscn_ = Sscn::on;
    else if (setting == "OFF") sscn_ = Sscn::off;
    else if (!setting.empty()) {
        reply(501, "SSCN takes ON, OFF or nothing");
        co_return;
    }
    reply(200, sscn_ == Sscn::on ? "SSCN:CLIENT METHOD" : "SSCN:SERVER METHOD");
}

asio::awaitable<void> Session::on_cpsv(std::string) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    co_await on_pasv({});
    // PASV, but this server is the TLS client on the connection it accepts (one transfer).
    if (data_.mode() == DataChannel::Mode::passive) pairing_ = Pairing::cpsv;
}

} // namespace rsexec::server
