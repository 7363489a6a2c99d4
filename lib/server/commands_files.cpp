// File actions: RETR, STOR, APPE, ABOR, MKD, RMD, DELE, RNFR/RNTO, MFMT.
#include "server/commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include "ftp/address.hpp"
#include "ftp/time_val.hpp"
#include "server/checksum.hpp"
#include "server/endpoint.hpp"
#include "server/listing.hpp"
#include "server/session.hpp"
#include "command_helpers.hpp"

namespace rsexec::server {
using namespace command_helpers;

// ---- directories and names (RFC 959 4.1.3) ------------------------------------------------

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

// ---- modification time (draft-somers-ftp-mfxx-04 3) --------------------------------------

// MFMT time-val path: the file (or directory) the jail resolves, as RETR and MDTM do: a
// symlink is followed only while it stays inside the root, one leading out gets 550 and nothing
// changes. The time is set on that descriptor (utimensat AT_EMPTY_PATH), never by name again,
// and read back from it: the reply names the time the file now has, which may differ from the
// one asked (the fraction is not kept, as MDTM and MLSD show whole seconds; a leap second is
// :59; a file system clamps times it cannot hold).
asio::awaitable<void> Session::on_mfmt(std::string argument) {
    if (!require_write()) co_return;
    auto parsed = parse_mfmt_argument(argument);
    if (!parsed) {
        reply(501, printable_name(parsed.error().message));  // it quotes the client's bytes
        co_return;
    }
    const std::string given(parsed->path);
    auto path = target_path(given);
    if (!path) co_return;
    auto file = open_target(*path, O_PATH, 550, "Could not set the modification time");
    if (!file) co_return;
    struct ::stat st {};
    if (::fstat(file->get(), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        reply(550, "Could not set the modification time: not a plain file or directory");
        co_return;
    }
    const ::timespec times[2] = {{0, UTIME_OMIT}, {parsed->time.seconds.time_since_epoch().count(), 0}};
    if (::utimensat(file->get(), "", times, AT_EMPTY_PATH) != 0 || ::fstat(file->get(), &st) != 0) {
        const int error = errno;
        context_.log.warning("{} MFMT {}: {}", tag_, printable_name(*path), std::strerror(error));
        // EPERM, EACCES: a file this server's user does not own; EINVAL, EOVERFLOW: a time the
        // kernel refuses.
        if (error == EINVAL || error == EOVERFLOW) reply(501, "Could not set the modification time: time not accepted");
        else reply(550, "Could not set the modification time");
        co_return;
    }
    const auto now_set = rsexec::format_time_val(std::chrono::sys_seconds(std::chrono::seconds(st.st_mtim.tv_sec)));
    if (!now_set) {
        // Set, but clamped by the file system to a year a time-val cannot write.
        reply(550, "Modification time out of the range a time-val can show (years 1000 to 9999)");
        co_return;
    }
    reply(213, "Modify=" + *now_set + "; " + printable_name(given));
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

} // namespace rsexec::server
