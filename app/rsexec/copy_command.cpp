// rsexec copy SRC_URL... DST_URL: one paired transfer, or (several sources, patterns, -r) a plan
// of them run through the batch engine (copy_sources.hpp).
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string_view>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include "commands.hpp"
#include "copy_progress.hpp"
#include "exit_codes_help.hpp"
#include "ftp/exit_code.hpp"
#include "client/interruption.hpp"
#include "client/run.hpp"
#include "client/glob_expansion.hpp"
#include "client/url_copy.hpp"
#include "copy_sources.hpp"
#include "transfer_options.hpp"
#include "password_prompt.hpp"

namespace rsexec::cli {
namespace {

// One shell word: plain when it is safe as it is, else in single quotes.
std::string shell_word(std::string_view word) {
    const bool plain = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                               "0123456789@%+=:,./_-") == std::string_view::npos;
    if (plain) return std::string(word);
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The command that continues an interrupted copy: this one, with --resume, and URLs without
// their passwords (never printed); `passwords_left_out` says whether any had one.
std::string continuing_command(int argc, char** argv, bool& passwords_left_out) {
    std::string command = "rsexec copy";
    bool has_resume = false;
    passwords_left_out = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--resume") has_resume = true;
        if (arg.find("://") != std::string_view::npos) {
            if (auto url = parse_ftp_url(arg); url && url->password) {
                passwords_left_out = true;
                command += " " + shell_word(url->display());
                continue;
            }
        }
        command += " " + shell_word(arg);
    }
    if (!has_resume) command.insert(std::string("rsexec copy").size(), " --resume");
    return command;
}

} // namespace

int copy_command(int argc, char** argv) {
    cxxopts::Options options("rsexec copy", "Copy one file from one FTP server to another; the data goes "
                                            "directly between the servers, or through rsexec when they refuse "
                                            "(--relay). Either side may be a local file (file:///abs/path or "
                                            "/abs/path).");
    options.custom_help("[OPTIONS]");
    options.positional_help("SRC_URL... DST_URL");
    options.add_options()
        ("append", "APPE to the destination file instead of replacing it (RFC 438's example)")
        ("inplace", "write the final name directly instead of a temporary name renamed at the end")
        ("json", "one JSON object per event on stdout (start, progress, done or error, summary), as batch prints")
        ("h,help", "show this help")
        ("urls", "", cxxopts::value<std::vector<std::string>>());
    options.add_options("Several files")
        ("r,recursive", "copy directories as trees: the files missing at the destination or different there, as "
                        "mirror does, never deleting anything")
        ("mkdirs", "make a missing destination directory and its parents (MKD); on by default with -r")
        ("no-mkdirs", "make no destination directory but a -r tree's own (turns off -r's default --mkdirs)");
    add_transfer_options(options);
    options.parse_positional({"urls"});

    const auto parsed = parse_command_line("rsexec copy", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Several files", "Transfer", "TLS (FTPS, RFC 4217)"}) << "\nExamples:\n"
                  << "  rsexec copy ftp://alice:pw@a.example/data/f.bin ftp://bob:pw@b.example/incoming/\n"
                  << "  rsexec copy -v --dialect rfc438 ftp://127.0.0.2:2121/f ftp://127.0.0.3:2121/g\n"
                  << "  rsexec copy 'ftp://a.example/data/*.bin' ftp://b.example/a.bin ftp://b.example/incoming/\n"
                  << "  rsexec copy -r ftp://a.example/pub/tree ftp://b.example/mirror/\n"
                  << "  rsexec copy ftp://alice:pw@a.example/data/f.bin /srv/in/\n\n"
                  << "A pattern in a source's last component (*, ?, [...], [!...], \\ to escape) is expanded by\n"
                  << "listing its directory; the server never sees it, and one matching nothing is exit 5. With\n"
                  << "several sources or a pattern, DST_URL must be an existing directory (exit 2), or is made\n"
                  << "with --mkdirs. Directories a pattern matches without -r, and symbolic links, are left out\n"
                  << "(said on stderr).\n"
                  << "Several files go through the batch engine (4 pairs of sessions, retries).\n\n"
                  << "When the servers refuse to connect to each other (FXP off), --relay auto (the default)\n"
                  << "copies through rsexec: one passive data connection to each, splice(2) between them\n"
                  << "(a buffer of at most 1 MiB under TLS), said once on stderr. --relay never: exit 7.\n"
                  << "It relays too when only one server offers TLS (each keeps its own protection; without\n"
                  << "the relay: exit 13). A relayed --verify checksum compares rsexec's SHA-256 of the stream\n"
                  << "with the source's or the destination's SHA-256, or with the copy read back (exit 9).\n\n"
                  << "By default the copy is written as .NAME.rsexec-part beside NAME and renamed when both\n"
                  << "servers report success and the copy is verified (--verify): NAME never holds half a\n"
                  << "file. --resume continues a .NAME.rsexec-part an earlier attempt left.\n\n"
                  << "--overwrite decides what happens to a destination that exists (default always: it is\n"
                  << "replaced); a copy it skips says why on stderr and exits 0.\n"
                  << "A DST_URL naming an existing directory receives the file under the source's name, as\n"
                  << "with cp. A copy onto itself (same server, same normalised path) is refused (exit 2).\n"
                  << "SIGINT/SIGTERM: ABOR on both servers, the temporary file deleted (kept with --resume,\n"
                  << "and the command that continues the copy printed), exit 12.\n\n"
                  << "Progress: on a terminal, one line on stderr (bytes done / total, percent, rate, time\n"
                  << "left), redrawn at least once a second; when stderr is not a terminal, `progress` JSON\n"
                  << "events there instead (with --json, on stdout among the others). Transfers shorter than\n"
                  << "a second show none. A resumed copy says from which byte it resumed.\n\n"
                  << exit_codes_help;
        return 0;
    }
    const auto urls = args.count("urls") ? args["urls"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (urls.size() < 2) {
        std::cerr << "rsexec copy: need SRC_URL and DST_URL (try rsexec copy --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    SourcesRequest sources;
    for (std::size_t i = 0; i + 1 < urls.size(); ++i) {
        auto parsed_source = parse_url(urls[i]);
        if (!parsed_source) return report_failure(parsed_source.error());
        sources.sources.push_back(std::move(*parsed_source));
    }
    auto parsed_destination = parse_url(urls.back());
    if (!parsed_destination) return report_failure(parsed_destination.error());
    sources.destination = *parsed_destination;
    sources.recursive = args.count("recursive") > 0;
    const bool local = parsed_destination->is_local() ||
        std::any_of(sources.sources.begin(), sources.sources.end(), [](const FtpUrl& url) { return url.is_local(); });
    if (local && needs_source_plan(sources.sources, sources.recursive)) {
        std::cerr << "rsexec copy: a local file (file:// or /path) is copied one at a time: one SRC_URL, no -r, no pattern\n";
        return static_cast<int>(ExitCode::usage);
    }
    if (args.count("mkdirs") && args.count("no-mkdirs")) {
        std::cerr << "rsexec copy: --mkdirs and --no-mkdirs exclude each other\n";
        return static_cast<int>(ExitCode::usage);
    }
    sources.make_directories = args.count("mkdirs") || (sources.recursive && !args.count("no-mkdirs"));
    auto* source = &sources.sources.front();
    auto* destination = &sources.destination;

    TransferSettings settings;
    if (!read_transfer_options("rsexec copy", args, settings)) return static_cast<int>(ExitCode::usage);
    if (args.count("append") && args.count("inplace")) {
        std::cerr << "rsexec copy: --append and --inplace exclude each other\n";
        return static_cast<int>(ExitCode::usage);
    }
    if (needs_source_plan(sources.sources, sources.recursive)) {
        if (args.count("append") || args.count("inplace")) {
            std::cerr << "rsexec copy: --append and --inplace take one source file, without -r or a pattern\n";
            return static_cast<int>(ExitCode::usage);
        }
        PasswordPrompt passwords(settings.netrc ? &*settings.netrc : nullptr);
        for (FtpUrl& url : sources.sources)
            if (auto given = passwords.complete(url); !given) return report_failure(given.error());
        if (auto given = passwords.complete(sources.destination); !given) return report_failure(given.error());
        return copy_sources(sources, settings);
    }
    // A backslash in a source's last component escapes the next character (a pattern's syntax).
    sources.sources.front().path = literal_path(sources.sources.front().path);
    UrlCopyOptions copy;
    copy.copy = settings.copy;
    copy.session = settings.session;
    copy.netrc = settings.netrc ? &*settings.netrc : nullptr;
    PasswordPrompt passwords(copy.netrc);
    for (FtpUrl* url : {&*source, &*destination})
        if (auto given = passwords.complete(*url); !given) return report_failure(given.error());
    copy.mode = args.count("append") ? WriteMode::append
        : args.count("inplace")      ? WriteMode::in_place
                                     : WriteMode::temporary_then_rename;

    JobItem item{0, *source, *destination, copy.mode == WriteMode::append, std::nullopt, std::nullopt};
    CopyProgress report(args.count("json")           ? CopyProgress::Output::json
                            : ::isatty(STDERR_FILENO) ? CopyProgress::Output::terminal
                                                      : CopyProgress::Output::events_stderr,
                        item);
    copy.copy.started = [&](std::optional<std::uint64_t> total, std::uint64_t resumed_from) {
        report.started(total, resumed_from);
    };
    copy.copy.progress = [&](std::uint64_t bytes) { report.progress(bytes); };

    asio::io_context io;
    // SIGINT and SIGTERM: both servers are sent ABOR and the temporary file is deleted (kept
    // with --resume) before the exit with 12. A second signal does not wait for that.
    Interruption interruption(io.get_executor());
    copy.copy.interruption = &interruption;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](std::error_code ec, int signal) {
            if (ec) return;
            if (interruption.triggered()) {
                std::cerr << "rsexec: interrupted again: stopping without cleaning up\n";
                std::_Exit(static_cast<int>(ExitCode::interrupted));
            }
            interruption.trigger(signal == SIGINT ? "SIGINT" : "SIGTERM");
            wait_signal();
        });
    };
    wait_signal();
    const bool make_directory = sources.make_directories;
    // The live line's ticker, while the copy lasts.
    asio::steady_timer ticker(io);
    bool running = true;
    auto tick = [&]() -> asio::awaitable<void> {
        while (running) {
            ticker.expires_after(ProgressPace::tick);
            co_await ticker.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            if (running) report.tick();
        }
    };
    if (report.output() == CopyProgress::Output::terminal) asio::co_spawn(io, tick(), asio::detached);
    const auto began = Clock::now();
    report.begin();
    auto run = [&]() -> asio::awaitable<Expected<CopyResult>> {
        auto stop = [&] {
            signals.cancel();
            running = false;
            ticker.cancel();
        };
        if (make_directory) {
            if (auto made = co_await make_destination_directory(*destination, copy.session, copy.netrc); !made) {
                stop();
                co_return made.error();
            }
        }
        auto result = co_await copy_url(*source, *destination, copy);
        stop();
        co_return result;
    };
    const auto outcome = run_to_completion(io, run());
    report.finish(outcome, Clock::now() - began);
    if (!outcome) {
        const int code = report_failure(outcome.error());
        if (outcome.error().is(Errc::interrupted) && settings.copy.resume && copy.mode == WriteMode::temporary_then_rename) {
            bool passwords_left_out = false;
            const auto command = continuing_command(argc, argv, passwords_left_out);
            std::cerr << "rsexec: to continue the copy, run: " << command << '\n';
            if (passwords_left_out)
                std::cerr << "rsexec: (passwords are not shown: put them back in the URLs, or in ~/.netrc)\n";
        }
        return code;
    }

    if (outcome->skipped) {
        // A success: the policy asked for the destination to be kept.
        std::cerr << fmt::format("skipped {} -> {}: {} (--overwrite {})\n", source->display(), destination->display(),
                                 skip_explanation(*outcome->skipped), overwrite_name(settings.copy.overwrite));
        return 0;
    }
    if (report.output() == CopyProgress::Output::json) return 0;
    const double seconds = std::chrono::duration<double>(outcome->elapsed).count();
    const std::uint64_t bytes = outcome->bytes.value_or(0);
    const std::string how = source->is_local() ? std::string("uploaded")
        : destination->is_local()                 ? std::string("downloaded")
        : outcome->relayed                        ? std::string("relayed through rsexec")
        : fmt::format("{} with {} listening", dialect_name(outcome->dialect), side_name(outcome->listener));
    std::cout << fmt::format("copied {} -> {}: {} bytes in {:.3f} s ({:.1f} MB/s), {}{}\n", source->display(),
                             destination->display(), bytes, seconds,
                             seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0, how,
                             outcome->resumed_from ? fmt::format("; resumed from byte {}", outcome->resumed_from)
                                                   : std::string());
    return 0;
}

} // namespace rsexec::cli
