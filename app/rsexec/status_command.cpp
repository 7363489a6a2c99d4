// rsexec status --journal WHERE: a job's progress, for people or (--json) for scripts.
#include <algorithm>
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "failed_items.hpp"
#include "journal_options.hpp"
#include "ftp/exit_code.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {
namespace {

nlohmann::json progress_json(const JobProgress& progress) {
    nlohmann::json workers = nlohmann::json::array();
    for (const auto& worker : progress.workers)
        workers.push_back({{"name", worker.name}, {"alive", worker.alive}, {"running", worker.running},
                           {"done", worker.done}, {"failed", worker.failed}, {"bytes", worker.bytes}});
    return {{"job", progress.job}, {"pending", progress.pending}, {"running", progress.running},
            {"done", progress.done}, {"failed", progress.failed}, {"total", progress.total()},
            {"bytes", progress.bytes}, {"seconds", progress.seconds},
            {"rate", progress.seconds > 0 ? static_cast<double>(progress.bytes) / progress.seconds : 0.0},
            {"max_per_host", progress.max_per_host}, {"relayed", progress.relayed}, {"workers", workers}};
}

void print_progress(const JobProgress& progress) {
    std::cout << fmt::format("job {}: {} items: {} done, {} running, {} pending, {} failed\n", progress.job,
                             progress.total(), progress.done, progress.running, progress.pending, progress.failed);
    const double rate = progress.seconds > 0 ? static_cast<double>(progress.bytes) / progress.seconds : 0;
    std::cout << fmt::format("{:.1f} MB done in {:.1f} s ({:.1f} MB/s, {:.1f} files/s)\n",
                             static_cast<double>(progress.bytes) / 1e6, progress.seconds, rate / 1e6,
                             progress.seconds > 0 ? static_cast<double>(progress.done) / progress.seconds : 0.0);
    // Items whose bytes went through rsexec because the servers would not pair (or --relay always).
    if (progress.relayed) std::cout << fmt::format("relayed {} of the done items through rsexec\n", progress.relayed);
    if (progress.max_per_host) std::cout << fmt::format("at most {} connections to one server\n", progress.max_per_host);
    for (const auto& worker : progress.workers)
        std::cout << fmt::format("  {:<24} {:<5} {} running, {} done, {} failed, {:.1f} MB\n", worker.name,
                                 worker.alive ? "alive" : "gone", worker.running, worker.done, worker.failed,
                                 static_cast<double>(worker.bytes) / 1e6);
}

} // namespace

int status_command(int argc, char** argv) {
    cxxopts::Options options("rsexec status", "Show a job's progress from its journal.");
    options.custom_help("--journal WHERE [--job NAME] [--failed] [--json]");
    options.add_options()
        ("journal", "the journal: a SQLite file or postgresql://USER@HOST/DB", cxxopts::value<std::string>())
        ("job", "the job (default: the journal's only job, or its newest)", cxxopts::value<std::string>())
        ("failed", "list the failed items: job-file line, URLs (no password), exit code, last error")
        ("json", "one JSON object: counts, bytes, rate, relayed and workers (with --failed: the failed items)")
        ("h,help", "show this help");
    const auto parsed = parse_command_line("rsexec status", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help() << "\nCounts: done, running (claimed by a worker), pending, failed. A worker is\n"
                  << "'gone' once its lease ran out; its running items go to other workers. \"relayed N\":\n"
                  << "done items whose bytes went through rsexec (--relay), said when there are any.\n"
                  << "--failed: each failed item's job-file line, URLs (never a password), exit code and\n"
                  << "last error; `rsexec batch --dump-failed FILE` writes what did not finish as a job file.\n";
        return 0;
    }
    if (!args.count("journal")) {
        std::cerr << "rsexec status: need --journal WHERE; try rsexec status --help\n";
        return static_cast<int>(ExitCode::usage);
    }
    JournalOptions journal_options;
    journal_options.job = args.count("job") ? args["job"].as<std::string>() : "";
    journal_options.worker = "status";
    const auto where = args["journal"].as<std::string>();
    // Reading a journal that is not there would create one.
    if (!is_postgresql_uri(where) && ::access(where.c_str(), F_OK) != 0)
        return report_failure(Error(Errc::bad_job, "no journal at " + where));
    auto journal = open_journal(where, std::move(journal_options));
    if (!journal) return report_failure(journal.error());
    if (args.count("job")) {
        // A job the journal does not hold has no counts to show, not zeros or another job's.
        auto jobs = (*journal)->jobs();
        if (!jobs) return report_failure(jobs.error());
        const auto job = args["job"].as<std::string>();
        if (std::find(jobs->begin(), jobs->end(), job) == jobs->end()) {
            std::string names;
            for (const auto& name : *jobs) names += (names.empty() ? "" : ", ") + name;
            std::cerr << "rsexec status: the journal holds no job '" << job << "'; "
                      << (names.empty() ? std::string("it holds no job") : "its jobs: " + names) << '\n';
            return static_cast<int>(ExitCode::usage);
        }
    }
    if (args.count("failed")) return print_failed_items(**journal, args.count("json") > 0);
    auto progress = (*journal)->progress();
    if (!progress) return report_failure(progress.error());
    if (args.count("json")) std::cout << progress_json(*progress).dump() << '\n';
    else print_progress(*progress);
    return 0;
}

} // namespace rsexec::cli
