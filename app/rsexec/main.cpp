// rsexec: server-to-server FTP transfers (RFC 438, RFC 959 5.2, RFC 2428).
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "exit_codes_help.hpp"
#include "version.hpp"

namespace {

void usage(std::ostream& out) {
    out << "rsexec - copy files between two FTP servers, directly from one to the other\n\n"
           "Usage: rsexec COMMAND [OPTIONS] ...\n\n"
           "Commands:\n"
           "  copy SRC_URL... DST_URL  copy files (patterns, -r trees) from one server to another\n"
           "  batch JOBFILE|-          run the transfers a job file lists, with a journal and retries\n"
           "  mirror SRC_DIR DST_DIR   make a directory tree on one server match a tree on another\n"
           "  worker --journal URI     work on a job shared in PostgreSQL, with other workers\n"
           "  status --journal WHERE   a job's progress: done, running, pending, failed, per worker\n"
           "  ls [-lhR] [--json] URL   list a directory: names, sizes, times, a whole tree\n\n"
           "URLs look like ftp://user:password@host:port/path; a DST_URL ending in '/' keeps\n"
           "the source's file name. `rsexec COMMAND --help` explains each command.\n\n"
           "Options:\n"
           "  -h, --help               this help\n"
           "      --version            the version (and the git commit it was built from)\n\n"
        << rsexec::cli::exit_codes_help;
}

// Other users see a process's arguments in ps(1): keep private copies for parsing and overwrite
// the password of every URL in the originals with '*', as curl does for -u.
std::vector<char*> hide_passwords(int argc, char** argv, std::vector<std::string>& copies) {
    copies.assign(argv, argv + argc);
    std::vector<char*> pointers;
    for (auto& copy : copies) pointers.push_back(copy.data());
    for (int i = 1; i < argc; ++i) {
        char* arg = argv[i];
        char* scheme = std::strstr(arg, "://");
        if (!scheme) continue;
        char* authority = scheme + 3;
        char* end = authority + std::strcspn(authority, "/");
        char* at = nullptr;
        for (char* c = authority; c < end; ++c)
            if (*c == '@') at = c;
        if (!at) continue;
        char* colon = static_cast<char*>(std::memchr(authority, ':', static_cast<std::size_t>(at - authority)));
        if (colon)
            for (char* c = colon + 1; c < at; ++c) *c = '*';
    }
    return pointers;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> copies;
    std::vector<char*> arguments = hide_passwords(argc, argv, copies);
    argv = arguments.data();
    if (argc < 2) {
        usage(std::cerr);
        return 2;
    }
    const std::string_view command = argv[1];
    if (command == "-h" || command == "--help" || command == "help") {
        usage(std::cout);
        return 0;
    }
    if (command == "--version") {
        std::cout << rsexec::app::version_line("rsexec") << '\n';
        return 0;
    }
    if (command == "copy") return rsexec::cli::copy_command(argc - 1, argv + 1);
    if (command == "batch") return rsexec::cli::batch_command(argc - 1, argv + 1);
    if (command == "mirror") return rsexec::cli::mirror_command(argc - 1, argv + 1);
    if (command == "worker") return rsexec::cli::worker_command(argc - 1, argv + 1);
    if (command == "status") return rsexec::cli::status_command(argc - 1, argv + 1);
    if (command == "ls") return rsexec::cli::ls_command(argc - 1, argv + 1);
    std::cerr << "rsexec: unknown command '" << command << "' (try rsexec --help)\n";
    return 2;
}
