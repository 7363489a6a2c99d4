// rsexecd: parses the command line into a ServerConfig and serves. Everything else is in
// lib/server.
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cxxopts.hpp>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include "config_file.hpp"
#include "server/server.hpp"
#include "server/users_file.hpp"
#include "version.hpp"

namespace {

using rsexec::server::AnonymousAccess;
using rsexec::server::ServerConfig;
using rsexec::server::TlsMode;

const char* const examples = R"(
Examples:
  # Anonymous read-only FTP of /srv/pub on port 2121 of every IPv4 address:
  rsexecd --root /srv/pub --bind 0.0.0.0 --port 2121 --anonymous ro

  # Two servers for a server-to-server (RFC 438 LSTN/SOCK or PASV/PORT) transfer on one host:
  rsexecd --root /tmp/a --bind 127.0.0.2 --port 0 --user alice:secret --fxp-peers 127.0.0.0/8
  rsexecd --root /tmp/b --bind 127.0.0.3 --port 0 --user alice:secret --fxp-peers 127.0.0.0/8

  # Logins kept out of ps: one NAME:HASH a line, readable by rsexecd's user only:
  (umask 077; echo alice:$(openssl passwd -6) > users)    # openssl asks for the password
  rsexecd --root /srv/ftp --users-file users

  # FTPS (RFC 4217): AUTH TLS offered; clients that want it send AUTH TLS, PBSZ 0, PROT P:
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=ftp.example.org \
      -addext subjectAltName=DNS:ftp.example.org -keyout key.pem -out cert.pem
  rsexecd --root /srv/ftp --bind 0.0.0.0 --user alice:secret --tls-cert cert.pem --tls-key key.pem

  # The same, refusing any login or data connection without TLS; or TLS from the first
  # byte (implicit FTPS, as ftps:// on port 990 expects):
  rsexecd ... --tls-cert cert.pem --tls-key key.pem --tls required
  rsexecd ... --tls-cert cert.pem --tls-key key.pem --implicit-tls --port 990

  # Server-to-server with TLS on the data connection: one of the two servers must be the TLS
  # client there. The controlling client sends SSCN ON to it (or CPSV instead of PASV); with
  # LSTN/SOCK the server that connects (SOCK without LSTN) is the TLS client by itself.

rsexecd prints "rsexecd listening on ADDR:PORT" on stdout once it accepts connections, logs
one line per command and per transfer on stderr (passwords never), and stops on SIGINT or
SIGTERM. Data connections to ports below 1024 are always refused (504).

--fxp-peers: PASV and EPSV then accept the first data connection from ANY listed host, so
another listed host can take the data (or send its own) unless the client pins the peer: a
"SOCK h1,h2,h3,h4,p1,p2" (or "SOCK |1|addr|port|"; port 0: any port of that host) right after
PASV or EPSV, as after RFC 438 LSTN, admits only that socket. rsexec sends it to every server
that lists LSTN. List only the hosts you mean to pair with.
)";

// A bad value of a numeric option: rsexecd stops (exit 2) with this message, which names it.
struct BadOption : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The longest wait an option may set (a year): far from where seconds * 1000 stops fitting a long long.
constexpr double max_seconds = 365.0 * 24 * 3600;

// A whole number from `min` to `max` given as --NAME. Read as text here rather than by cxxopts,
// whose errors do not name the option and which takes "-1" as a huge unsigned.
std::uint64_t count_option(const cxxopts::ParseResult& args, const std::string& name, std::uint64_t min,
                           std::uint64_t max) {
    const auto text = args[name].as<std::string>();
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
        throw BadOption("--" + name + " must be a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", not '" + text + "'");
    return value;
}

// Seconds given as --NAME: finite, not negative (and at least a millisecond unless `zero_allowed`),
// at most max_seconds, so the conversion to milliseconds is always defined.
std::chrono::milliseconds seconds_option(const cxxopts::ParseResult& args, const std::string& name,
                                         bool zero_allowed) {
    const auto text = args[name].as<std::string>();
    char* end = nullptr;
    errno = 0;
    const double seconds = text.empty() ? -1.0 : std::strtod(text.c_str(), &end);
    const double lowest = zero_allowed ? 0.0 : 0.001;
    if (text.empty() || errno != 0 || end != text.c_str() + text.size() || !std::isfinite(seconds) ||
        seconds < lowest || seconds > max_seconds)
        throw BadOption("--" + name + " must be a number of seconds from " + (zero_allowed ? "0" : "0.001") +
                        " to " + std::to_string(static_cast<long long>(max_seconds)) + ", not '" + text + "'");
    return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

} // namespace

int main(int argc, char** argv) {
    // sendfile(2) to a data peer that has hung up raises SIGPIPE; the transfer must fail with
    // 426, not the whole server with it.
    std::signal(SIGPIPE, SIG_IGN);
    cxxopts::Options options("rsexecd",
                             "rsexecd - a small FTP server (RFC 959, 2428, 3659) that also speaks RFC 438's LSTN and "
                             "SOCK for server-to-server transfer, and MFMT (draft-somers-ftp-mfxx) to set files' "
                             "modification times.");
    options.add_options()
        ("root", "Directory served as \"/\"; no path ever leaves it: .. stops at it, a symlink leading out "
                 "gets 550, STOR and APPE through any symlink get 553",
         cxxopts::value<std::string>())
        ("bind", "Address to listen on (IPv4 or IPv6)", cxxopts::value<std::string>()->default_value("127.0.0.1"))
        ("port", "Port to listen on; 0 picks a free one (see the 'listening on' line)",
         cxxopts::value<std::string>()->default_value("2121"))
        ("user", "A read-write login NAME:PASSWORD; repeat for more users. The password shows in ps and "
                 "/proc: prefer --users-file", cxxopts::value<std::vector<std::string>>())
        ("users-file", "Read-write logins from FILE, one NAME:HASH a line ('#' comments), HASH a crypt(3) hash "
                       "(openssl passwd -6, -5, or yescrypt $y$); refuses to start on a bad line or a plain-text "
                       "password, warns unless the file is chmod 600", cxxopts::value<std::string>())
        ("anonymous", "Anonymous login (USER anonymous or ftp): off, ro (read-only) or rw",
         cxxopts::value<std::string>()->default_value("off"))
        ("fxp-peers", "Hosts other than the client's own that data connections may go to or come from, for "
                      "server-to-server transfer: comma-separated CIDR blocks (127.0.0.0/8,::1/128) or 'any'. Any "
                      "listed host may then take a PASV/EPSV data connection unless SOCK pins one (below)",
         cxxopts::value<std::string>()->default_value(""))
        ("idle-timeout", "Seconds without a command before the control connection is closed (421)",
         cxxopts::value<std::string>()->default_value("300"))
        ("data-timeout", "Seconds to wait for a data connection, or for a stalled one to move (425/426)",
         cxxopts::value<std::string>()->default_value("30"))
        ("login-delay", "Seconds to wait before answering a failed PASS. Beyond that, failed logins are counted per "
                        "address across connections: after 5, attempts are spaced 1, 2, 4 ... s apart, and refused "
                        "(421) when the wait would pass 10 s",
         cxxopts::value<std::string>()->default_value("1"))
        ("max-per-ip", "Control connections allowed at once from one address (421 beyond)",
         cxxopts::value<std::string>()->default_value("50"))
        ("max-sessions", "Control connections allowed at once in all (421 beyond). Each session may hold 4 "
                         "descriptors (control, data listener, data connection, file): 256 fit the usual "
                         "'ulimit -n' of 1024",
         cxxopts::value<std::string>()->default_value("256"))
        ("max-hash-size", "Largest file HASH and XSHA256 will read, in bytes (450 beyond): what one command can "
                          "make the server read. 8 GiB is some 10-30 s of one hashing thread; raise it to verify "
                          "larger copies with rsexec --verify checksum",
         cxxopts::value<std::string>()->default_value("8589934592"))
        ("login-timeout", "Seconds from connecting to a completed login (421 and close after); commands before "
                          "login do not extend it",
         cxxopts::value<std::string>()->default_value("30"))
        ("line-timeout", "Seconds from a command line's first byte to its end (421 and close after)",
         cxxopts::value<std::string>()->default_value("10"))
        ("max-line", "Longest command line in bytes; a longer one gets 500 and is dropped",
         cxxopts::value<std::string>()->default_value("4096"))
        ("tls-cert", "PEM certificate chain (leaf first): enables FTPS (RFC 4217 AUTH TLS, PBSZ, PROT; SSCN and "
                     "CPSV for server-to-server TLS)", cxxopts::value<std::string>())
        ("tls-key", "PEM private key of --tls-cert", cxxopts::value<std::string>())
        ("tls", "With a certificate: 'optional' (clients choose) or 'required' (530 to USER and the like "
                "before AUTH TLS, 521 to transfers without PROT P, 536 to PROT C)",
         cxxopts::value<std::string>()->default_value("optional"))
        ("implicit-tls", "TLS from the first byte of every control connection (implicit FTPS, ftps://); "
                         "the port is still --port")
        ("log-level", "error, warning, info or debug (debug also logs replies)",
         cxxopts::value<std::string>()->default_value("info"))
        ("q,quiet", "Log warnings and errors only (--log-level warning)")
        ("v,verbose", "Log replies too (--log-level debug)")
        ("config", "Read options from FILE first: one 'key = value' per line, the keys being these long "
                   "options without '--' ('#' comments; a flag alone or '= true'; list options such as user "
                   "repeated); options on the command line win", cxxopts::value<std::string>())
        ("version", "Print the version (and the git commit it was built from)")
        ("h,help", "Show this help");

    try {
        const auto parsed = rsexec::rsexecd::parse_with_config_file(options, argc, argv, std::cerr);
        if (!parsed) return 2;
        const auto& args = *parsed;
        if (args.count("help")) {
            std::cout << options.help() << examples;
            return 0;
        }
        if (args.count("version")) {
            std::cout << rsexec::app::version_line("rsexecd") << '\n';
            return 0;
        }
        if (!args.count("root")) {
            std::cerr << "rsexecd: --root is required (try --help)\n";
            return 2;
        }
        ServerConfig config;
        config.root = args["root"].as<std::string>();
        std::error_code ec;
        config.bind_address = asio::ip::make_address(args["bind"].as<std::string>(), ec);
        if (ec) {
            std::cerr << "rsexecd: --bind: not an IP address: " << args["bind"].as<std::string>() << '\n';
            return 2;
        }
        config.port = static_cast<std::uint16_t>(count_option(args, "port", 0, 65535));
        if (args.count("user")) {
            for (const auto& user : args["user"].as<std::vector<std::string>>()) {
                const auto colon = user.find(':');
                if (colon == std::string::npos || colon == 0) {
                    std::cerr << "rsexecd: --user wants NAME:PASSWORD\n";
                    return 2;
                }
                config.accounts.push_back({user.substr(0, colon), user.substr(colon + 1), {}});
            }
        }
        if (args.count("users-file")) {
            auto users = rsexec::server::read_users_file(args["users-file"].as<std::string>());
            for (const auto& warning : users.warnings) std::cerr << "rsexecd: warning: --users-file " << warning << '\n';
            for (const auto& error : users.errors) std::cerr << "rsexecd: --users-file " << error << '\n';
            if (!users.errors.empty()) return 2;
            for (auto& account : users.accounts) config.accounts.push_back(std::move(account));
        }
        const auto anonymous = args["anonymous"].as<std::string>();
        if (anonymous == "off") config.anonymous = AnonymousAccess::off;
        else if (anonymous == "ro") config.anonymous = AnonymousAccess::read_only;
        else if (anonymous == "rw") config.anonymous = AnonymousAccess::read_write;
        else {
            std::cerr << "rsexecd: --anonymous must be off, ro or rw\n";
            return 2;
        }
        auto peers = rsexec::server::PeerPolicy::parse(args["fxp-peers"].as<std::string>());
        if (!peers) {
            std::cerr << "rsexecd: --fxp-peers: " << peers.error().message << '\n';
            return 2;
        }
        config.data_peers = *peers;
        config.idle_timeout = seconds_option(args, "idle-timeout", false);
        config.data_timeout = seconds_option(args, "data-timeout", false);
        config.login_delay = seconds_option(args, "login-delay", true);
        config.max_per_ip = count_option(args, "max-per-ip", 1, 1'000'000);
        config.max_line = count_option(args, "max-line", 64, 1 << 20);
        config.max_sessions = count_option(args, "max-sessions", 1, 1'000'000);
        config.max_hash_size = count_option(args, "max-hash-size", 0, std::numeric_limits<std::int64_t>::max());
        config.login_timeout = seconds_option(args, "login-timeout", false);
        config.line_timeout = seconds_option(args, "line-timeout", false);
        if (!rsexec::server::parse_log_level(args["log-level"].as<std::string>(), config.log_level)) {
            std::cerr << "rsexecd: --log-level must be error, warning, info or debug\n";
            return 2;
        }
        const bool has_cert = args.count("tls-cert") > 0;
        if (has_cert != (args.count("tls-key") > 0)) {
            std::cerr << "rsexecd: --tls-cert and --tls-key go together\n";
            return 2;
        }
        const auto tls = args["tls"].as<std::string>();
        if (tls != "optional" && tls != "required") {
            std::cerr << "rsexecd: --tls must be optional or required\n";
            return 2;
        }
        if (!has_cert && (args.count("tls") > 0 || args.count("implicit-tls"))) {
            std::cerr << "rsexecd: --tls and --implicit-tls need --tls-cert and --tls-key\n";
            return 2;
        }
        if (has_cert) {
            config.tls.mode = tls == "required" ? TlsMode::required : TlsMode::optional;
            config.tls.certificate = args["tls-cert"].as<std::string>();
            config.tls.key = args["tls-key"].as<std::string>();
            config.tls.implicit = args.count("implicit-tls") > 0;
        }
        if (args.count("quiet")) config.log_level = rsexec::server::LogLevel::warning;
        if (args.count("verbose")) config.log_level = rsexec::server::LogLevel::debug;

        rsexec::server::Logger log(config.log_level);
        return rsexec::server::serve(std::move(config), log, stdout);
    } catch (const BadOption& e) {
        std::cerr << "rsexecd: " << e.what() << '\n';
        return 2;
    } catch (const cxxopts::exceptions::exception& e) {
        std::cerr << "rsexecd: " << e.what() << " (try --help)\n";
        return 2;
    }
}
