// rsexec batch JOBFILE|-: many paired transfers from a job file, with a journal.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "jobs/batch.hpp"
#include "ftp/exit_code.hpp"
#include "client/run.hpp"
#include "client/url_copy.hpp"
#include "batch_report.hpp"
#include "dry_run.hpp"
#include "job_file_source.hpp"
#include "journal_options.hpp"
#include "transfer_options.hpp"
#include "password_prompt.hpp"
#include "unfinished_job_file.hpp"

namespace rsexec::cli {
namespace {

void print_bad_lines(const std::string& name, const std::vector<JobLineError>& errors, std::size_t unreported) {
    for (const auto& error : errors) std::cerr << "rsexec: " << name << ": line " << error.line << ": " << error.reason << '\n';
    if (unreported) std::cerr << "rsexec: " << name << ": and " << unreported << " more bad lines\n";
    std::cerr << "rsexec: " << name << ": " << errors.size() + unreported << " bad lines; nothing was transferred\n";
}

// --check: the job file read a line at a time, nothing kept but the count and the bad lines, so
// that a file of millions of lines is checked in little memory.
int check_job_file(const JobInput& input) {
    auto reader = check_job_input(input);
    if (!reader) return report_failure(reader.error());
    if (!reader->valid()) {
        print_bad_lines(input.name(), reader->errors(), reader->unreported_errors());
        return static_cast<int>(ExitCode::usage);
    }
    std::cout << fmt::format("{}: {} transfers, all lines valid\n", input.path(), reader->item_count());
    return 0;
}

// --dry-run: the plan, with the dialect each pair of servers would use (asks their FEAT once
// per pair); items done in the journal are shown as skipped, and their servers not asked. Under
// an overwrite policy other than always, each item's destination is looked at as a run would.
asio::awaitable<bool> print_plan(ItemSource& items, Journal* journal, const TransferSettings& settings, bool json) {
    // A chunk of items at a time, the journal asked once a chunk which of them are done.
    constexpr std::size_t chunk_items = 1000;
    std::map<std::string, PairDialect> dialect_of_pair;
    bool reachable = true;
    PlanReport report(json);
    std::size_t index = 0;
    for (;;) {
        auto chunk = items.next(chunk_items);
        if (!chunk) {
            std::cerr << "rsexec: " << chunk.error().describe() << '\n';
            co_return false;
        }
        if (chunk->empty()) break;
        std::vector<bool> done(chunk->size(), false);
        if (journal) {
            std::vector<std::string> keys;
            keys.reserve(chunk->size());
            for (const auto& item : *chunk) keys.push_back(journal_key(item));
            auto found = journal->done_among(keys);
            if (!found) {
                std::cerr << "rsexec: " << found.error().describe() << '\n';
                co_return false;
            }
            for (const auto position : *found) done[position] = true;
        }
        for (std::size_t i = 0; i < chunk->size(); ++i, ++index) {
            const auto& item = (*chunk)[i];
            if (done[i]) {
                report.copy(index, item, nullptr, "done");
                continue;
            }
            const auto pair_key = item.source.authority() + " " + item.destination.authority();
            if (!dialect_of_pair.count(pair_key)) {
                auto pair = co_await probe_pair(item, settings);
                if (pair.error) reachable = false;
                dialect_of_pair.emplace(pair_key, std::move(pair));
            }
            const auto& dialect = dialect_of_pair.at(pair_key);
            const Overwrite policy = item.overwrite.value_or(settings.copy.overwrite);
            if (policy != Overwrite::always && !dialect.error && !dialect.local) {
                auto skip = co_await overwrite_skip(item, settings, policy);
                if (!skip) {
                    PairDialect failed{std::nullopt, skip.error(), nullptr};
                    reachable = false;
                    report.copy(index, item, &failed, nullptr);
                    continue;
                }
                if (*skip) {
                    report.copy(index, item, &dialect, skip_reason_name(**skip), skip_explanation(**skip));
                    continue;
                }
            }
            report.copy(index, item, &dialect, nullptr);
        }
    }
    report.summary();
    co_return reachable;
}

// --submit: the job into the journal a chunk at a time, in one transaction. Returns how many of
// its items were done already.
template <typename MakeSource>
Expected<std::size_t> submit_job(Journal& journal, const MakeSource& make_source, unsigned max_per_host) {
    auto source = make_source();
    if (!source) return source.error();
    if (auto begun = journal.begin_submit(max_per_host); !begun) return begun.error();
    std::size_t seq = 0, done = 0;
    for (;;) {
        auto chunk = (*source)->next(10'000);
        if (!chunk) {
            journal.abandon_submit();
            return chunk.error();
        }
        if (chunk->empty()) break;
        auto found = journal.submit_chunk(*chunk, seq);
        if (!found) {
            journal.abandon_submit();
            return found.error();
        }
        done += found->size();
        seq += chunk->size();
    }
    if (auto ended = journal.end_submit(); !ended) return ended.error();
    return done;
}

} // namespace

int batch_command(int argc, char** argv) {
    cxxopts::Options options("rsexec batch", "Run the transfers listed in a job file, server to server.");
    options.custom_help("[OPTIONS]");
    options.positional_help("JOBFILE|-");
    options.add_options()
        ("submit", "only submit the job to the journal, for `rsexec worker` processes to do")
        ("check", "only validate the job file")
        ("dry-run", "print the plan: the dialect each pair of servers would use, and the items done in the "
                    "journal a run would skip; transfer nothing (JSON `plan` events like a run's)")
        ("h,help", "show this help")
        ("jobfile", "", cxxopts::value<std::string>());
    add_journal_options(options, "where the items and their states are kept: a SQLite file (default: "
                                 "JOBFILE.journal) or postgresql://USER@HOST/DB, shared with `rsexec worker`",
                        true);
    add_batch_options(options);
    add_no_mkdirs_option(options);
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
                  << "  /srv/out/report.pdf ftp://b.example/in/       (an upload; file:///abs/path too)\n"
                  << "  ftp://a.example/data/f2 file:///srv/in/       (a download)\n"
                  << "or JSON Lines: {\"src\": \"ftp://...\", \"dst\": \"ftp://...\", \"append\": false}\n"
                  << "(also \"overwrite\", \"relay\" and \"mkdirs\": false, this line's --no-mkdirs).\n"
                  << "A destination directory that is missing is made (MKD, parents first) when the server\n"
                  << "refuses the item's STOR, and the item tried again: --no-mkdirs turns this off.\n\n"
                  << "Running the same job again with its journal skips what is done and retries the rest.\n"
                  << "With --journal postgresql://..., `rsexec worker` processes anywhere join the job; the\n"
                  << "journal keeps no password, so they log in with their own .netrc.\n"
                  << "SIGINT stops starting new items; a second SIGINT aborts the running ones.\n"
                  << "At a terminal, a status line on stderr: files and bytes done of all (transfers under way\n"
                  << "included), rate, ETA and the largest file moving; piped, a `progress` event once a second\n"
                  << "for each transfer longer than that.\n\n"
                  << exit_codes_help;
        return 0;
    }
    // Every option's value is checked before the job file is read.
    TransferSettings settings;
    if (!read_transfer_options("rsexec batch", args, settings)) return static_cast<int>(ExitCode::usage);
    auto read = read_batch_options("rsexec batch", args, settings);
    if (!read) return static_cast<int>(ExitCode::usage);
    BatchOptions batch = std::move(*read);
    batch.make_directories = args.count("no-mkdirs") == 0;
    JournalSettings journal_settings;
    if (!read_journal_options("rsexec batch", args, journal_settings)) return static_cast<int>(ExitCode::usage);

    if (!args.count("jobfile")) {
        std::cerr << "rsexec batch: need a JOBFILE (or - for stdin); try rsexec batch --help\n";
        return static_cast<int>(ExitCode::usage);
    }
    const auto job_path = args["jobfile"].as<std::string>();
    auto input = JobInput::open(job_path);
    if (!input) return report_failure(input.error());
    if (args.count("check")) return check_job_file(*input);
    // Every line is checked before anything else, then the file is read again a chunk at a
    // time by what follows: a job of any length in bounded memory.
    auto checked = check_job_input(*input);
    if (!checked) return report_failure(checked.error());
    if (!checked->valid()) {
        print_bad_lines(input->name(), checked->errors(), checked->unreported_errors());
        return static_cast<int>(ExitCode::usage);
    }
    const std::size_t total = checked->item_count();

    // Passwords the items' users need are asked for now, before anything moves (--submit logs in
    // nowhere: the workers use their own .netrc); kept by user@host:port for the reads after.
    PasswordPrompt passwords(settings.netrc ? &*settings.netrc : nullptr);
    const bool submit_only = args.count("submit") > 0;
    if (!submit_only) {
        auto in = input->stream();
        if (!in) return report_failure(in.error());
        JobFileSource asking(std::move(*in), &passwords);
        for (;;) {
            auto chunk = asking.next(10'000);
            if (!chunk) return report_failure(chunk.error());
            if (chunk->empty()) break;
        }
    }
    const auto items = [&]() -> Expected<std::unique_ptr<JobFileSource>> {
        auto in = input->stream();
        if (!in) return in.error();
        return std::make_unique<JobFileSource>(std::move(*in), submit_only ? nullptr : &passwords);
    };

    // The journal: JOBFILE.journal by default (none for stdin unless --journal names one).
    const bool journaled = !journal_settings.none && (journal_settings.where || job_path != "-");
    const std::string default_where = job_path == "-" ? std::string() : job_path + ".journal";
    const auto job = job_path == "-" ? std::string("stdin") : std::filesystem::path(job_path).filename().string();

    asio::io_context io;
    if (args.count("dry-run")) {
        std::unique_ptr<Journal> done_in;
        if (journaled) {
            auto existing = existing_journal(journal_settings, default_where, job);
            if (!existing) return report_failure(existing.error());
            done_in = std::move(*existing);
        }
        auto source = items();
        if (!source) return report_failure(source.error());
        const bool reachable = run_to_completion(io, print_plan(**source, done_in.get(), settings, wants_json(args)));
        return reachable ? 0 : static_cast<int>(ExitCode::connect);
    }

    std::unique_ptr<Journal> journal;
    if (journaled) {
        auto opened = open_journal_from(journal_settings, default_where, job);
        if (!opened) return report_failure(opened.error());
        journal = std::move(*opened);
    }
    if (submit_only) {
        if (!journal) {
            std::cerr << "rsexec batch: --submit needs a journal (--journal)\n";
            return static_cast<int>(ExitCode::usage);
        }
        auto done = submit_job(*journal, items, batch.max_per_host);
        if (!done) return report_failure(done.error());
        nlohmann::json out{{"event", "submitted"}, {"job", journal->job()}, {"items", total}, {"done", *done}};
        if (wants_json(args)) std::cout << out.dump() << '\n';
        else std::cout << fmt::format("submitted {} items to job {} ({} already done)\n", total, journal->job(), *done);
        return 0;
    }
    std::optional<UnfinishedJobFile> dump;
    if (journal_settings.dump_failed) {
        auto created = UnfinishedJobFile::create(*journal_settings.dump_failed);
        if (!created) return report_failure(created.error());
        dump.emplace(std::move(*created));
        if (!journal) {
            auto memory = journal_for_dump(journal_settings, job);
            if (!memory) return report_failure(memory.error());
            journal = std::move(*memory);
        }
    }
    batch.journal = journal.get();
    auto source = items();
    if (!source) return report_failure(source.error());
    // An empty job file submits nothing (the journal's items stay as they are).
    std::unique_ptr<ItemSource> run_source;
    if (total > 0) run_source = std::move(*source);
    const int code = run_items(io, std::move(run_source), std::move(batch), wants_json(args), total);
    if (!dump) return code;
    auto text = input->text();
    if (!text) return report_failure(text.error());
    return finish_unfinished_job_file(&*dump, *journal, *text, code);
}

} // namespace rsexec::cli
