// rsexec ls URL: what a directory holds, as MLSD (else LIST) tells, for a person or a script.
#include <iostream>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <cxxopts.hpp>

#include "client/control_session.hpp"
#include "client/directory_tree.hpp"
#include "client/glob_expansion.hpp"
#include "client/run.hpp"
#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "ftp/exit_code.hpp"
#include "ftp/glob.hpp"
#include "listing_output.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {
namespace {

struct LsRequest {
    FtpUrl url;
    bool recursive = false;
    WalkBounds bounds;
};

// Lists the URL's directory (or, for a pattern, the matching entries of its directory, and with
// -R what the matching directories hold).
asio::awaitable<Expected<DirectoryWalk>> list_url(const LsRequest& request, const TransferSettings& settings) {
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    ControlSession session(executor, Side::source, settings.session);
    const FtpUrl& url = request.url;
    if (auto opened = co_await session.open(url.host, url.port, credentials_for(url, netrc), url.implicit_tls()); !opened)
        co_return opened.error();
    DirectoryWalk walk;
    const auto last = split_pattern_path(url.path).pattern;
    if (has_glob_characters(last)) {
        auto matches = co_await expand_glob(session, url.path);
        if (!matches) co_return matches.error();
        for (auto& match : *matches) {
            const bool enter = request.recursive && match.entry.type == ListEntry::Type::directory && !match.entry.symlink;
            const std::string name = match.entry.name;
            walk.entries.push_back({name, std::move(match.entry)});
            if (!enter) continue;
            auto below = co_await walk_directory(session, match.path, true, request.bounds);
            if (!below) {
                walk.incomplete.push_back(name + ": not listed: " + below.error().message);
                continue;
            }
            for (auto& entry : below->entries) walk.entries.push_back({name + "/" + entry.path, std::move(entry.entry)});
            for (auto& note : below->incomplete) walk.incomplete.push_back(name + "/" + note);
        }
    } else {
        auto listed = co_await walk_directory(session, literal_path(url.path), request.recursive, request.bounds);
        if (!listed) co_return listed.error();
        walk = std::move(*listed);
    }
    co_await session.send("QUIT");
    if (session.is_open()) co_await session.read_reply(std::chrono::seconds(2));
    session.close();
    co_return walk;
}

// The options ls shares with copy, handed to the copy options' reader under their own names so
// that their values are checked and reported the same way.
bool read_connection_options(const cxxopts::ParseResult& args, TransferSettings& settings) {
    cxxopts::Options shared("rsexec ls");
    add_transfer_options(shared);
    std::vector<std::string> words{"rsexec ls"};
    for (const char* name : {"timeout", "netrc", "tls", "ca-file"})
        if (args.count(name)) {
            words.push_back(std::string("--") + name);
            words.push_back(args[name].as<std::string>());
        }
    for (const char* name : {"insecure", "verbose"})
        if (args.count(name)) words.push_back(std::string("--") + name);
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    const auto parsed = parse_command_line("rsexec ls", shared, static_cast<int>(argv.size()), argv.data());
    return parsed && read_transfer_options("rsexec ls", *parsed, settings);
}

} // namespace

int ls_command(int argc, char** argv) {
    cxxopts::Options options("rsexec ls", "List a directory on an FTP server (MLSD, else LIST in the Unix or DOS "
                                          "form).");
    options.custom_help("[OPTIONS]");
    options.positional_help("URL");
    options.add_options()
        ("l,long", "one entry a line with its type (d directory, - file, l symbolic link, ? other), size and "
                   "modification time (UTC, where the server gives one)")
        ("h,human-readable", "with -l: sizes in IEC units (KiB, MiB, GiB, ...)")
        ("R,recursive", "list the directories below too, depth first, each entry by its path; symbolic links are "
                        "listed, never entered; at most 64 levels and 1000000 entries")
        ("json", "one JSON object per entry: name, type (file, dir, symlink, other), size, modify "
                 "(YYYYMMDDHHMMSS, UTC), and path with -R")
        ("help", "show this help (-h is --human-readable)")
        ("url", "", cxxopts::value<std::vector<std::string>>());
    options.add_options("Connection")
        ("timeout", "seconds to wait for any server reply", cxxopts::value<std::string>())
        ("netrc", "credentials file for URLs without user and password (default: ~/.netrc)",
         cxxopts::value<std::string>())
        ("v,verbose", "print the control dialogue (src> / src<), passwords masked");
    options.add_options("TLS (FTPS, RFC 4217)")
        ("tls", "for ftp:// URLs: required, optional or off (default); ftps:// URLs always use TLS",
         cxxopts::value<std::string>())
        ("ca-file", "verify servers against the CA certificates in this PEM file instead of the system's",
         cxxopts::value<std::string>())
        ("insecure", "do not verify server certificates");
    options.parse_positional({"url"});

    const auto parsed = parse_command_line("rsexec ls", options, argc, argv);
    if (!parsed) return static_cast<int>(ExitCode::usage);
    const cxxopts::ParseResult& args = *parsed;
    if (args.count("help")) {
        std::cout << options.help({"", "Connection", "TLS (FTPS, RFC 4217)"}) << "\nExamples:\n"
                  << "  rsexec ls -l -h ftp://alice:pw@a.example/pub/\n"
                  << "  rsexec ls -R --json ftp://a.example/pub/ > tree.jsonl\n"
                  << "  rsexec ls 'ftp://a.example/pub/*.iso'\n\n"
                  << "A pattern (*, ?, [...], [!...], \\ to escape) in the URL's last component lists the matching\n"
                  << "entries of its directory; the server never sees it. Entries longer than 8192 bytes or with\n"
                  << "a name over 4096 bytes are skipped. Anything -R could not list (a refused directory, a loop,\n"
                  << "the bounds) is named on stderr and the exit code is 11.\n\n"
                  << exit_codes_help;
        return 0;
    }
    const auto urls = args.count("url") ? args["url"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (urls.size() != 1) {
        std::cerr << "rsexec ls: need one URL (try rsexec ls --help)\n";
        return static_cast<int>(ExitCode::usage);
    }
    TransferSettings settings;
    if (!read_connection_options(args, settings)) return static_cast<int>(ExitCode::usage);
    auto url = parse_ftp_url(urls[0]);
    if (!url) return report_failure(url.error());
    const auto last = split_pattern_path(url->path).pattern;
    if (has_glob_characters(last)) {
        if (auto pattern = GlobPattern::parse(last); !pattern) return report_failure(pattern.error());
    }
    ListingStyle style;
    style.long_form = args.count("long") > 0;
    style.human_sizes = args.count("human-readable") > 0;
    style.json = args.count("json") > 0;
    style.paths = args.count("recursive") > 0;

    LsRequest request{*url, args.count("recursive") > 0, {}};
    asio::io_context io;
    const auto walk = run_to_completion(io, list_url(request, settings));
    if (!walk) return report_failure(walk.error());
    for (const auto& listed : walk->entries) std::cout << format_listed_entry(listed, style) << '\n';
    std::cout.flush();
    for (const auto& note : walk->incomplete) std::cerr << "rsexec ls: " << note << '\n';
    return walk->incomplete.empty() ? 0 : static_cast<int>(ExitCode::partial);
}

} // namespace rsexec::cli
