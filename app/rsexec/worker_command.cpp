// rsexec worker --journal postgresql://...: one more worker on a job submitted to a shared journal.
#include <iostream>

#include <asio/io_context.hpp>
#include <cxxopts.hpp>

#include "batch_report.hpp"
#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "journal_options.hpp"
#include "unfinished_job_file.hpp"
#include "ftp/exit_code.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {

int worker_command(int argc, char** argv) {
    cxxopts::Options options("rsexec worker", "Work on a job submitted to a shared journal, with any number of other workers.");
    options.custom_help("--journal postgresql://USER@HOST/DB [OPTIONS]");
    options.add_options()("h,help", "show this help");
    add_journal_options(options, "the shared journal: postgresql://USER@HOST/DB (libpq's URI, e.g. "
                                 "?sslmode=require); required", false);
    add_batch_options(options);
    add_no_mkdirs_option(options);
    add_transfer_options(options);

    const auto parsed = parse_command_line("rsexec worker", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Journal", "Batch", "Transfer", "TLS (FTPS, RFC 4217)"})
                  << "\nA job is submitted with `rsexec batch --journal postgresql://... [--submit] JOBFILE`.\n"
                  << "Workers claim its items a few at a time (SELECT ... FOR UPDATE SKIP LOCKED) and renew a\n"
                  << "lease; the items of a worker that stops renewing it go to the others, large files resuming\n"
                  << "where the partial copy allows. --max-per-host holds across all workers (the job's, as\n"
                  << "submitted, unless given here). The journal keeps no password: workers log in with the\n"
                  << "users in the URLs and the passwords in their own .netrc (--netrc); a worker never asks\n"
                  << "for one, even on a terminal: an item whose user has none fails with exit 4.\n"
                  << "Without --job, the oldest job with work left. The worker ends when the job has none.\n\n"
                  << exit_codes_help;
        return 0;
    }
    // Every option's value is checked before anything else.
    TransferSettings settings;
    if (!read_transfer_options("rsexec worker", args, settings)) return static_cast<int>(ExitCode::usage);
    auto read = read_batch_options("rsexec worker", args, settings);
    if (!read) return static_cast<int>(ExitCode::usage);
    BatchOptions batch = std::move(*read);
    batch.make_directories = args.count("no-mkdirs") == 0;
    JournalSettings journal_settings;
    if (!read_journal_options("rsexec worker", args, journal_settings)) return static_cast<int>(ExitCode::usage);
    if (!journal_settings.where) {
        std::cerr << "rsexec worker: need --journal postgresql://USER@HOST/DB; try rsexec worker --help\n";
        return static_cast<int>(ExitCode::usage);
    }

    auto journal = open_journal_from(journal_settings, "", "");
    if (!journal) return report_failure(journal.error());
    if (!(*journal)->shared()) {
        std::cerr << "rsexec worker: " << args["journal"].as<std::string>()
                  << " is a SQLite journal, which one process works at a time: use rsexec batch\n";
        return static_cast<int>(ExitCode::usage);
    }
    auto progress = (*journal)->progress();
    if (!progress) return report_failure(progress.error());
    std::optional<UnfinishedJobFile> dump;
    if (journal_settings.dump_failed) {
        auto created = UnfinishedJobFile::create(*journal_settings.dump_failed);
        if (!created) return report_failure(created.error());
        dump.emplace(std::move(*created));
    }
    batch.journal = journal->get();
    asio::io_context io;
    const int code = run_items(io, std::vector<JobItem>{}, std::move(batch), wants_json(args), progress->total());
    return finish_unfinished_job_file(dump ? &*dump : nullptr, **journal, {}, code);
}

} // namespace rsexec::cli
