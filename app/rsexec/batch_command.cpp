// rsexec batch JOBFILE|-: many paired transfers from a job file, with a journal.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "rsexec/batch.hpp"
#include "rsexec/exit_code.hpp"
#include "rsexec/run.hpp"
#include "rsexec/url_copy.hpp"
#include "batch_report.hpp"
#include "journal_options.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {
namespace {

Expected<std::string> read_job_text(const std::string& path) {
    std::stringstream text;
    if (path == "-") {
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(path);
    if (!in) return Error(Errc::bad_job, "cannot read job file " + path);
    text << in.rdbuf();
    return text.str();
}

// --dry-run: the plan, with the dialect each pair of servers would use (asks their FEAT).
asio::awaitable<bool> print_plan(const std::vector<JobItem>& items, const TransferSettings& settings) {
    std::map<std::string, std::string> dialect_of_pair;
    bool reachable = true;
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    for (const auto& item : items) {
        const auto pair_key = item.source.authority() + " " + item.destination.authority();
        if (!dialect_of_pair.count(pair_key)) {
            ControlSession src(executor, Side::source, settings.session);
            ControlSession dst(executor, Side::destination, settings.session);
            auto a = co_await src.open(item.source.host, item.source.port, credentials_for(item.source, netrc),
                                       item.source.implicit_tls());
            // Not `a ? co_await ... : ...`: GCC 12 destroys a co_await result inside ?: twice.
            Status b = success();
            if (a) b = co_await dst.open(item.destination.host, item.destination.port,
                                         credentials_for(item.destination, netrc), item.destination.implicit_tls());
            if (!a || !b) {
                dialect_of_pair[pair_key] = "unreachable: " + (!a ? a.error() : b.error()).describe();
                reachable = false;
            } else {
                const bool ipv6 = src.peer_address().is_v6() || dst.peer_address().is_v6();
                const auto plan = pairing_plan(src.features(), dst.features(), settings.copy.passive,
                                               settings.copy.dialect, ipv6);
                dialect_of_pair[pair_key] = plan.empty() ? "none" : fmt::format("{} with {} listening",
                    dialect_name(plan[0].dialect), side_name(plan[0].listener));
            }
            for (ControlSession* s : {&src, &dst}) {
                if (s->is_open()) co_await s->command("QUIT");
                s->close();
            }
        }
        std::cout << fmt::format("line {}: {} -> {}{} ({})\n", item.line, item.source.display(),
                                 item.destination.display(), item.append ? " (append)" : "",
                                 dialect_of_pair[pair_key]);
    }
    co_return reachable;
}

} // namespace

int batch_command(int argc, char** argv) {
    cxxopts::Options options("rsexec batch", "Run the transfers listed in a job file, server to server.");
    options.custom_help("[OPTIONS]");
    options.positional_help("JOBFILE|-");
    options.add_options()
        ("no-journal", "keep no journal")
        ("submit", "only submit the job to the journal, for `rsexec worker` processes to do")
        ("check", "only validate the job file")
        ("dry-run", "print the plan and the dialect each pair of servers would use; transfer nothing")
        ("h,help", "show this help")
        ("jobfile", "", cxxopts::value<std::string>());
    add_journal_options(options, "where the items and their states are kept: a SQLite file (default: "
                                 "JOBFILE.journal) or postgresql://USER@HOST/DB, shared with `rsexec worker`");
    add_batch_options(options);
    add_transfer_options(options);
    options.parse_positional({"jobfile"});

    const auto parsed = parse_command_line("rsexec batch", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Journal", "Batch", "Transfer", "TLS (FTPS, RFC 4217)"})
                  << "\nJob file: one transfer per line, '#' comments and blank lines ignored:\n"
                  << "  ftp://user:pw@a.example/data/f1 ftp://user:pw@b.example/in/\n"
                  << "  ftp://a.example/log.txt ftp://b.example/all.log append\n"
                  << "or JSON Lines: {\"src\": \"ftp://...\", \"dst\": \"ftp://...\", \"append\": false}\n\n"
                  << "Running the same job again with its journal skips what is done and retries the rest.\n"
                  << "With --journal postgresql://..., `rsexec worker` processes anywhere join the job; the\n"
                  << "journal keeps no password, so they log in with their own .netrc.\n"
                  << "SIGINT stops starting new items; a second SIGINT aborts the running ones.\n\n"
                  << exit_codes_help;
        return 0;
    }
    if (!args.count("jobfile")) {
        std::cerr << "rsexec batch: need a JOBFILE (or - for stdin); try rsexec batch --help\n";
        return static_cast<int>(ExitCode::usage);
    }
    const auto job_path = args["jobfile"].as<std::string>();
    auto text = read_job_text(job_path);
    if (!text) return report_failure(text.error());
    auto items = parse_job_file(*text);
    if (!items) {
        std::cerr << "rsexec: " << (job_path == "-" ? "stdin" : job_path) << ": " << items.error().message << '\n';
        return static_cast<int>(ExitCode::usage);
    }
    if (args.count("check")) {
        std::cout << fmt::format("{}: {} transfers, all lines valid\n", job_path, items->size());
        return 0;
    }
    TransferSettings settings;
    if (!read_transfer_options("rsexec batch", args, settings)) return static_cast<int>(ExitCode::usage);

    asio::io_context io;
    if (args.count("dry-run")) {
        const bool reachable = run_to_completion(io, print_plan(*items, settings));
        return reachable ? 0 : static_cast<int>(ExitCode::connect);
    }

    auto read = read_batch_options("rsexec batch", args, settings);
    if (!read) return static_cast<int>(ExitCode::usage);
    BatchOptions batch = std::move(*read);

    std::unique_ptr<Journal> journal;
    if (!args.count("no-journal") && (args.count("journal") || job_path != "-")) {
        const auto job = job_path == "-" ? std::string("stdin") : std::filesystem::path(job_path).filename().string();
        auto opened = open_journal_from(args, job_path + ".journal", job);
        if (!opened) return report_failure(opened.error());
        journal = std::move(*opened);
    }
    if (args.count("submit")) {
        if (!journal) {
            std::cerr << "rsexec batch: --submit needs a journal (--journal)\n";
            return static_cast<int>(ExitCode::usage);
        }
        auto done = journal->submit(*items, batch.max_per_host);
        if (!done) return report_failure(done.error());
        nlohmann::json out{{"event", "submitted"}, {"job", journal->job()}, {"items", items->size()},
                           {"done", done->size()}};
        if (wants_json(args)) std::cout << out.dump() << '\n';
        else std::cout << fmt::format("submitted {} items to job {} ({} already done)\n", items->size(),
                                      journal->job(), done->size());
        return 0;
    }
    batch.journal = journal.get();
    const std::size_t total = items->size();
    return run_items(io, std::move(*items), std::move(batch), wants_json(args), total);
}

} // namespace rsexec::cli
