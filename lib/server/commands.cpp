// The command table and one handler per verb. Handlers check, act and reply; sockets, the jail
// and the policy live in their own files.
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

namespace rsexec::server {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

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

} // namespace

// The table. Before login only the login sequence and harmless commands are allowed
// (RFC 959 4.2: 530 otherwise). During a transfer ABOR, STAT and NOOP are answered at once;
// everything else waits for the transfer to end, as on a server that reads commands in turn.
const CommandSpec* find_command(std::string_view verb) {
    using A = Argument;
    static const std::array<CommandSpec, 50> table{{
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
    // draft-bryan-ftpext-hash (HASH); RFC 438 over TCP (LSTN) and RFC 959 block mode with a kept
    // data connection (MODE B), docs/PROTOCOL.md; with a certificate RFC 4217 (AUTH TLS, PBSZ,
    // PROT) and the server-to-server TLS commands SSCN and CPSV.
    static const std::vector<std::string> clear{
        "EPRT", "EPSV", "HASH SHA-256*", "LSTN", "MDTM", "MLST type*;size*;modify*;perm*;", "MODE B",
        "REST STREAM", "SIZE", "TVFS", "UTF8", "XSHA256",
    };
    static const std::vector<std::string> with_tls{
        "AUTH TLS", "CPSV", "EPRT", "EPSV", "HASH SHA-256*", "LSTN", "MDTM", "MLST type*;size*;modify*;perm*;",
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

// ---- login (RFC 959 4.1.1) ------------------------------------------------------------------

asio::awaitable<void> Session::on_user(std::string argument) {
    access_.reset();
    pending_user_ = argument;
    if (is_anonymous_name(argument)) reply(331, "Anonymous login ok, send your e-mail address as password");
    else reply(331, "Password required for " + argument);
    co_return;
}

asio::awaitable<void> Session::on_pass(std::string argument) {
    if (!pending_user_) {
        reply(503, "Login with USER first");
        co_return;
    }
    const std::string name = *std::exchange(pending_user_, std::nullopt);
    const auto address = LoginThrottle::address_key(peer_.address());
    if (!co_await wait_for_login_turn(address)) co_return;
    std::optional<Access> granted;
    if (co_await asio::co_spawn(context_.logins.get_executor(), check_password(context_.config.accounts, name, argument),
                                asio::use_awaitable))
        granted = Access::read_write;
    if (!granted && is_anonymous_name(name) && context_.config.anonymous != AnonymousAccess::off)
        granted = context_.config.anonymous == AnonymousAccess::read_write ? Access::read_write : Access::read_only;
    if (granted) {
        context_.throttle.succeeded(address, name);
        access_ = granted;
        user_ = name;
        cwd_ = "/";
        context_.log.info("{} logged in as {} ({})", tag_, name, *granted == Access::read_write ? "rw" : "ro");
        reply(230, "Login successful");
        co_return;
    }
    ++failed_logins_;
    context_.log.warning("{} failed login as {}", tag_, name);
    // RFC 2577 5: slow down password guessing; an account guessed at from many places, more.
    const auto penalty = context_.throttle.failed(address, name, Clock::now());
    if (penalty > Clock::duration::zero())
        context_.log.warning("{} login as {} throttled: the account's failures hold this 530 {:.0f} s more", tag_,
                             name, std::chrono::duration<double>(penalty).count());
    login_delay_.expires_after(context_.config.login_delay + penalty);
    co_await login_delay_.async_wait(use_tuple);
    if (failed_logins_ >= context_.config.max_login_failures) {
        reply(421, "Too many failed logins, closing control connection");
        close_when_sent_ = true;
        co_return;
    }
    reply(530, "Login incorrect");
}

asio::awaitable<void> Session::on_quit(std::string) {
    close_kept_data("QUIT");
    reply(221, "Goodbye");
    close_when_sent_ = true;
    co_return;
}

asio::awaitable<void> Session::on_noop(std::string) {
    reply(200, "NOOP ok");
    co_return;
}

asio::awaitable<void> Session::on_syst(std::string) {
    reply(215, "UNIX Type: L8");
    co_return;
}

asio::awaitable<void> Session::on_feat(std::string) {
    reply_lines(211, "Features:", feature_lines(tls_enabled()), "End");
    co_return;
}

asio::awaitable<void> Session::on_opts(std::string argument) {
    const auto space = argument.find(' ');
    const auto option = upper(std::string_view(argument).substr(0, space));
    const auto value = space == std::string::npos ? std::string{} : upper(std::string_view(argument).substr(space + 1));
    if (option == "UTF8" && (value.empty() || value == "ON")) reply(200, "Always in UTF8 mode");
    else if (option == "HASH" && (value.empty() || value == "SHA-256")) reply(200, "SHA-256");
    else if (option == "HASH") reply(501, "Unknown algorithm, only SHA-256");
    else if (option == "MLST") reply(200, "MLST OPTS type;size;modify;perm;");
    else reply(501, "Option not understood");
    co_return;
}

asio::awaitable<void> Session::on_help(std::string) {
    std::string verbs;
    for (const auto* verb : {"USER", "PASS", "QUIT", "NOOP", "SYST", "FEAT", "OPTS", "TYPE", "MODE", "STRU",
                             "PWD", "CWD", "CDUP", "PASV", "EPSV", "PORT", "EPRT", "LSTN", "SOCK", "RETR", "STOR",
                             "APPE", "REST", "SIZE", "MDTM", "LIST", "NLST", "MLSD", "MLST", "DELE", "MKD", "RMD",
                             "RNFR", "RNTO", "ABOR", "STAT", "HASH", "XSHA256"}) {
        verbs += verbs.empty() ? "" : " ";
        verbs += verb;
    }
    if (tls_enabled()) verbs += " AUTH PBSZ PROT SSCN CPSV";
    reply_lines(214, "The following commands are recognized:", {verbs}, "Help OK");
    co_return;
}

// ---- transfer parameters (RFC 959 4.1.2) ---------------------------------------------------

asio::awaitable<void> Session::on_type(std::string argument) {
    const auto type = upper(argument);
    // TYPE A is accepted and served as binary: files move byte for byte (docs/PROTOCOL.md).
    if (type == "A" || type == "A N") {
        binary_ = false;
        reply(200, "Switching to ASCII mode");
    } else if (type == "I" || type == "L 8") {
        binary_ = true;
        reply(200, "Switching to Binary mode");
    } else {
        reply(504, "Command not implemented for that parameter");
    }
    co_return;
}

asio::awaitable<void> Session::on_mode(std::string argument) {
    // RFC 959 3.4.1 stream mode, 3.4.2 block mode (docs/PROTOCOL.md); no compressed mode.
    if (equals_nocase(argument, "S")) {
        block_mode_ = false;
        close_kept_data("MODE S");
        reply(200, "Mode set to S");
    } else if (equals_nocase(argument, "B")) {
        block_mode_ = true;
        reply(200, "Mode set to B");
    } else {
        reply(504, "Only stream and block modes are supported");
    }
    co_return;
}

asio::awaitable<void> Session::on_stru(std::string argument) {
    if (equals_nocase(argument, "F")) reply(200, "Structure set to F");
    else reply(504, "Only file structure is supported");
    co_return;
}

asio::awaitable<void> Session::on_allo(std::string) {
    reply(202, "ALLO not needed");
    co_return;
}

asio::awaitable<void> Session::on_rest(std::string argument) {
    std::uint64_t offset = 0;
    const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), offset);
    if (ec != std::errc{} || end != argument.data() + argument.size()) {
        reply(501, "REST needs a byte offset");
        co_return;
    }
    restart_offset_ = offset;
    reply(350, fmt::format("Restarting at {}. Send STOR or RETR", offset));
}

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

asio::awaitable<void> Session::on_mkd(std::string argument) {
    if (!require_write()) co_return;
    auto path = target_path(argument);
    if (!path || refuse_new_name(*path)) co_return;
    auto entry = parent_of(*path, 550, "Create directory operation failed");
    if (!entry) co_return;
    if (::mkdirat(entry->directory.get(), entry->name.c_str(), 0777) != 0) {
        reply(550, "Create directory operation failed");
        co_return;
    }
    reply(257, quoted_path(printable_name(*path)) + " created");
}

asio::awaitable<void> Session::on_rmd(std::string argument) {
    if (!require_write()) co_return;
    auto path = target_path(argument);
    if (!path) co_return;
    auto entry = parent_of(*path, 550, "Remove directory operation failed");
    if (!entry) co_return;
    if (::unlinkat(entry->directory.get(), entry->name.c_str(), AT_REMOVEDIR) != 0) {
        reply(550, "Remove directory operation failed");
        co_return;
    }
    reply(250, "Remove directory operation successful");
}

asio::awaitable<void> Session::on_dele(std::string argument) {
    if (!require_write()) co_return;
    auto path = target_path(argument);
    if (!path) co_return;
    auto entry = parent_of(*path, 550, "Delete operation failed");
    if (!entry) co_return;
    // The entry itself: a symlink is deleted, never what it points to.
    struct ::stat st {};
    const int directory = entry->directory.get();
    if (::fstatat(directory, entry->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode) ||
        ::unlinkat(directory, entry->name.c_str(), 0) != 0) {
        reply(550, "Delete operation failed");
        co_return;
    }
    reply(250, "Delete operation successful");
}

asio::awaitable<void> Session::on_rnfr(std::string argument) {
    if (!require_write()) co_return;
    rename_from_.reset();
    auto path = target_path(argument);
    if (!path) co_return;
    auto entry = parent_of(*path, 550, "RNFR command failed");
    if (!entry) co_return;
    struct ::stat st {};
    if (::fstatat(entry->directory.get(), entry->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        reply(550, "RNFR command failed");
        co_return;
    }
    // The parent stays open: RNTO renames this entry, whatever happens to the names above it.
    rename_from_ = std::move(*entry);
    reply(350, "Ready for RNTO");
}

asio::awaitable<void> Session::on_rnto(std::string argument) {
    auto from = std::exchange(rename_from_, std::nullopt);
    if (!from) {
        reply(503, "RNFR required first");
        co_return;
    }
    auto path = target_path(argument);
    if (!path || refuse_new_name(*path)) co_return;
    auto to = parent_of(*path, 550, "Rename failed");
    if (!to) co_return;
    if (::renameat(from->directory.get(), from->name.c_str(), to->directory.get(), to->name.c_str()) != 0) {
        reply(550, "Rename failed");
        co_return;
    }
    reply(250, "Rename successful");
}

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

asio::awaitable<void> Session::start_hash(std::string verb, std::string argument) {
    auto path = target_path(argument);
    if (!path) co_return;
    auto file = open_target(*path, O_RDONLY | O_NONBLOCK, 550, "Not a plain file");
    if (!file) co_return;
    struct ::stat st {};
    if (!regular_file(file->get(), st)) {
        reply(550, "Not a plain file");
        co_return;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > context_.config.max_hash_size) {
        // What one command may make the server read is bounded; a sparse file costs nothing to make.
        context_.log.warning("{} {} {} refused: {} bytes, over --max-hash-size", tag_, verb, printable_name(*path),
                             size);
        reply(450, fmt::format("Not hashed: {} bytes is more than this server's --max-hash-size ({} bytes)", size,
                               context_.config.max_hash_size));
        co_return;
    }
    hashing_ = Hashing{printable_name(*path), std::make_shared<std::atomic<bool>>(false), {}};
    transfer_done_.expires_at(Clock::time_point::max());
    asio::co_spawn(control_.get_executor(),
                   run_hash(shared_from_this(), std::move(verb), std::move(argument), std::move(*file), size),
                   asio::detached);
}

asio::awaitable<void> Session::run_hash(std::shared_ptr<Session> /*keep_alive*/, std::string verb,
                                        std::string argument, FileDescriptor file, std::uint64_t size) {
    const auto cancelled = hashing_->cancelled;
    const auto started = Clock::now();
    Expected<std::string> digest = Error(Errc::interrupted, "not started");
    try {
        digest = co_await context_.hashes.sha256(std::move(file), size, cancelled);
    } catch (const std::exception& e) {
        digest = Error(Errc::transfer_failed, e.what());
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (digest) {
        // draft-bryan-ftpext-hash 3: "213 <algorithm> <start>-<end> <hash> <path>".
        if (verb == "HASH") reply(213, fmt::format("SHA-256 0-{} {} {}", size, *digest, argument));
        else reply(250, *digest);
    } else if (cancelled->load()) {
        context_.log.info("{} {} {} cancelled after {:.1f} s ({})", tag_, verb, hashing_->path, seconds, hashing_->why);
        reply(451, verb + " aborted");
    } else {
        context_.log.warning("{} {} {} failed: {}", tag_, verb, hashing_->path, digest.error().message);
        reply(550, "Could not read file");
    }
    hashing_.reset();
    transfer_done_.cancel();
}

asio::awaitable<void> Session::on_hash(std::string argument) { co_await start_hash("HASH", std::move(argument)); }

asio::awaitable<void> Session::on_xsha256(std::string argument) { co_await start_hash("XSHA256", std::move(argument)); }

// ---- data connection set-up (RFC 959 4.1.2, RFC 2428, RFC 438) ----------------------------

asio::awaitable<void> Session::on_pasv(std::string) {
    close_kept_data("PASV");
    listening_for_sock_ = false;
    if (!plain_address(local_.address()).is_v4()) {
        reply(425, "PASV needs IPv4; use EPSV");
        co_return;
    }
    pairing_ = Pairing::ordinary;
    auto where = data_.listen();
    if (!where) reply(425, "Can't open passive connection");
    else reply(227, format_pasv_reply_text(host_port_of(*where)));
    // A SOCK next pins the peer, as after LSTN (RFC 438 rule 2): with --fxp-peers, any listed
    // host could otherwise take the data connection.
    listening_for_sock_ = where.has_value();
}

asio::awaitable<void> Session::on_epsv(std::string argument) {
    close_kept_data("EPSV");
    listening_for_sock_ = false;
    if (equals_nocase(argument, "ALL")) {
        epsv_all_ = true;
        reply(200, "EPSV ALL ok: EPSV alone sets up data connections from now on");
        co_return;
    }
    const char* family = plain_address(local_.address()).is_v4() ? "1" : "2";
    if (!argument.empty() && argument != family) {
        // RFC 2428 3: name the protocol the server can use.
        reply(522, fmt::format("Network protocol not supported, use ({})", family));
        co_return;
    }
    pairing_ = Pairing::ordinary;
    auto where = data_.listen();
    if (!where) reply(425, "Can't open passive connection");
    else reply(229, format_epsv_reply_text(where->port()));
    listening_for_sock_ = where.has_value(); // SOCK pins, as after PASV
}

bool Session::refuse_data_target(std::string_view verb, const Endpoint& target) {
    const auto refusal = check_data_target(context_.config.data_peers, peer_.address(), target);
    if (refusal == TargetRefusal::none) return false;
    context_.log.warning("{} refused {} {}: {}", tag_, verb, endpoint_text(target), describe(refusal));
    reply(504, std::string(verb) + " refused: " + describe(refusal));
    return true;
}

asio::awaitable<void> Session::on_port(std::string argument) {
    close_kept_data("PORT");
    listening_for_sock_ = false;
    auto target = to_endpoint(parse_port_argument(argument));
    if (!target) {
        reply(501, "Bad PORT argument");
        co_return;
    }
    if (refuse_data_target("PORT", *target)) co_return;
    data_.connect_to(*target);
    pairing_ = Pairing::ordinary;
    reply(200, "PORT command successful");
}

asio::awaitable<void> Session::on_eprt(std::string argument) {
    close_kept_data("EPRT");
    listening_for_sock_ = false;
    auto target = to_endpoint(parse_eprt_argument(argument));
    if (!target) {
        reply(501, "Bad EPRT argument");
        co_return;
    }
    if (plain_address(target->address()).is_v4() != plain_address(local_.address()).is_v4()) {
        reply(522, fmt::format("Network protocol not supported, use ({})",
                               plain_address(local_.address()).is_v4() ? "1" : "2"));
        co_return;
    }
    if (refuse_data_target("EPRT", *target)) co_return;
    data_.connect_to(*target);
    pairing_ = Pairing::ordinary;
    reply(200, "EPRT command successful");
}

asio::awaitable<void> Session::on_lstn(std::string argument) {
    close_kept_data("LSTN");
    // RFC 438 rule 1: R (this side will receive) or S (send) is advisory.
    if (!argument.empty() && !equals_nocase(argument, "R") && !equals_nocase(argument, "S")) {
        reply(501, "LSTN takes R, S or nothing");
        co_return;
    }
    auto where = data_.listen();
    if (!where) {
        reply(425, "Can't open listening socket");
        co_return;
    }
    listening_for_sock_ = true;
    pairing_ = Pairing::ordinary; // the listener is the TLS server (RFC 438 pairing, tls.hpp)
    reply(255, "SOCK " + format_sock_argument(host_port_of(*where)));
}

asio::awaitable<void> Session::on_sock(std::string argument) {
    close_kept_data("SOCK");
    auto target = to_endpoint(parse_sock_argument(argument));
    if (!target) {
        reply(501, "Bad SOCK argument");
        co_return;
    }
    if (refuse_data_target("SOCK", *target)) co_return;
    if (std::exchange(listening_for_sock_, false) && data_.mode() == DataChannel::Mode::passive) {
        // RFC 438 rule 2: only the named socket may connect to our listening socket.
        data_.pin(*target);
        const auto address = plain_address(target->address()).to_string();
        reply(200, target->port() == 0 ? fmt::format("Only {} (any port) may connect", address)
                                       : fmt::format("Only {} may connect", endpoint_text(*target)));
        co_return;
    }
    if (target->port() == 0) {
        reply(501, "SOCK without LSTN needs a port to connect to");
        co_return;
    }
    auto local = data_.bind_and_connect_to(*target);
    if (!local) {
        reply(425, "Can't bind data socket");
        co_return;
    }
    pairing_ = Pairing::rfc438_connect; // the connector is the TLS client unless SSCN says otherwise
    // Our own data socket, so the listening server can pin it.
    reply(255, "SOCK " + format_sock_argument(host_port_of(*local)));
}

// ---- transfers (RFC 959 4.1.3) -------------------------------------------------------------

asio::awaitable<void> Session::on_retr(std::string argument) { co_await transfer_command(retr(std::move(argument))); }

asio::awaitable<void> Session::retr(std::string argument) {
    const auto offset = std::exchange(restart_offset_, 0);
    if (!data_ready()) co_return;
    auto path = target_path(argument);
    if (!path) co_return;
    auto opened = open_target(*path, O_RDONLY | O_NONBLOCK, 550, "Failed to open file");
    if (!opened) co_return;
    FileDescriptor file = std::move(*opened);
    struct ::stat st {};
    if (!regular_file(file.get(), st)) {
        reply(550, "Failed to open file");
        co_return;
    }
    if (offset > static_cast<std::uint64_t>(st.st_size)) {
        reply(554, "Restart offset beyond the end of the file");
        co_return;
    }
    start_transfer("RETR", printable_name(*path), SendFile{std::move(file), offset});
}

asio::awaitable<void> Session::store(std::string argument, std::string verb) {
    const auto offset = std::exchange(restart_offset_, 0);
    if (!require_write() || !data_ready()) co_return;
    auto path = target_path(argument);
    if (!path || refuse_new_name(*path)) co_return;
    // RFC 959 STOR replaces the file; REST n then STOR keeps the first n bytes (RFC 3659 5.5);
    // APPE appends.
    int flags = O_WRONLY | O_NONBLOCK;
    if (verb == "APPE") flags |= O_APPEND;
    else if (offset == 0) flags |= O_TRUNC;
    // Opened in its parent with O_NOFOLLOW: a symlink there, dangling or not, is not written through.
    // A restart continues an existing file: REST with no file (or past its end, below) would make a
    // sparse file of any size from one byte, so it is refused (RFC 959 554) and nothing is created.
    auto opened = offset == 0 ? context_.jail.create_file(*path, flags) : context_.jail.open_existing_file(*path, flags);
    if (!opened) {
        if (offset > 0 && opened.error().code == std::errc::no_such_file_or_directory) {
            reply(554, "Requested action not taken: invalid REST parameter (no such file)");
            co_return;
        }
        reply_jail_error(*path, opened.error(), 553, "Could not create file");
        co_return;
    }
    FileDescriptor file = std::move(*opened);
    struct ::stat st {};
    if (!regular_file(file.get(), st)) {
        reply(553, "Could not create file");
        co_return;
    }
    if (offset > static_cast<std::uint64_t>(st.st_size)) {
        context_.log.warning("{} {} {} refused: REST {} past the end ({} bytes)", tag_, verb, printable_name(*path), offset,
                             st.st_size);
        reply(554, fmt::format("Requested action not taken: invalid REST parameter (the file has {} bytes)",
                               st.st_size));
        co_return;
    }
    if (verb == "STOR" && offset > 0 &&
        (::ftruncate(file.get(), static_cast<off_t>(offset)) != 0 ||
         ::lseek(file.get(), static_cast<off_t>(offset), SEEK_SET) < 0)) {
        context_.log.warning("{} {}: {}", tag_, verb, errno_error("cannot seek").message);
        reply(554, "Cannot restart at that offset");
        co_return;
    }
    start_transfer(std::move(verb), printable_name(*path), ReceiveFile{std::move(file)});
}

asio::awaitable<void> Session::on_stor(std::string argument) {
    co_await transfer_command(store(std::move(argument), "STOR"));
}

asio::awaitable<void> Session::on_appe(std::string argument) {
    co_await transfer_command(store(std::move(argument), "APPE"));
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

asio::awaitable<void> Session::on_abor(std::string) {
    if (hashing_) {
        // The HASH gets its 451 once the pool has stopped it (at its next chunk), then ABOR 226.
        cancel_hash("ABOR");
        co_await wait_for_transfer();
        reply(226, "ABOR successful");
        co_return;
    }
    if (!transfer_) {
        // "Abort the previous FTP service command": a pending PASV, PORT, LSTN or SOCK too, so a
        // client can start a new pairing without a stale LSTN taking its SOCK as a pin. A data
        // connection kept in block mode is closed too.
        data_.reset();
        close_kept_data("ABOR");
        reply(225, "No transfer to abort");
        co_return;
    }
    // RFC 959 4.1.3: 426 for the aborted transfer (sent by the transfer itself), then 226.
    abort_transfer();
    co_await wait_for_transfer();
    reply(226, "ABOR successful");
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

// ---- FTP over TLS (RFC 4217) and server-to-server TLS (SSCN, CPSV) -------------------------

asio::awaitable<void> Session::on_auth(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "AUTH not available: this server has no certificate (--tls-cert)");
        co_return;
    }
    if (control_tls_) {
        reply(503, "Already using TLS");
        co_return;
    }
    const auto mechanism = upper(argument);
    if (mechanism != "TLS" && mechanism != "TLS-C" && mechanism != "SSL") {
        reply(504, "AUTH TLS, TLS-C or SSL only");
        co_return;
    }
    // RFC 4217 4: the security state (and the login) starts over under TLS.
    access_.reset();
    pending_user_.reset();
    login_started_ = Clock::now(); // a new login, with its own --login-timeout
    pbsz_ = false;
    protect_data_ = false;
    close_kept_data("AUTH");
    data_.reset();
    reply(234, "AUTH " + mechanism + " OK, starting TLS negotiation");
    co_await flush_outbox();
    if (closed_) co_return;
    // Anything the client sent after AUTH and before the handshake came in the clear: taking it
    // as commands would let an attacker on the path inject them into the protected session.
    if (const auto dropped = framer_.discard(); dropped > 0)
        context_.log.warning("{} {} clear bytes after AUTH dropped", tag_, dropped);
    co_await secure_control("AUTH " + mechanism);
}

asio::awaitable<void> Session::on_pbsz(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    if (!control_tls_) {
        reply(503, "PBSZ needs AUTH TLS first");
        co_return;
    }
    std::uint64_t size = 0;
    const auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), size);
    if (ec != std::errc{} || end != argument.data() + argument.size()) {
        reply(501, "PBSZ needs a number");
        co_return;
    }
    // RFC 4217 8: TLS is a streaming protection, the buffer size is always 0.
    pbsz_ = true;
    reply(200, "PBSZ=0");
}

asio::awaitable<void> Session::on_prot(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    if (!control_tls_) {
        reply(503, "PROT needs AUTH TLS first");
        co_return;
    }
    const auto level = upper(argument);
    if (level == "P") {
        if (!pbsz_) {
            reply(503, "PROT needs PBSZ first");
            co_return;
        }
        protect_data_ = true;
    } else if (level == "C") {
        if (tls_required()) {
            reply(536, "PROT C refused: this server requires protected data connections");
            co_return;
        }
        protect_data_ = false;
    } else if (level == "S" || level == "E") {
        // RFC 4217 9: TLS offers no integrity-only or confidentiality-only level.
        reply(536, "Only PROT C and P are supported");
        co_return;
    } else {
        reply(504, "PROT takes C or P");
        co_return;
    }
    // A data connection kept in block mode has the old protection level.
    close_kept_data("PROT");
    reply(200, "Protection level set to " + level);
}

asio::awaitable<void> Session::on_sscn(std::string argument) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    const auto setting = upper(argument);
    if (setting == "ON") sscn_ = Sscn::on;
    else if (setting == "OFF") sscn_ = Sscn::off;
    else if (!setting.empty()) {
        reply(501, "SSCN takes ON, OFF or nothing");
        co_return;
    }
    reply(200, sscn_ == Sscn::on ? "SSCN:CLIENT METHOD" : "SSCN:SERVER METHOD");
}

asio::awaitable<void> Session::on_cpsv(std::string) {
    if (!tls_enabled()) {
        reply(502, "Command not implemented");
        co_return;
    }
    co_await on_pasv({});
    // PASV, but this server is the TLS client on the connection it accepts (one transfer).
    if (data_.mode() == DataChannel::Mode::passive) pairing_ = Pairing::cpsv;
}

} // namespace rsexec::server
