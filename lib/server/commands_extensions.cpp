// Extensions: MODE B (block mode, RFC 959 3.4.2), HASH and XSHA256.
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

// ---- MODE S and MODE B (RFC 959 3.4) -------------------------------------------------------

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

} // namespace rsexec::server
