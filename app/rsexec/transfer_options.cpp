#include "transfer_options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>

#include <unistd.h>

#include "client/data_protection.hpp"
#include "ftp/exit_code.hpp"

namespace rsexec::cli {

void add_transfer_options(cxxopts::Options& options) {
    options.add_options("Transfer")
        ("dialect", "how to pair the servers: auto (from FEAT), rfc438 (LSTN/SOCK), pasv (PASV/PORT), "
                    "epsv (EPSV/EPRT)", cxxopts::value<std::string>()->default_value("auto"))
        ("passive", "which server listens first: src or dst", cxxopts::value<std::string>()->default_value("dst"))
        ("trust-announced-address", "connect to the address a listening server announces, even when it is not "
                                    "the address rsexec reached it at (NAT; allows the FTP bounce attack)")
        ("verify", "how to check a copy before it gets its final name: size (SIZE on both), checksum (the "
                   "strongest of HASH/XSHA256/XSHA1/XMD5/XCRC both servers offer; when they share none, the "
                   "copy is relayed and rsexec's SHA-256 of the stream compared with either server's SHA-256, or "
                   "with the copy read back), "
                   "checksum-if-available (the same, a warning when they share none), none",
         cxxopts::value<std::string>()->default_value("size"))
        ("no-verify", "the same as --verify none")
        ("resume", "continue a partial .NAME.rsexec-part left by an earlier attempt (REST on the source, APPE "
                   "on the destination), and keep it when this attempt fails; trusts that it is a prefix of the "
                   "source (--verify checksum checks). In a batch, a retry then continues what its failed "
                   "attempt kept; without it a failed attempt's temporary file is deleted and a retry starts over")
        ("overwrite", "what to do with a destination file that exists: always (replace it; copy's and batch's "
                      "default), never (skip it), if-different (skip it when the sizes, and with --verify checksum "
                      "the digests, match), newer (copy only when the source's MDTM is later), "
                      "if-different-or-newer (mirror's default). A skipped file is a success, never retried",
         cxxopts::value<std::string>())
        ("preserve-times", "give each copy the source's modification time: MDTM on the source before the "
                           "transfer, MFMT on the destination after the rename, where the destination's FEAT "
                           "lists MFMT (else, with -v, said once: the copy keeps the time it was written at; "
                           "never a failure). Not with --append. mirror always does")
        ("timeout", "seconds to wait for any server reply, and for a transfer's data to move: the destination's "
                    "copy is polled with SIZE and a transfer whose copy stops growing this long is aborted",
         cxxopts::value<std::string>()->default_value("30"))
        ("netrc", "credentials file for URLs without user and password (default: ~/.netrc)",
         cxxopts::value<std::string>())
        ("relay", "when the servers refuse to connect to each other (or the data between them cannot be "
                  "protected: TLS on one only): auto (copy through rsexec instead, said "
                  "once per server pair), never (fail, exit 7), always (never ask the servers to connect to "
                  "each other)", cxxopts::value<std::string>()->default_value("auto"))
        ("v,verbose", "print both control dialogues (src> / src< / dst> / dst<), passwords masked");
    options.add_options("TLS (FTPS, RFC 4217)")
        ("tls", "for ftp:// URLs: required (AUTH TLS, or fail: no password in clear), optional (AUTH TLS when "
                "the server offers it), off. ftps:// URLs always use TLS from the first byte (port 990)",
         cxxopts::value<std::string>()->default_value("off"))
        ("ca-file", "verify servers against the CA certificates in this PEM file instead of the system's",
         cxxopts::value<std::string>())
        ("insecure", "do not verify server certificates (anyone on the path can read and change the session)")
        ("allow-clear-data", "when the servers cannot protect the data between them (neither offers SSCN or "
                             "CPSV), send it in clear (PROT C) instead of failing")
        ("fxp-tls", "which server takes the TLS client role on the data connection between them: auto "
                    "(SSCN ON where offered, else a CPSV listener), sscn, cpsv",
         cxxopts::value<std::string>()->default_value("auto"));
}

bool read_transfer_options(const char* command, const cxxopts::ParseResult& args, TransferSettings& settings) {
    const auto dialect = args["dialect"].as<std::string>();
    if (dialect != "auto") {
        settings.copy.dialect = parse_dialect(dialect);
        if (!settings.copy.dialect) {
            std::cerr << command << ": --dialect must be auto, rfc438, pasv or epsv\n";
            return false;
        }
    }
    const auto passive = args["passive"].as<std::string>();
    if (passive != "src" && passive != "dst") {
        std::cerr << command << ": --passive must be src or dst\n";
        return false;
    }
    settings.copy.passive = passive == "src" ? Side::source : Side::destination;
    settings.copy.pairing.trust_announced_address = args.count("trust-announced-address") > 0;
    const auto verify = parse_verify(args["verify"].as<std::string>());
    if (!verify) {
        std::cerr << command << ": --verify must be size, checksum, checksum-if-available or none\n";
        return false;
    }
    settings.copy.verify = args.count("no-verify") ? Verify::none : *verify;
    settings.copy.resume = args.count("resume") > 0;
    settings.copy.preserve_times = args.count("preserve-times") > 0;
    if (args.count("overwrite")) {
        const auto overwrite = parse_overwrite(args["overwrite"].as<std::string>());
        if (!overwrite) {
            std::cerr << command << ": --overwrite must be always, never, if-different, newer or "
                                    "if-different-or-newer, not '"
                      << args["overwrite"].as<std::string>().substr(0, 40) << "'\n";
            return false;
        }
        settings.copy.overwrite = *overwrite;
    }
    const auto relay = parse_relay_mode(args["relay"].as<std::string>());
    if (!relay) {
        std::cerr << command << ": --relay must be auto, never or always\n";
        return false;
    }
    settings.copy.relay = *relay;
    // Once per pair of servers, whatever the number of files relayed between them.
    auto refusing = std::make_shared<std::set<std::string>>();
    settings.copy.relaying = [refusing](const std::string& servers, const std::string& why) {
        if (refusing->insert(servers).second) std::cerr << "rsexec: relaying: " << why << " (" << servers << ")\n";
    };
    settings.copy.known_refusing = [refusing](const std::string& servers) { return refusing->count(servers) > 0; };
    settings.copy.warning = [](const std::string& text) { std::cerr << "rsexec: warning: " << text << '\n'; };
    const auto timeout = read_seconds(command, args, "timeout", 86400);
    if (!timeout) return false;
    settings.session.timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*timeout));

    const auto tls = parse_tls_mode(args["tls"].as<std::string>());
    if (!tls) {
        std::cerr << command << ": --tls must be required, optional or off\n";
        return false;
    }
    settings.session.tls.mode = *tls;
    settings.session.tls.allow_clear_data = args.count("allow-clear-data") > 0;
    settings.session.tls.tls_client_method = args["fxp-tls"].as<std::string>();
    if (!parse_tls_client_method(settings.session.tls.tls_client_method)) {
        std::cerr << command << ": --fxp-tls must be auto, sscn or cpsv\n";
        return false;
    }
    const bool insecure = args.count("insecure") > 0;
    settings.session.tls.verify = !insecure;
    auto context = make_tls_context(args.count("ca-file") ? args["ca-file"].as<std::string>() : std::string(), insecure);
    if (!context) {
        std::cerr << command << ": " << context.error().message << '\n';
        return false;
    }
    settings.session.tls.context = std::move(*context);
    if (insecure)
        std::cerr << "rsexec: warning: --insecure: server certificates are not verified; anyone on the path can "
                     "read and change the session\n";

    settings.verbose = args.count("verbose") > 0;
    if (settings.verbose) {
        settings.session.trace = [](std::string_view who, Direction direction, std::string_view line) {
            std::cerr << who << (direction == Direction::sent ? "> " : "< ") << line << '\n';
        };
        settings.copy.notice = [](const std::string& text) { std::cerr << "rsexec: " << text << '\n'; };
        // One sentence per server ("dst h:p offers no MFMT ..."), said once however many files
        // it concerns; the set stays small (a few servers), and is capped all the same.
        auto said = std::make_shared<std::set<std::string>>();
        settings.copy.times_not_kept = [said](const std::string& text) {
            if (said->size() < 64 && said->insert(text).second) std::cerr << "rsexec: " << text << '\n';
        };
    }

    std::string netrc_path;
    if (args.count("netrc")) {
        netrc_path = args["netrc"].as<std::string>();
    } else if (const char* home = std::getenv("HOME")) {
        netrc_path = std::string(home) + "/.netrc";
        if (::access(netrc_path.c_str(), F_OK) != 0) netrc_path.clear();
    }
    if (!netrc_path.empty()) {
        auto loaded = Netrc::load(netrc_path);
        if (loaded) settings.netrc = std::move(*loaded);
        else std::cerr << "rsexec: warning: " << loaded.error().message << '\n';
    }
    return true;
}

namespace {

// "-j/--jobs" for options with a short name, "--retries" for the others.
std::string option_name(const std::string& name) { return name == "jobs" ? "-j/--jobs" : "--" + name; }

} // namespace

std::optional<unsigned> read_whole_number(const char* command, const cxxopts::ParseResult& args, const std::string& name,
                                          unsigned min, unsigned max) {
    const auto text = args[name].as<std::string>();
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        std::cerr << command << ": " << option_name(name) << " must be a whole number from " << min << " to " << max
                  << ", not '" << text.substr(0, 40) << "'\n";
        return std::nullopt;
    }
    return value;
}

std::optional<double> read_seconds(const char* command, const cxxopts::ParseResult& args, const std::string& name,
                                   double max) {
    const auto text = args[name].as<std::string>();
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) || value <= 0 ||
        value > max) {
        std::cerr << command << ": " << option_name(name) << " must be a number of seconds above 0 and at most "
                  << max << ", not '" << text.substr(0, 40) << "'\n";
        return std::nullopt;
    }
    return value;
}

std::optional<cxxopts::ParseResult> parse_command_line(const char* command, cxxopts::Options& options, int argc,
                                                       char** argv) {
    try {
        return options.parse(argc, argv);
    } catch (const cxxopts::exceptions::exception& e) {
        std::cerr << command << ": " << e.what() << " (try " << command << " --help)\n";
        return std::nullopt;
    }
}

int report_failure(const Error& error) {
    std::cerr << "rsexec: " << error.describe() << '\n';
    return static_cast<int>(exit_code_for(error));
}

} // namespace rsexec::cli
