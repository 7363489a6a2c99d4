// rsexec copy SRC_URL DST_URL: one paired transfer.
#include <iostream>

#include <asio/io_context.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>

#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "rsexec/exit_code.hpp"
#include "rsexec/run.hpp"
#include "rsexec/url_copy.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {

int copy_command(int argc, char** argv) {
    cxxopts::Options options("rsexec copy", "Copy one file from one FTP server to another; the data goes "
                                            "directly between the servers.");
    options.custom_help("[OPTIONS]");
    options.positional_help("SRC_URL DST_URL");
    options.add_options()
        ("append", "APPE to the destination file instead of replacing it (RFC 438's example)")
        ("inplace", "write the final name directly instead of a temporary name renamed at the end")
        ("h,help", "show this help")
        ("urls", "", cxxopts::value<std::vector<std::string>>());
    add_transfer_options(options);
    options.parse_positional({"urls"});

    const auto parsed = parse_command_line("rsexec copy", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Transfer", "TLS (FTPS, RFC 4217)"}) << "\nExamples:\n"
                  << "  rsexec copy ftp://alice:pw@a.example/data/f.bin ftp://bob:pw@b.example/incoming/\n"
                  << "  rsexec copy -v --dialect rfc438 ftp://127.0.0.2:2121/f ftp://127.0.0.3:2121/g\n\n"
                  << "By default the copy is written as .NAME.rsexec-part beside NAME and renamed when both\n"
                  << "servers report success and the copy is verified (--verify): NAME never holds half a\n"
                  << "file. --resume continues a .NAME.rsexec-part an earlier attempt left.\n\n"
                  << exit_codes_help;
        return 0;
    }
    const auto urls = args.count("urls") ? args["urls"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (urls.size() != 2) {
        std::cerr << "rsexec copy: need SRC_URL and DST_URL (try rsexec copy --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    auto source = parse_ftp_url(urls[0]);
    if (!source) return report_failure(source.error());
    auto destination = parse_ftp_url(urls[1]);
    if (!destination) return report_failure(destination.error());

    TransferSettings settings;
    if (!read_transfer_options("rsexec copy", args, settings)) return static_cast<int>(ExitCode::usage);
    if (args.count("append") && args.count("inplace")) {
        std::cerr << "rsexec copy: --append and --inplace exclude each other\n";
        return static_cast<int>(ExitCode::usage);
    }
    UrlCopyOptions copy;
    copy.copy = settings.copy;
    copy.session = settings.session;
    copy.netrc = settings.netrc ? &*settings.netrc : nullptr;
    copy.mode = args.count("append") ? WriteMode::append
        : args.count("inplace")      ? WriteMode::in_place
                                     : WriteMode::temporary_then_rename;

    asio::io_context io;
    const auto outcome = run_to_completion(io, copy_url(*source, *destination, copy));
    if (!outcome) return report_failure(outcome.error());

    const double seconds = std::chrono::duration<double>(outcome->elapsed).count();
    const std::uint64_t bytes = outcome->bytes.value_or(0);
    std::cout << fmt::format("copied {} -> {}: {} bytes in {:.3f} s ({:.1f} MB/s), {} with {} listening\n",
                             source->display(), destination->display(), bytes, seconds,
                             seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0,
                             dialect_name(outcome->dialect), side_name(outcome->listener));
    return 0;
}

} // namespace rsexec::cli
