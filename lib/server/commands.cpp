// The command table and one handler per verb. Handlers check, act and reply; sockets, the jail
// and the policy live in their own files.
// The handlers are in commands_*.cpp by command family; command_helpers.hpp has what they share.
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
namespace command_helpers {

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool equals_nocase(std::string_view a, std::string_view b) { return upper(a) == upper(b); }

// RFC 959 Appendix II: a quote inside a quoted path name is doubled.
std::string quoted_path(std::string_view path) {
    std::string out = "\"";
    for (char c : path) {
        out += c;
        if (c == '"') out += '"';
    }
    return out + "\"";
}

// Runs on the login pool: a crypt(3) hash takes milliseconds (account.hpp).
asio::awaitable<bool> check_password(const std::vector<Account>& accounts, std::string name, std::string password) {
    co_return check_login(accounts, name, password);
}

bool is_anonymous_name(std::string_view name) { return equals_nocase(name, "anonymous") || equals_nocase(name, "ftp"); }

std::chrono::sys_seconds now_seconds() {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// LIST and NLST arguments may start with ls options ("-la"), which are ignored.
std::string_view without_ls_options(std::string_view argument) {
    while (!argument.empty() && argument.front() == '-') {
        const auto space = argument.find(' ');
        argument = space == std::string_view::npos ? std::string_view{} : argument.substr(space + 1);
        while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);
    }
    return argument;
}

// Files are opened O_NONBLOCK so that a FIFO or device in the root cannot block the server;
// once fstat(2) showed a regular file, the flag goes (it means nothing there anyway).
bool regular_file(int fd, struct ::stat& st) {
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    const int flags = ::fcntl(fd, F_GETFL);
    return flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

Error errno_error(const std::string& what) { return Error(std::error_code(errno, std::generic_category()), what); }

} // namespace command_helpers

using namespace command_helpers;


// The table. Before login only the login sequence and harmless commands are allowed
// (RFC 959 4.2: 530 otherwise). During a transfer ABOR, STAT and NOOP are answered at once;
// everything else waits for the transfer to end, as on a server that reads commands in turn.
const CommandSpec* find_command(std::string_view verb) {
    using A = Argument;
    static const std::array<CommandSpec, 51> table{{
        {"USER", &Session::on_user, A::required, true, false},
        {"PASS", &Session::on_pass, A::optional, true, false},
        {"QUIT", &Session::on_quit, A::none, true, false},
        {"NOOP", &Session::on_noop, A::none, true, true},
        {"SYST", &Session::on_syst, A::none, true, false},
        {"FEAT", &Session::on_feat, A::none, true, false},
        {"OPTS", &Session::on_opts, A::required, true, false},
        {"HELP", &Session::on_help, A::optional, true, false},
        {"TYPE", &Session::on_type, A::required, false, false},
        {"MODE", &Session::on_mode, A::required, false, false},
        {"STRU", &Session::on_stru, A::required, false, false},
        {"ALLO", &Session::on_allo, A::optional, false, false},
        {"PWD", &Session::on_pwd, A::none, false, false},
        {"XPWD", &Session::on_pwd, A::none, false, false},
        {"CWD", &Session::on_cwd, A::optional, false, false},
        {"XCWD", &Session::on_cwd, A::optional, false, false},
        {"CDUP", &Session::on_cdup, A::none, false, false},
        {"XCUP", &Session::on_cdup, A::none, false, false},
        {"PASV", &Session::on_pasv, A::none, false, false},
        {"EPSV", &Session::on_epsv, A::optional, false, false},
        {"PORT", &Session::on_port, A::required, false, false},
        {"EPRT", &Session::on_eprt, A::required, false, false},
        {"LSTN", &Session::on_lstn, A::optional, false, false},
        {"SOCK", &Session::on_sock, A::required, false, false},
        {"RETR", &Session::on_retr, A::required, false, false},
        {"STOR", &Session::on_stor, A::required, false, false},
        {"APPE", &Session::on_appe, A::required, false, false},
        {"REST", &Session::on_rest, A::required, false, false},
        {"SIZE", &Session::on_size, A::required, false, false},
        {"MDTM", &Session::on_mdtm, A::required, false, false},
        {"MFMT", &Session::on_mfmt, A::required, false, false},
        {"LIST", &Session::on_list, A::optional, false, false},
        {"NLST", &Session::on_nlst, A::optional, false, false},
        {"MLSD", &Session::on_mlsd, A::optional, false, false},
        {"MLST", &Session::on_mlst, A::optional, false, false},
        {"DELE", &Session::on_dele, A::required, false, false},
        {"MKD", &Session::on_mkd, A::required, false, false},
        {"XMKD", &Session::on_mkd, A::required, false, false},
        {"RMD", &Session::on_rmd, A::required, false, false},
        {"XRMD", &Session::on_rmd, A::required, false, false},
        {"RNFR", &Session::on_rnfr, A::required, false, false},
        {"RNTO", &Session::on_rnto, A::required, false, false},
        {"ABOR", &Session::on_abor, A::none, false, true},
        {"STAT", &Session::on_stat, A::optional, false, true},
        {"HASH", &Session::on_hash, A::required, false, false},
        {"XSHA256", &Session::on_xsha256, A::required, false, false},
        // RFC 4217 (AUTH, PBSZ, PROT before login, as clients send them); SSCN and CPSV
        // (server-to-server TLS, tls.hpp).
        {"AUTH", &Session::on_auth, A::required, true, false},
        {"PBSZ", &Session::on_pbsz, A::required, true, false},
        {"PROT", &Session::on_prot, A::required, true, false},
        {"SSCN", &Session::on_sscn, A::optional, false, false},
        {"CPSV", &Session::on_cpsv, A::none, false, false},
    }};
    const auto wanted = upper(verb);
    const auto it = std::find_if(table.begin(), table.end(), [&](const CommandSpec& c) { return c.verb == wanted; });
    return it == table.end() ? nullptr : &*it;
}

bool sets_up_data_connection(std::string_view verb) {
    for (std::string_view v : {"PASV", "EPSV", "PORT", "EPRT", "LSTN", "SOCK", "CPSV"})
        if (verb == v) return true;
    return false;
}

bool allowed_in_clear(std::string_view verb) {
    static constexpr std::array<std::string_view, 7> verbs{"AUTH", "FEAT", "QUIT", "NOOP", "SYST", "HELP", "OPTS"};
    return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

const std::vector<std::string>& feature_lines(bool tls) {
    // RFC 2389 3.2; RFC 2428 (EPRT, EPSV); RFC 3659 (MDTM, MLST, REST STREAM, SIZE, TVFS);
    // draft-bryan-ftpext-hash (HASH); draft-somers-ftp-mfxx (MFMT); RFC 438 over TCP (LSTN)
    // and RFC 959 block mode with a kept data connection (MODE B), docs/PROTOCOL.md; with a
    // certificate RFC 4217 (AUTH TLS, PBSZ, PROT) and the server-to-server TLS commands SSCN and
    // CPSV.
    static const std::vector<std::string> clear{
        "EPRT", "EPSV", "HASH SHA-256*", "LSTN", "MDTM", "MFMT", "MLST type*;size*;modify*;perm*;",
        "MODE B", "REST STREAM", "SIZE", "TVFS", "UTF8", "XSHA256",
    };
    static const std::vector<std::string> with_tls{
        "AUTH TLS", "CPSV", "EPRT", "EPSV", "HASH SHA-256*", "LSTN", "MDTM", "MFMT", "MLST type*;size*;modify*;perm*;",
        "MODE B", "PBSZ", "PROT", "REST STREAM", "SIZE", "SSCN", "TVFS", "UTF8", "XSHA256",
    };
    return tls ? with_tls : clear;
}

// ---- helpers -------------------------------------------------------------------------------

std::optional<std::string> Session::target_path(std::string_view argument) {
    auto path = virtual_path(cwd_, argument);
    if (!path) {
        context_.log.warning("{} refused path '{}': {}", tag_, printable_name(argument), path.error().message);
        reply(550, "Permission denied: path leaves the root");
        return std::nullopt;
    }
    return std::move(*path);
}

void Session::reply_jail_error(const std::string& path, const Error& error, int code, std::string_view text) {
    // EXDEV: openat2 met a symlink leading out of the root; ELOOP: a symlink that is not followed
    // (the last segment of a file to create, or any segment without openat2).
    if (error.code == std::errc::cross_device_link || error.code == std::errc::too_many_symbolic_link_levels) {
        context_.log.warning("{} refused path '{}': {}", tag_, printable_name(path), error.message);
        reply(code, error.code == std::errc::cross_device_link ? "Permission denied: path leaves the root"
                                                                : "Permission denied: symlink not followed");
        return;
    }
    reply(code, text);
}

std::optional<FileDescriptor> Session::open_target(const std::string& path, int flags, int code,
                                                   std::string_view text) {
    auto file = context_.jail.open_path(path, flags);
    if (!file) {
        reply_jail_error(path, file.error(), code, text);
        return std::nullopt;
    }
    return std::move(*file);
}

std::optional<JailEntry> Session::parent_of(const std::string& path, int code, std::string_view text) {
    auto entry = context_.jail.open_parent(path);
    if (!entry) {
        reply_jail_error(path, entry.error(), code, text);
        return std::nullopt;
    }
    return std::move(*entry);
}

bool Session::refuse_new_name(const std::string& path) {
    if (!has_control_character(virtual_name(path))) return false;
    context_.log.warning("{} refused new name '{}': control character", tag_, printable_name(path));
    reply(553, "File name not allowed: control characters");
    return true;
}

bool Session::require_write() {
    if (access_ == Access::read_write) return true;
    reply(550, "Permission denied: read-only login");
    return false;
}

} // namespace rsexec::server
