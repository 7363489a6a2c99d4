#include "journal_options.hpp"

#include <unistd.h>

namespace rsexec::cli {

void add_journal_options(cxxopts::Options& options, const std::string& journal_help) {
    options.add_options("Journal")
        ("journal", journal_help, cxxopts::value<std::string>())
        ("job", "the job's name in the journal", cxxopts::value<std::string>())
        ("lease", "seconds a worker may go silent before its items go to others (shared journals)",
         cxxopts::value<unsigned>()->default_value("30"))
        ("name", "this worker's name in the journal (default: host:pid)", cxxopts::value<std::string>());
}

std::string worker_name(const cxxopts::ParseResult& args) {
    if (args.count("name")) return args["name"].as<std::string>();
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "localhost") + ":" + std::to_string(::getpid());
}

Expected<std::unique_ptr<Journal>> open_journal_from(const cxxopts::ParseResult& args, const std::string& default_where,
                                                     const std::string& default_job) {
    const std::string where = args.count("journal") ? args["journal"].as<std::string>() : default_where;
    JournalOptions options;
    options.job = args.count("job") ? args["job"].as<std::string>() : default_job;
    options.worker = worker_name(args);
    options.lease = std::chrono::seconds(std::max(1u, args["lease"].as<unsigned>()));
    return open_journal(where, std::move(options));
}

} // namespace rsexec::cli
