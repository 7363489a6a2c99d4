// rsexec mirror SRC_DIR_URL DST_DIR_URL: make the destination tree match the source, server to
// server, through the batch engine.
#include <iostream>
#include <map>
#include <set>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <cxxopts.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include "batch_report.hpp"
#include "commands.hpp"
#include "dry_run.hpp"
#include "exit_codes_help.hpp"
#include "jobs/journal.hpp"
#include "ftp/exit_code.hpp"
#include "jobs/local_tree.hpp"
#include "jobs/mirror.hpp"
#include "client/make_directories.hpp"
#include "client/run.hpp"
#include "client/same_file.hpp"
#include "journal_options.hpp"
#include "unfinished_job_file.hpp"
#include "password_prompt.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {
namespace {

using namespace asio::experimental::awaitable_operators;

// The plan, what the listings held that could not be read, and how the pair would be paired.
struct Prepared {
    MirrorPlan plan;
    std::vector<std::string> skipped;
    PairDialect dialect;
    std::optional<std::uint64_t> bytes_to_copy;  // the files to copy, where the listing gave every size
};

asio::awaitable<void> quit_reply(ControlSession* session) {
    if (!session) co_return;
    if (session->is_open()) co_await session->read_reply(std::chrono::seconds(2));
    session->close();
}

// One side's session, none for a local directory.
asio::awaitable<Status> open_side(ControlSession* session, const FtpUrl& url, const Netrc* netrc) {
    if (!session) co_return success();
    co_return co_await session->open(url.host, url.port, credentials_for(url, netrc), url.implicit_tls());
}

// One side's tree: listed on its server, or read from the disk.
asio::awaitable<Expected<TreeWalk>> walk_side(ControlSession* session, const FtpUrl& url,
                                              const std::vector<std::string>& excludes, bool missing_is_empty) {
    if (!session) co_return walk_local_tree(url.path, excludes, missing_is_empty);
    co_return co_await walk_tree(*session, url.path, excludes, missing_is_empty);
}

// Walks both trees on one pair of sessions (one session when a side is a local directory), then
// makes the missing directories. The sessions stay open for the copies when there are any (`open_pair`).
asio::awaitable<Expected<Prepared>> prepare(const FtpUrl& source, const FtpUrl& destination,
                                              const TransferSettings& settings, const MirrorPolicy& policy,
                                              bool dry_run, bool make_parents, std::shared_ptr<OpenPair>& open_pair) {
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    auto pair = std::make_shared<OpenPair>();
    if (!source.is_local()) pair->source = std::make_unique<ControlSession>(executor, Side::source, settings.session);
    if (!destination.is_local())
        pair->destination = std::make_unique<ControlSession>(executor, Side::destination, settings.session);
    ControlSession* src = pair->source.get();
    ControlSession* dst = pair->destination.get();
    // Both logins, then both walks, side by side: the slower server sets the pace.
    auto [src_open, dst_open] = co_await (open_side(src, source, netrc) && open_side(dst, destination, netrc));
    if (!src_open) co_return src_open.error();
    if (!dst_open) co_return dst_open.error();
    auto [source_tree, destination_tree] = co_await (walk_side(src, source, policy.excludes, false) &&
                                                     walk_side(dst, destination, policy.excludes, true));
    if (!source_tree) co_return source_tree.error();
    if (!destination_tree) co_return destination_tree.error();
    Prepared prepared;
    prepared.plan = plan_mirror(source_tree->entries, destination_tree->entries, policy);
    prepared.skipped = std::move(source_tree->skipped);
    prepared.skipped.insert(prepared.skipped.end(), destination_tree->skipped.begin(), destination_tree->skipped.end());
    if (src && dst) {
        prepared.dialect = dialect_of(src->features(), dst->features(), settings,
                                      src->peer_address().is_v6() || dst->peer_address().is_v6());
    } else {
        prepared.dialect.local = src ? "download" : "upload";
    }
    const MirrorPlan& plan = prepared.plan;
    std::map<std::string, std::optional<std::uint64_t>> size_of_path;
    for (const auto& entry : source_tree->entries) size_of_path.emplace(entry.path, entry.size);
    prepared.bytes_to_copy = 0;
    for (const auto& file : plan.files_to_copy) {
        const auto size = size_of_path.find(file);
        if (size == size_of_path.end() || !size->second) {
            prepared.bytes_to_copy.reset();
            break;
        }
        *prepared.bytes_to_copy += *size->second;
    }

    if (!dry_run && !dst) {
        // A local destination: mkdir(2), as MKD below.
        if (auto made = make_local_directory(destination.path, make_parents); !made) co_return made.error();
        for (const auto& dir : plan.directories_to_make)
            if (auto made = make_local_directory(join_path(destination.path, dir), false); !made)
                co_return made.error();
    } else if (!dry_run) {
        ControlSession& dst_session = *dst;
        // The destination root itself may be missing: made with its parents (--mkdirs, the default);
        // with --no-mkdirs only the root itself, MKD answering 550 when it exists, harmlessly.
        if (make_parents) {
            if (auto made = co_await make_directories(dst_session, destination.path); !made) co_return made.error();
        } else if (!destination.path.empty()) {
            co_await dst_session.command("MKD", destination.path);
        }
        for (const auto& dir : plan.directories_to_make) {
            auto made = co_await dst_session.expect(2, "MKD", join_path(destination.path, dir));
            if (!made) co_return made.error();
        }
    }
    if (!dry_run && !plan.files_to_copy.empty()) {
        pair->source_url = source;
        pair->destination_url = destination;
        open_pair = std::move(pair);
        co_return prepared;
    }
    // QUIT to both at once; their 221s are read only to part politely.
    for (ControlSession* session : {src, dst})
        if (session && session->is_open()) co_await session->send("QUIT");
    co_await (quit_reply(src) && quit_reply(dst));
    co_return prepared;
}

// DELE the files the source lacks, then RMD the directories it lacks (children first).
asio::awaitable<Status> delete_extra(const FtpUrl& destination, const MirrorPlan& plan,
                                     const TransferSettings& settings) {
    if (destination.is_local()) {
        // unlink(2) and rmdir(2), in the same order.
        for (const auto& file : plan.files_to_delete) {
            if (auto deleted = remove_local(join_path(destination.path, file), false); !deleted) co_return deleted;
            std::cerr << "deleted " << join_path(destination.path, file) << '\n';
        }
        for (const auto& directory : plan.directories_to_delete) {
            if (auto removed = remove_local(join_path(destination.path, directory), true); !removed) co_return removed;
            std::cerr << "deleted " << join_path(destination.path, directory) << "/\n";
        }
        co_return success();
    }
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    ControlSession dst(executor, Side::destination, settings.session);
    if (auto opened = co_await dst.open(destination.host, destination.port, credentials_for(destination, netrc),
                                        destination.implicit_tls());
        !opened)
        co_return opened;
    for (const auto& file : plan.files_to_delete) {
        auto deleted = co_await dst.expect(2, "DELE", join_path(destination.path, file));
        if (!deleted) co_return deleted.error();
        std::cerr << "deleted " << join_path(destination.path, file) << '\n';
    }
    for (const auto& directory : plan.directories_to_delete) {
        auto removed = co_await dst.expect(2, "RMD", join_path(destination.path, directory));
        if (!removed) co_return removed.error();
        std::cerr << "deleted " << join_path(destination.path, directory) << "/\n";
    }
    co_await dst.command("QUIT");
    co_return success();
}

FtpUrl with_path(FtpUrl url, std::string path) {
    url.path = std::move(path);
    return url;
}

} // namespace

int mirror_command(int argc, char** argv) {
    cxxopts::Options options("rsexec mirror", "Make a directory tree on one FTP server match a tree on another; "
                                              "files go directly between the servers. Either side may be a "
                                              "local directory (file:///abs/dir/ or /abs/dir/): uploads or downloads.");
    options.custom_help("[OPTIONS]");
    options.positional_help("SRC_DIR_URL DST_DIR_URL");
    options.add_options()
        ("only-newer", "copy only files missing at the destination or newer at the source (--overwrite newer)")
        ("size-only", "copy only files missing at the destination or of another size (--overwrite if-different)")
        ("delete", "delete destination files and directories the source does not have (never without this flag)")
        ("exclude", "skip paths or names matching this glob (repeatable)", cxxopts::value<std::vector<std::string>>())
        ("no-mkdirs", "do not make the destination directory's missing parents (made by default, parent first)")
        ("dry-run", "print what would be made, copied (with the dialect) and deleted, and the copies done in "
                    "the journal a run would skip; change nothing (JSON `plan` events like a run's)")
        ("h,help", "show this help")
        ("urls", "", cxxopts::value<std::vector<std::string>>());
    add_journal_options(options, "where the copies' states are kept, to resume an interrupted mirror: a "
                                 "SQLite file or postgresql://USER@HOST/DB (default: none)", true);
    add_batch_options(options);
    add_transfer_options(options);
    options.parse_positional({"urls"});

    const auto parsed = parse_command_line("rsexec mirror", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Journal", "Batch", "Transfer", "TLS (FTPS, RFC 4217)"}) << "\nExample:\n"
                  << "  rsexec mirror ftp://alice:pw@a.example/pub/ ftp://bob:pw@b.example/mirror/pub/\n"
                  << "  rsexec mirror /srv/site/ ftp://bob:pw@b.example/www/      (a local tree up to a server)\n\n"
                  << "Trees are listed with MLSD (else LIST). By default a file is copied when it is missing at the\n"
                  << "destination, has another size there, or is newer at the source (--overwrite\n"
                  << "if-different-or-newer, from the listings' size and modify facts); a second run copies nothing.\n"
                  << "Each copy gets the source's modification time (MDTM, then MFMT) where the destination offers\n"
                  << "MFMT in FEAT; elsewhere it keeps the time it was written at, later than the source's (said\n"
                  << "once with -v). A local directory's files are read with their size and mtime (symbolic links\n"
                  << "and special files are left alone); a downloaded file gets the source's time (utimensat).\n"
                  << "A listing entry longer than 8192 bytes, or with a name over 4096 bytes, is skipped with an\n"
                  << "error naming the server, and the mirror then exits 11.\n\n"
                  << exit_codes_help;
        return 0;
    }
    // Every option's value is checked before anything else.
    TransferSettings settings;
    if (!read_transfer_options("rsexec mirror", args, settings)) return static_cast<int>(ExitCode::usage);
    // A copy with the source's time is seen as up to date by the next run, whatever its clock.
    settings.copy.preserve_times = true;
    auto read = read_batch_options("rsexec mirror", args, settings);
    if (!read) return static_cast<int>(ExitCode::usage);
    BatchOptions batch = std::move(*read);
    JournalSettings journal_settings;
    if (!read_journal_options("rsexec mirror", args, journal_settings)) return static_cast<int>(ExitCode::usage);

    const auto urls = args.count("urls") ? args["urls"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (urls.size() != 2) {
        std::cerr << "rsexec mirror: need SRC_DIR_URL and DST_DIR_URL (try rsexec mirror --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    // Either side may be a local directory (file:///abs/dir/ or /abs/dir/), not both.
    auto source = parse_url(urls[0]);
    if (!source) return report_failure(source.error());
    auto destination = parse_url(urls[1]);
    if (!destination) return report_failure(destination.error());
    if (source->is_local() && destination->is_local()) {
        std::cerr << "rsexec mirror: both sides are local directories: rsexec mirrors to or from an FTP server\n";
        return static_cast<int>(ExitCode::usage);
    }
    // A tree mirrored onto itself, or into or out of a directory inside it, reads what it writes.
    if (same_or_nested_directories(*source, *destination)) {
        std::cerr << "rsexec mirror: the source and destination are the same directory, or one is inside the other, "
                     "on one server: "
                  << source->display() << " and " << destination->display() << '\n';
        return static_cast<int>(ExitCode::usage);
    }
    if (args.count("only-newer") + args.count("size-only") + args.count("overwrite") > 1) {
        std::cerr << "rsexec mirror: --only-newer, --size-only and --overwrite exclude each other\n";
        return static_cast<int>(ExitCode::usage);
    }
    PasswordPrompt passwords(settings.netrc ? &*settings.netrc : nullptr);
    for (FtpUrl* url : {&*source, &*destination})
        if (auto given = passwords.complete(*url); !given) return report_failure(given.error());
    MirrorPolicy policy;
    policy.overwrite = args.count("overwrite")  ? settings.copy.overwrite
        : args.count("only-newer")              ? Overwrite::newer
        : args.count("size-only")               ? Overwrite::if_different
                                                : Overwrite::different_or_newer;
    policy.compare_digests =
        settings.copy.verify == Verify::checksum || settings.copy.verify == Verify::checksum_if_available;
    // Decided from the listings: the copies replace what they find, except those whose digests
    // decide, which carry the policy to ask for them.
    batch.copy.overwrite = Overwrite::always;
    policy.delete_extra = args.count("delete") > 0;
    if (args.count("exclude")) policy.excludes = args["exclude"].as<std::vector<std::string>>();
    const bool dry_run = args.count("dry-run") > 0;

    asio::io_context io;
    std::shared_ptr<OpenPair> open_pair;
    const bool make_parents = args.count("no-mkdirs") == 0;
    auto prepared =
        run_to_completion(io, prepare(*source, *destination, settings, policy, dry_run, make_parents, open_pair));
    if (!prepared) return report_failure(prepared.error());
    io.restart();
    const MirrorPlan& plan = prepared->plan;
    // Entries no listing could hold are not mirrored: said now, and in the exit code at the end.
    for (const auto& skipped : prepared->skipped) std::cerr << "rsexec: " << skipped << '\n';

    std::vector<JobItem> items;
    for (const auto& file : plan.files_to_copy) {
        // A directory URL where the destination has a directory of the file's name: into it.
        const std::string into = plan.files_into_directories.count(file) ? "/" : "";
        items.push_back({0, with_path(*source, join_path(source->path, file)),
                         with_path(*destination, join_path(destination->path, file) + into), false, std::nullopt,
                         std::nullopt});
    }
    for (const auto& file : plan.files_to_compare)
        items.push_back({0, with_path(*source, join_path(source->path, file)),
                         with_path(*destination, join_path(destination->path, file)), false, policy.overwrite, std::nullopt});
    const bool journaled = journal_settings.where && !journal_settings.none;
    const bool json = wants_json(args);

    if (dry_run) {
        std::set<std::string> done;
        if (journaled) {
            auto read_done = done_in_journal(journal_settings, "", "mirror", items);
            if (!read_done) return report_failure(read_done.error());
            done = std::move(*read_done);
        }
        PlanReport report(json);
        for (const auto& dir : plan.directories_to_make)
            report.make_directory(with_path(*destination, join_path(destination->path, dir)));
        for (std::size_t index = 0; index < items.size(); ++index)
            report.copy(index, items[index], &prepared->dialect, done.count(journal_key(items[index])) ? "done" : nullptr);
        // What the policy keeps: at the destination already.
        for (const auto& [file, reason] : plan.files_kept)
            report.kept(JobItem{0, with_path(*source, join_path(source->path, file)),
                                with_path(*destination, join_path(destination->path, file)), false, std::nullopt, std::nullopt},
                        reason);
        if (policy.delete_extra) {
            for (const auto& file : plan.files_to_delete)
                report.remove(with_path(*destination, join_path(destination->path, file)), false);
            for (const auto& dir : plan.directories_to_delete)
                report.remove(with_path(*destination, join_path(destination->path, dir)), true);
        }
        report.summary(plan.up_to_date);
        return prepared->skipped.empty() ? 0 : static_cast<int>(ExitCode::partial);
    }

    std::unique_ptr<Journal> journal;
    if (journaled) {
        auto opened = open_journal_from(journal_settings, "", "mirror");
        if (!opened) return report_failure(opened.error());
        journal = std::move(*opened);
    }
    std::optional<UnfinishedJobFile> dump;
    if (journal_settings.dump_failed) {
        auto created = UnfinishedJobFile::create(*journal_settings.dump_failed);
        if (!created) return report_failure(created.error());
        dump.emplace(std::move(*created));
        if (!journal) {
            auto memory = journal_for_dump(journal_settings, "mirror");
            if (!memory) return report_failure(memory.error());
            journal = std::move(*memory);
        }
    }
    batch.journal = journal.get();
    batch.open_pair = std::move(open_pair);
    // The listing showed what each destination is: no question per file, pipelined everywhere.
    batch.destinations_name_files = true;
    int code = 0;
    const std::size_t total = items.size();
    // With JSON, an empty run too: its summary carries every field README's table gives one.
    if (!items.empty() || json) code = run_items(io, std::move(items), std::move(batch), json, total, prepared->bytes_to_copy);
    else std::cout << fmt::format("nothing to copy ({} files up to date)\n", plan.up_to_date);
    io.restart();
    if (dump) code = finish_unfinished_job_file(&*dump, *journal, {}, code);

    const bool deletions = !plan.files_to_delete.empty() || !plan.directories_to_delete.empty();
    if (policy.delete_extra && deletions && code == 0) {
        auto deleted = run_to_completion(io, delete_extra(*destination, plan, settings));
        if (!deleted) return report_failure(deleted.error());
    }
    if (code == 0 && !prepared->skipped.empty()) return static_cast<int>(ExitCode::partial);
    return code;
}

} // namespace rsexec::cli
