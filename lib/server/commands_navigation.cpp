// Navigation and listing: PWD, CWD, CDUP, LIST, NLST, MLSD, MLST, SIZE, MDTM, STAT.
#include "server/commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "ftp/address.hpp"
#include "server/checksum.hpp"
#include "server/endpoint.hpp"
#include "server/listing.hpp"
#include "server/session.hpp"
#include "command_helpers.hpp"

namespace rsexec::server {
using namespace command_helpers;

// ---- directories ---------------------------------------------------------------------------

asio::awaitable<void> Session::on_pwd(std::string) {
    reply(257, quoted_path(printable_name(cwd_)) + " is the current directory");
    co_return;
}

asio::awaitable<void> Session::on_cwd(std::string argument) {
    auto path = target_path(argument.empty() ? "/" : argument);
    if (!path || !open_target(*path, O_PATH | O_DIRECTORY, 550, "Failed to change directory")) co_return;
    cwd_ = std::move(*path);
    reply(250, "Directory successfully changed");
}

asio::awaitable<void> Session::on_cdup(std::string) { co_await on_cwd(".."); }

// ---- file facts (RFC 3659) -----------------------------------------------------------------

asio::awaitable<void> Session::on_size(std::string argument) {
    auto path = target_path(argument);
    if (!path) co_return;
    auto file = open_target(*path, O_PATH, 550, "Could not get file size");
    if (!file) co_return;
    struct ::stat st {};
    if (::fstat(file->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        reply(550, "Could not get file size");
        co_return;
    }
    reply(213, std::to_string(st.st_size));
}

asio::awaitable<void> Session::on_mdtm(std::string argument) {
    auto path = target_path(argument);
    if (!path) co_return;
    auto file = open_target(*path, O_PATH, 550, "Could not get file modification time");
    if (!file) co_return;
    struct ::stat st {};
    if (::fstat(file->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        reply(550, "Could not get file modification time");
        co_return;
    }
    reply(213, format_time_val(std::chrono::sys_seconds(std::chrono::seconds(st.st_mtim.tv_sec))));
}

asio::awaitable<void> Session::on_mlst(std::string argument) {
    auto path = target_path(argument.empty() ? "." : argument);
    if (!path) co_return;
    auto file = open_target(*path, O_PATH, 550, "No such file or directory");
    if (!file) co_return;
    auto entry = entry_of(file->get(), *path);
    if (!entry) {
        reply(550, "No such file or directory");
        co_return;
    }
    // RFC 3659 7.2: the facts line starts with a space, and names the path as given.
    reply_lines(250, "Listing " + printable_name(*path), {format_facts(*entry, access_ == Access::read_write)},
                "End");
}

asio::awaitable<void> Session::list(std::string argument, std::string verb) {
    if (!data_ready()) co_return;
    const auto path = verb == "MLSD" ? std::string_view(argument) : without_ls_options(argument);
    auto target = target_path(path.empty() ? "." : path);
    if (!target) co_return;
    auto opened = open_target(*target, O_PATH, 550, "No such file or directory");
    if (!opened) co_return;
    std::vector<Entry> entries;
    struct ::stat st {};
    if (::fstat(opened->get(), &st) == 0 && S_ISDIR(st.st_mode)) {
        auto read = read_directory(opened->get());
        if (!read) {
            reply(550, "Failed to list directory");
            co_return;
        }
        entries = std::move(*read);
    } else if (verb == "MLSD") {
        reply(501, "MLSD needs a directory");
        co_return;
    } else {
        auto entry = entry_of(opened->get(), virtual_name(*target));
        if (!entry) {
            reply(550, "No such file or directory");
            co_return;
        }
        entries.push_back(std::move(*entry));
    }
    std::string text;
    const auto now = now_seconds();
    const bool writable = access_ == Access::read_write;
    for (const auto& entry : entries) {
        if (verb == "LIST") text += format_list_line(entry, now);
        else if (verb == "MLSD") text += format_facts(entry, writable);
        else text += printable_name(entry.name);
        text += "\r\n";
    }
    start_transfer(std::move(verb), printable_name(*target), SendText{std::move(text)});
}

asio::awaitable<void> Session::on_list(std::string argument) {
    co_await transfer_command(list(std::move(argument), "LIST"));
}

asio::awaitable<void> Session::on_nlst(std::string argument) {
    co_await transfer_command(list(std::move(argument), "NLST"));
}

asio::awaitable<void> Session::on_mlsd(std::string argument) {
    co_await transfer_command(list(std::move(argument), "MLSD"));
}

asio::awaitable<void> Session::on_stat(std::string argument) {
    if (transfer_) {
        reply_lines(213, "Status follows:", {status_lines_of_transfer()}, "End of status");
        co_return;
    }
    if (argument.empty()) {
        std::vector<std::string> lines{
            "Connected to " + endpoint_text(peer_),
            access_ ? "Logged in as " + user_ + (access_ == Access::read_write ? " (read-write)" : " (read-only)")
                    : std::string("Not logged in"),
            std::string("TYPE: ") + (binary_ ? "BINARY" : "ASCII") + ", MODE: " + (block_mode_ ? "Block" : "Stream") +
                ", STRU: File",
            "Directory: " + cwd_,
        };
        if (kept_data_) lines.emplace_back("Data connection: open, kept after the last transfer (block mode)");
        if (tls_enabled())
            lines.push_back(fmt::format("TLS: control connection {}, data PROT {}, SSCN:{} METHOD",
                                        control_tls_ ? "protected" : "clear", protect_data_ ? "P" : "C",
                                        sscn_ == Sscn::on ? "CLIENT" : "SERVER"));
        reply_lines(211, "rsexecd status:", lines, "End of status");
        co_return;
    }
    if (!access_) {
        reply(530, "Please login with USER and PASS");
        co_return;
    }
    // RFC 959 STAT path: the listing over the control connection.
    auto path = target_path(without_ls_options(argument));
    if (!path) co_return;
    auto opened = open_target(*path, O_PATH, 550, "No such file or directory");
    if (!opened) co_return;
    std::vector<std::string> lines;
    const auto now = now_seconds();
    struct ::stat st {};
    if (::fstat(opened->get(), &st) == 0 && S_ISDIR(st.st_mode)) {
        auto read = read_directory(opened->get());
        if (read)
            for (const auto& entry : *read) lines.push_back(format_list_line(entry, now));
    } else if (auto entry = entry_of(opened->get(), virtual_name(*path))) {
        lines.push_back(format_list_line(*entry, now));
    } else {
        reply(550, "No such file or directory");
        co_return;
    }
    reply_lines(213, "Status of " + printable_name(*path) + ":", lines, "End of status");
}

} // namespace rsexec::server
