#include "client/local_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>

#include "ftp/checksum.hpp"
#include "client/byte_pump.hpp"
#include "client/data_connection.hpp"
#include "client/file_size.hpp"
#include "client/file_times.hpp"
#include "client/local_facts.hpp"
#include "client/overwrite_check.hpp"
#include "client/path_kind.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// A descriptor closed when it goes out of scope.
struct LocalFile {
    int fd = -1;
    LocalFile() = default;
    explicit LocalFile(int descriptor) : fd(descriptor) {}
    LocalFile(const LocalFile&) = delete;
    LocalFile& operator=(const LocalFile&) = delete;
    ~LocalFile() {
        if (fd >= 0) ::close(fd);
    }
};

Error local_error(const std::string& what, const std::string& path, Side side) {
    return Error(Errc::permanent_reply, what + " " + path + ": " + std::strerror(errno), side);
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

// The server's SHA-256 of one of its files, when it offers one (HASH or XSHA256); nullopt when
// it offers no SHA-256: the stream's own digest is then all there is.
asio::awaitable<Expected<std::optional<std::string>>> server_sha256(ControlSession& session, const std::string& path,
                                                                    std::uint64_t size) {
    auto plan = choose_checksum(session.features(), session.features());
    if (!plan || plan->algorithm != HashAlgorithm::sha256) co_return std::optional<std::string>();
    const auto& command = plan->source;
    if (command.select) {
        if (auto selected = co_await session.expect(2, "OPTS", "HASH " + *command.select); !selected)
            co_return selected.error();
    }
    if (auto sent = co_await session.send(command.verb, path); !sent) co_return sent.error();
    auto reply = co_await session.read_reply(session.timeout() + std::chrono::seconds(size / (20u << 20)));
    if (!reply) co_return reply.error();
    if (!reply->completion()) co_return session.refused(command.verb + " " + path, *reply);
    auto digest = parse_checksum_reply(*reply, command, plan->algorithm);
    if (!digest) co_return digest.error();
    co_return std::optional<std::string>(*digest);
}

// What the server knows of one of its files for the overwrite policy: nullopt when it is not there
// (SIZE refused with 5xx, RFC 3659 4.2; MDTM where there is no SIZE).
asio::awaitable<Expected<std::optional<FileFacts>>> server_facts(ControlSession& session, const std::string& path,
                                                                 bool with_time) {
    FileFacts facts;
    auto size = co_await size_of(session, path);
    if (!size) {
        if (size.error().is(Errc::permanent_reply)) co_return std::optional<FileFacts>();
        co_return size.error();
    }
    facts.size = *size;
    if (with_time || !*size) {
        auto reply = co_await session.command("MDTM", path);
        if (!reply) co_return reply.error();
        if (!*size && reply->code >= 500 && reply->code != 500 && reply->code != 502 && reply->code != 504)
            co_return std::optional<FileFacts>();
        facts.modify = modify_from_mdtm(*reply);
    }
    co_return std::optional<FileFacts>(facts);
}

bool compares_digests(const UrlCopyOptions& options) {
    return options.copy.verify == Verify::checksum || options.copy.verify == Verify::checksum_if_available;
}

bool compares_times(Overwrite policy) { return policy == Overwrite::newer || policy == Overwrite::different_or_newer; }

// The overwrite policy's decision once the facts of both files are known; the digests (the
// server's SHA-256, rsexec's own of the local file) only when the policy asks for them.
asio::awaitable<OverwriteDecision> decide_with_digests(ControlSession& session, const std::string& server_path,
                                                        const std::string& local_path, bool local_is_source,
                                                        Overwrite policy, OverwriteFacts facts) {
    auto decision = decide_overwrite(policy, facts);
    if (decision.action != OverwriteDecision::Action::ask_digests) co_return decision;
    auto on_server = co_await server_sha256(session, server_path, facts.source.size.value_or(0));
    auto here = local_sha256(local_path);
    FileFacts& server_side = local_is_source ? facts.destination : facts.source;
    FileFacts& local_side = local_is_source ? facts.source : facts.destination;
    if (on_server && *on_server) server_side.digest = "SHA-256 " + **on_server;
    if (here) local_side.digest = "SHA-256 " + *here;
    facts.digests_asked = true;
    co_return decide_overwrite(policy, facts);
}

// One transfer command on one session, its bytes pumped between the data connection and `file`.
struct LocalTransfer {
    ControlSession& session;
    std::string verb;   // RETR, STOR or APPE
    std::string path;   // on the server
    std::uint64_t offset = 0;
    int file = -1;
    std::string file_name;
    bool digest = false;
};

// Takes the transfer by reference to a named value: GCC 12 destroys a braced temporary passed by
// value into a coroutine twice.
asio::awaitable<Expected<PumpResult>> run_transfer(const LocalTransfer& transfer, const UrlCopyOptions& options,
                                                   Interruption& interruption) {
    ControlSession& session = transfer.session;
    const Side side = session.side();
    const Side local_side = side == Side::source ? Side::destination : Side::source;
    auto tls = co_await protect_own_data(session, session.options().tls.allow_clear_data);
    if (!tls) co_return tls.error();
    auto data = co_await open_passive_data(session, options.copy.pairing.trust_announced_address);
    if (!data) co_return data.error();
    if (transfer.offset > 0) {
        // RFC 3659 5.3: REST right before the RETR it applies to.
        if (auto restarted = co_await session.expect(3, "REST", std::to_string(transfer.offset)); !restarted)
            co_return restarted.error();
    }
    auto reply = co_await session.command(transfer.verb, transfer.path);
    if (!reply) co_return reply.error();
    if (!reply->preliminary()) co_return session.refused(transfer.verb + " " + transfer.path, *reply);
    if (*tls) {
        if (auto secured = co_await secure_data(session, *data); !secured) {
            co_await abort_transfer(session);
            co_return secured.error();
        }
    }
    PumpEnd remote = data->end(side);
    PumpEnd local;
    local.side = local_side;
    local.file = transfer.file;
    local.name = transfer.file_name;
    PumpOptions pump;
    pump.stall_limit = session.timeout();
    pump.progress = options.copy.progress;
    pump.digest = transfer.digest;
    const bool download = transfer.verb == "RETR";
    PumpEnd& from = download ? remote : local;
    PumpEnd& to = download ? local : remote;
    const auto kind = choose_pump({*tls, false, transfer.digest, splice_available()});
    auto pumping = [&]() -> asio::awaitable<Expected<PumpResult>> {
        if (kind == PumpKind::splice) co_return co_await pump_splice(from, to, pump);
        co_return co_await pump_buffered(from, to, pump);
    };
    auto pumped = co_await (pumping() || interruption.wait());
    if (pumped.index() == 1 || !std::get<0>(pumped)) {
        // ABOR before the upload's connection closes: closed first, it would end a whole file.
        co_await abort_transfer(session);
        data->close();
        if (pumped.index() == 1) co_return Error(Errc::interrupted, "interrupted by " + interruption.why());
        co_return std::get<0>(pumped).error();
    }
    data->close();
    auto done = co_await session.read_reply();
    if (!done) co_return done.error();
    if (!done->completion()) {
        Error error = session.refused(transfer.verb + " " + transfer.path, *done);
        error.code = make_error_code(Errc::transfer_failed);
        co_return error;
    }
    co_return std::get<0>(std::move(pumped));
}

asio::awaitable<Expected<CopyResult>> download(ControlSession& source, const FtpUrl& from, const FtpUrl& to,
                                               const UrlCopyOptions& options, Interruption& interruption) {
    std::string final_path = to.names_directory() ? to.path + from.file_name() : to.path;
    struct stat info {};
    if (::stat(final_path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) final_path += "/" + from.file_name();
    auto size = co_await size_of(source, from.path);
    if (!size) co_return size.error();
    const Overwrite policy = options.copy.overwrite;
    if (policy != Overwrite::always && options.mode != WriteMode::append) {
        if (auto there = local_entry(final_path); there && there->regular) {
            OverwriteFacts facts;
            facts.destination_exists = true;
            facts.source.size = *size;
            facts.destination = there->facts;
            facts.compare_digests = compares_digests(options);
            if (compares_times(policy)) {
                auto reply = co_await source.command("MDTM", from.path);
                if (!reply) co_return reply.error();
                facts.source.modify = modify_from_mdtm(*reply);
            }
            auto decision = co_await decide_with_digests(source, from.path, final_path, false, policy, facts);
            if (decision.skips()) {
                CopyResult kept;
                kept.skipped = decision.reason;
                co_return kept;
            }
        }
    }
    std::optional<TimeVal> source_time;
    if (options.copy.preserve_times && options.mode != WriteMode::append) {
        auto reply = co_await source.command("MDTM", from.path);
        if (!reply) co_return reply.error();
        const TimeNotices say{options.copy.times_not_kept, options.copy.notice};
        source_time = time_to_keep(source, from.path, *reply, say);
    }
    const bool temporary = options.mode == WriteMode::temporary_then_rename;
    const std::string target = temporary ? temporary_path(final_path) : final_path;

    std::uint64_t offset = 0;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    bool at_end = false;  // splice(2) refuses O_APPEND (EINVAL): the file is written from its end instead
    if (options.mode == WriteMode::append) {
        at_end = true;
    } else if (options.copy.resume && temporary && *size && ::stat(target.c_str(), &info) == 0 &&
               S_ISREG(info.st_mode) && info.st_size > 0 && static_cast<std::uint64_t>(info.st_size) < **size) {
        offset = static_cast<std::uint64_t>(info.st_size);
        at_end = true;
        if (options.copy.notice)
            options.copy.notice("resuming " + target + " at byte " + std::to_string(offset) + " of " +
                                std::to_string(**size));
    } else {
        flags |= O_TRUNC;
    }
    LocalFile file(::open(target.c_str(), flags, 0644));
    if (file.fd < 0) co_return local_error("cannot create", target, Side::destination);
    if (at_end && ::lseek(file.fd, 0, SEEK_END) < 0) co_return local_error("cannot seek in", target, Side::destination);
    const bool digest = (options.copy.verify == Verify::checksum || options.copy.verify == Verify::checksum_if_available) &&
        offset == 0 && options.mode != WriteMode::append;
    const auto started_at = Clock::now();
    const LocalTransfer transfer{source, "RETR", from.path, offset, file.fd, target, digest};
    auto moved = co_await run_transfer(transfer, options, interruption);
    const auto discard = [&](Error error) -> Expected<CopyResult> {
        if (temporary && !(options.copy.resume && !error.is(Errc::verification_failed))) ::unlink(target.c_str());
        return error;
    };
    if (!moved) co_return discard(moved.error());
    // The bytes reach the disk before the name says the file is complete.
    if (::fsync(file.fd) != 0) co_return discard(local_error("cannot sync", target, Side::destination));
    if (::fstat(file.fd, &info) != 0) co_return discard(local_error("cannot stat", target, Side::destination));
    CopyResult result;
    result.elapsed = Clock::now() - started_at;
    result.resumed_from = offset;
    result.bytes = moved->bytes;
    if (options.copy.verify != Verify::none && *size && options.mode != WriteMode::append &&
        static_cast<std::uint64_t>(info.st_size) != **size) {
        co_return discard(Error(Errc::verification_failed,
                                "size mismatch: the copy should have " + std::to_string(**size) + " bytes and has " +
                                    std::to_string(info.st_size),
                                Side::destination));
    }
    if (moved->sha256) {
        auto on_server = co_await server_sha256(source, from.path, size->value_or(0));
        if (on_server && *on_server && **on_server != *moved->sha256)
            co_return discard(Error(Errc::verification_failed,
                                    "SHA-256 mismatch: source " + **on_server + ", copy " + *moved->sha256,
                                    Side::destination));
        result.checksum = "SHA-256 " + *moved->sha256;
        if (options.copy.notice) options.copy.notice("SHA-256 of the copy: " + *moved->sha256);
    }
    if (temporary) {
        if (::rename(target.c_str(), final_path.c_str()) != 0)
            co_return discard(local_error("cannot rename to", final_path, Side::destination));
        // The rename itself is made durable with its directory.
        LocalFile directory(::open(directory_of(final_path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (directory.fd >= 0) (void)::fsync(directory.fd);
    }
    if (source_time && !set_local_time(final_path, *source_time) && options.copy.notice)
        options.copy.notice("cannot set the modification time of " + final_path + ": " + std::strerror(errno));
    co_return result;
}

asio::awaitable<Expected<CopyResult>> upload(ControlSession& destination, const FtpUrl& from, const FtpUrl& to,
                                             const UrlCopyOptions& options, Interruption& interruption) {
    LocalFile file(::open(from.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.fd < 0) co_return local_error("cannot open", from.path, Side::source);
    struct stat info {};
    if (::fstat(file.fd, &info) != 0) co_return local_error("cannot stat", from.path, Side::source);
    if (!S_ISREG(info.st_mode)) co_return Error(Errc::permanent_reply, from.path + " is not a regular file", Side::source);
    const auto size = static_cast<std::uint64_t>(info.st_size);

    std::string final_path = to.names_directory() ? to.path + from.file_name() : to.path;
    if (!to.names_directory()) {
        auto directory = co_await is_directory(destination, final_path);
        if (!directory) co_return directory.error();
        if (*directory) final_path += "/" + from.file_name();
    }
    const Overwrite policy = options.copy.overwrite;
    if (policy != Overwrite::always && options.mode != WriteMode::append) {
        auto there = co_await server_facts(destination, final_path, compares_times(policy));
        if (!there) co_return there.error();
        if (*there) {
            OverwriteFacts facts;
            facts.destination_exists = true;
            if (auto here = local_entry(from.path)) facts.source = here->facts;
            facts.destination = **there;
            facts.compare_digests = compares_digests(options);
            auto decision = co_await decide_with_digests(destination, final_path, from.path, true, policy, facts);
            if (decision.skips()) {
                CopyResult kept;
                kept.skipped = decision.reason;
                co_return kept;
            }
        }
    }
    const bool temporary = options.mode == WriteMode::temporary_then_rename;
    const std::string target = temporary ? temporary_path(final_path) : final_path;
    std::uint64_t offset = 0;
    if (options.copy.resume && temporary && size > 0) {
        auto partial = co_await size_of(destination, target);
        if (partial && *partial && **partial > 0 && **partial < size) {
            offset = **partial;
            if (options.copy.notice)
                options.copy.notice("resuming " + target + " at byte " + std::to_string(offset) + " of " +
                                    std::to_string(size));
            if (::lseek(file.fd, static_cast<off_t>(offset), SEEK_SET) < 0)
                co_return local_error("cannot seek in", from.path, Side::source);
        }
    }
    const bool digest = (options.copy.verify == Verify::checksum || options.copy.verify == Verify::checksum_if_available) &&
        offset == 0 && options.mode != WriteMode::append;
    const std::string verb = options.mode == WriteMode::append || offset > 0 ? "APPE" : "STOR";
    const auto started_at = Clock::now();
    const LocalTransfer transfer{destination, verb, target, 0, file.fd, from.path, digest};
    auto moved = co_await run_transfer(transfer, options, interruption);
    const auto discard = [&](Error error) -> asio::awaitable<Expected<CopyResult>> {
        const bool keep = options.copy.resume && !error.is(Errc::verification_failed);
        if (temporary && !keep && destination.is_open()) co_await destination.command("DELE", target);
        co_return error;
    };
    if (!moved) co_return co_await discard(moved.error());
    CopyResult result;
    result.elapsed = Clock::now() - started_at;
    result.resumed_from = offset;
    result.bytes = moved->bytes;
    if (options.copy.verify != Verify::none && options.mode != WriteMode::append) {
        auto written = co_await size_of(destination, target);
        if (written && *written && **written != size)
            co_return co_await discard(Error(Errc::verification_failed,
                                             "size mismatch: the copy should have " + std::to_string(size) +
                                                 " bytes and has " + std::to_string(**written),
                                             Side::destination));
    }
    if (moved->sha256) {
        auto on_server = co_await server_sha256(destination, target, size);
        if (on_server && *on_server && **on_server != *moved->sha256)
            co_return co_await discard(Error(Errc::verification_failed,
                                             "SHA-256 mismatch: source " + *moved->sha256 + ", copy " + **on_server,
                                             Side::destination));
        result.checksum = "SHA-256 " + *moved->sha256;
        if (options.copy.notice) options.copy.notice("SHA-256 of the copy: " + *moved->sha256);
    }
    if (temporary) {
        auto from_reply = co_await destination.command("RNFR", target);
        if (!from_reply) co_return co_await discard(from_reply.error());
        if (from_reply->code != 350) co_return co_await discard(destination.refused("RNFR " + target, *from_reply));
        auto to_reply = co_await destination.command("RNTO", final_path);
        if (!to_reply) co_return co_await discard(to_reply.error());
        if (!to_reply->completion()) co_return co_await discard(destination.refused("RNTO " + final_path, *to_reply));
    }
    if (options.copy.preserve_times && options.mode != WriteMode::append) {
        const TimeNotices say{options.copy.times_not_kept, options.copy.notice};
        const auto modified = std::chrono::sys_seconds(std::chrono::seconds(info.st_mtim.tv_sec));
        if (!offers_mfmt(destination.features())) {
            if (options.copy.times_not_kept) options.copy.times_not_kept(no_mfmt_notice(destination));
        } else {
            co_await keep_time(destination, final_path, TimeVal{modified, 0, false}, say);
        }
    }
    co_return result;
}

} // namespace

asio::awaitable<Expected<CopyResult>> copy_local_on(ControlSession& session, const FtpUrl& source,
                                                    const FtpUrl& destination, const UrlCopyOptions& options) {
    if (source.is_local() && destination.is_local())
        co_return Error(Errc::bad_url, "both sides are local files: rsexec copies to or from an FTP server");
    if (source.names_directory()) co_return Error(Errc::bad_url, "source names a directory, not a file: " + source.display());
    auto executor = co_await asio::this_coro::executor;
    Interruption no_interruption(executor);
    Interruption& interruption = options.copy.interruption ? *options.copy.interruption : no_interruption;
    // Not a conditional expression of two co_awaits: GCC 12 destroys its result twice.
    Expected<CopyResult> result = Error(Errc::bad_url, "no copy");
    if (source.is_local()) result = co_await upload(session, source, destination, options, interruption);
    else result = co_await download(session, source, destination, options, interruption);
    co_return result;
}

asio::awaitable<Expected<CopyResult>> copy_local(const FtpUrl& source, const FtpUrl& destination,
                                                 const UrlCopyOptions& options) {
    if (source.is_local() && destination.is_local())
        co_return Error(Errc::bad_url, "both sides are local files: rsexec copies to or from an FTP server");
    if (source.names_directory()) co_return Error(Errc::bad_url, "source names a directory, not a file: " + source.display());
    const FtpUrl& remote = source.is_local() ? destination : source;
    const Side side = source.is_local() ? Side::destination : Side::source;
    auto executor = co_await asio::this_coro::executor;
    ControlSession session(executor, side, options.session);
    Interruption no_interruption(executor);
    Interruption& interruption = options.copy.interruption ? *options.copy.interruption : no_interruption;
    auto opened = co_await (session.open(remote.host, remote.port, credentials_for(remote, options.netrc),
                                         remote.implicit_tls()) ||
                            interruption.wait());
    if (opened.index() == 1) co_return Error(Errc::interrupted, "interrupted by " + interruption.why() + " while logging in");
    if (auto& open = std::get<0>(opened); !open) co_return open.error();
    Expected<CopyResult> result = co_await copy_local_on(session, source, destination, options);
    if (session.is_open()) co_await session.command("QUIT");
    session.close();
    if (!result && result.error().is(Errc::interrupted)) {
        Error error = result.error();
        error.message += options.copy.resume ? ": the temporary file kept to resume from" : ": the temporary file deleted";
        co_return error;
    }
    co_return result;
}

} // namespace rsexec
