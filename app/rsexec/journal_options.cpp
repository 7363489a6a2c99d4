#include "journal_options.hpp"

#include <iostream>

#include <unistd.h>

#include "transfer_options.hpp"

namespace rsexec::cli {

void add_journal_options(cxxopts::Options& options, const std::string& journal_help, bool optional) {
    options.add_options("Journal")
        ("journal", journal_help, cxxopts::value<std::string>())
        ("job", "the job's name in the journal", cxxopts::value<std::string>())
        ("lease", "seconds a worker may go silent before its items go to others (shared journals), 1 to 86400",
         cxxopts::value<std::string>()->default_value("30"))
        ("name", "this worker's name in the journal (default: host:pid)", cxxopts::value<std::string>());
    if (optional) options.add_options("Journal")("no-journal", "keep no journal (nothing is skipped or recorded)");
    options.add_options("Journal")
        ("dump-failed", "after the run, write a job file of the items not done (failed, or never done) to FILE, "
                        "ready for `rsexec batch FILE` (mode 0600; written whole, then renamed)",
         cxxopts::value<std::string>());
}

std::string worker_name(const cxxopts::ParseResult& args) {
    if (args.count("name")) return args["name"].as<std::string>();
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
}

bool read_journal_options(const char* command, const cxxopts::ParseResult& args, JournalSettings& settings) {
    const auto lease = read_whole_number(command, args, "lease", 1, 86400);
    if (!lease) return false;
    settings.journal.lease = std::chrono::seconds(*lease);
    settings.journal.job = args.count("job") ? args["job"].as<std::string>() : std::string();
    settings.journal.worker = worker_name(args);
    if (args.count("journal")) settings.where = args["journal"].as<std::string>();
    settings.none = args.count("no-journal") > 0;
    if (args.count("dump-failed")) {
        settings.dump_failed = args["dump-failed"].as<std::string>();
        if (settings.dump_failed->empty()) {
            std::cerr << command << ": --dump-failed needs a file name\n";
            return false;
        }
    }
    return true;
}

Expected<std::unique_ptr<Journal>> journal_for_dump(const JournalSettings& settings, const std::string& job) {
    JournalOptions options = settings.journal;
    if (options.job.empty()) options.job = job;
    return open_journal(":memory:", std::move(options));
}

Expected<std::unique_ptr<Journal>> open_journal_from(const JournalSettings& settings, const std::string& default_where,
                                                     const std::string& default_job) {
    JournalOptions options = settings.journal;
    if (options.job.empty()) options.job = default_job;
    return open_journal(settings.where.value_or(default_where), std::move(options));
}

} // namespace rsexec::cli
