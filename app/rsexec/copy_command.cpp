// rsexec copy SRC_URL DST_URL: one paired transfer.
#include <cstdlib>
#include <unistd.h>
#include <iostream>

#include <asio/io_context.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>

#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "rsexec/exit_code.hpp"
#include "rsexec/run.hpp"
#include "rsexec/url_copy.hpp"

namespace rsexec::cli {
namespace {

std::string rate(std::uint64_t bytes, double seconds) {
    if (seconds <= 0) return "-";
    return fmt::format("{:.1f} MB/s", static_cast<double>(bytes) / seconds / 1e6);
}

int fail(const Error& error) {
    std::cerr << "rsexec: " << error.describe() << '\n';
    return static_cast<int>(exit_code_for(error));
}

} // namespace

int copy_command(int argc, char** argv) {
    cxxopts::Options options("rsexec copy", "Copy one file from one FTP server to another; the data goes "
                                            "directly between the servers.");
    options.custom_help("[OPTIONS]");
    options.positional_help("SRC_URL DST_URL");
    options.add_options()
        ("append", "APPE to the destination file instead of replacing it (RFC 438's example)")
        ("inplace", "write the final name directly instead of a temporary name renamed at the end")
        ("dialect", "how to pair the servers: auto (from FEAT), rfc438 (LSTN/SOCK), pasv (PASV/PORT), "
                    "epsv (EPSV/EPRT)", cxxopts::value<std::string>()->default_value("auto"))
        ("passive", "which server listens first: src or dst", cxxopts::value<std::string>()->default_value("dst"))
        ("trust-announced-address", "connect to the address a listening server announces, even when it is not "
                                    "the address rsexec reached it at (NAT; allows the FTP bounce attack)")
        ("no-verify", "do not compare the sizes of source and copy")
        ("timeout", "seconds to wait for any server reply", cxxopts::value<double>()->default_value("30"))
        ("netrc", "credentials file for URLs without user and password (default: ~/.netrc)",
         cxxopts::value<std::string>())
        ("v,verbose", "print both control dialogues (src> / src< / dst> / dst<), passwords masked")
        ("h,help", "show this help")
        ("urls", "", cxxopts::value<std::vector<std::string>>());
    options.parse_positional({"urls"});

    cxxopts::ParseResult args;
    try {
        args = options.parse(argc, argv);
    } catch (const cxxopts::exceptions::exception& e) {
        std::cerr << "rsexec copy: " << e.what() << " (try rsexec copy --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    if (args.count("help")) {
        std::cout << options.help() << "\nExamples:\n"
                  << "  rsexec copy ftp://alice:pw@a.example/data/f.bin ftp://bob:pw@b.example/incoming/\n"
                  << "  rsexec copy -v --dialect rfc438 ftp://127.0.0.2:2121/f ftp://127.0.0.3:2121/g\n\n"
                  << exit_codes_help;
        return 0;
    }
    const auto urls = args.count("urls") ? args["urls"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (urls.size() != 2) {
        std::cerr << "rsexec copy: need SRC_URL and DST_URL (try rsexec copy --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    auto source = parse_ftp_url(urls[0]);
    if (!source) return fail(source.error());
    auto destination = parse_ftp_url(urls[1]);
    if (!destination) return fail(destination.error());

    UrlCopyOptions copy;
    const auto dialect = args["dialect"].as<std::string>();
    if (dialect != "auto") {
        copy.copy.dialect = parse_dialect(dialect);
        if (!copy.copy.dialect) {
            std::cerr << "rsexec copy: --dialect must be auto, rfc438, pasv or epsv\n";
            return static_cast<int>(ExitCode::usage);
        }
    }
    const auto passive = args["passive"].as<std::string>();
    if (passive != "src" && passive != "dst") {
        std::cerr << "rsexec copy: --passive must be src or dst\n";
        return static_cast<int>(ExitCode::usage);
    }
    copy.copy.passive = passive == "src" ? Side::source : Side::destination;
    copy.copy.pairing.trust_announced_address = args.count("trust-announced-address") > 0;
    copy.copy.verify_size = args.count("no-verify") == 0;
    if (args.count("append") && args.count("inplace")) {
        std::cerr << "rsexec copy: --append and --inplace exclude each other\n";
        return static_cast<int>(ExitCode::usage);
    }
    copy.mode = args.count("append") ? WriteMode::append
        : args.count("inplace")      ? WriteMode::in_place
                                     : WriteMode::temporary_then_rename;
    const double timeout = args["timeout"].as<double>();
    if (!(timeout > 0)) {
        std::cerr << "rsexec copy: --timeout must be a positive number of seconds\n";
        return static_cast<int>(ExitCode::usage);
    }
    copy.session.timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout));

    const bool verbose = args.count("verbose") > 0;
    if (verbose) {
        copy.session.trace = [](Side side, Direction direction, std::string_view line) {
            std::cerr << side_name(side) << (direction == Direction::sent ? "> " : "< ") << line << '\n';
        };
        copy.copy.notice = [](const std::string& text) { std::cerr << "rsexec: " << text << '\n'; };
    }

    std::optional<Netrc> netrc;
    std::string netrc_path;
    if (args.count("netrc")) {
        netrc_path = args["netrc"].as<std::string>();
    } else if (const char* home = std::getenv("HOME")) {
        netrc_path = std::string(home) + "/.netrc";
        if (::access(netrc_path.c_str(), F_OK) != 0) netrc_path.clear();
    }
    if (!netrc_path.empty()) {
        auto loaded = Netrc::load(netrc_path);
        if (loaded) {
            netrc = std::move(*loaded);
            copy.netrc = &*netrc;
        } else {
            std::cerr << "rsexec: warning: " << loaded.error().message << '\n';
        }
    }

    asio::io_context io;
    const auto outcome = run_to_completion(io, copy_url(*source, *destination, copy));
    if (!outcome) return fail(outcome.error());

    const auto& result = *outcome;
    const double seconds = std::chrono::duration<double>(result.elapsed).count();
    const std::uint64_t bytes = result.bytes.value_or(0);
    std::cout << fmt::format("copied {} -> {}: {} bytes in {:.3f} s ({}), {} with {} listening\n",
                             source->display(), destination->display(), bytes, seconds, rate(bytes, seconds),
                             dialect_name(result.dialect), side_name(result.listener));
    return 0;
}

} // namespace rsexec::cli
