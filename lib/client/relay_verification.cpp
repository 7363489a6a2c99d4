#include "client/relay_verification.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "client/byte_pump.hpp"
#include "client/data_connection.hpp"
#include "client/server_digest.hpp"

namespace rsexec {
namespace {

// The read-back's bytes go nowhere: only their digest is kept.
struct NullSink {
    int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    NullSink() = default;
    NullSink(const NullSink&) = delete;
    NullSink& operator=(const NullSink&) = delete;
    ~NullSink() {
        if (fd >= 0) ::close(fd);
    }
};

// RETR of the copy on a passive data connection of rsexec's own, hashed as it arrives.
asio::awaitable<Expected<std::string>> read_back(ControlSession& session, const std::string& path,
                                                 const StreamCheckSettings& settings) {
    auto tls = co_await protect_own_data(session, settings.allow_clear_data);
    if (!tls) co_return tls.error();
    auto data = co_await open_passive_data(session, settings.trust_announced_address);
    if (!data) co_return data.error();
    auto started = co_await session.command("RETR", path);
    if (!started) co_return started.error();
    if (!started->preliminary()) co_return session.refused("RETR " + path, *started);
    if (*tls) {
        if (auto secured = co_await secure_data(session, *data); !secured) {
            co_await abort_transfer(session);
            data->close();
            co_return secured.error();
        }
    }
    NullSink sink;
    if (sink.fd < 0) {
        const std::string why = std::string("cannot open /dev/null: ") + std::strerror(errno);
        co_await abort_transfer(session);
        data->close();
        co_return Error(Errc::verification_failed, why);
    }
    PumpEnd from = data->end(session.side());
    PumpEnd to;
    to.side = Side::none;
    to.file = sink.fd;
    to.name = "/dev/null";
    PumpOptions pump;
    pump.stall_limit = settings.stall_limit;
    pump.digest = true;
    auto pumped = co_await pump_buffered(from, to, pump);
    if (!pumped) {
        co_await abort_transfer(session);
        data->close();
        co_return pumped.error();
    }
    data->close();
    auto done = co_await session.read_reply();
    if (!done) co_return done.error();
    if (!done->completion()) co_return session.refused("RETR " + path, *done);
    co_return *pumped->sha256;
}

Error cannot_verify(const Error& why) {
    return Error(Errc::verification_failed, "cannot verify the SHA-256 of the relayed stream: " + why.message, why.side);
}

} // namespace

StreamCheckPlan plan_stream_check(const Features& source, const Features& destination) {
    StreamCheckPlan plan;
    plan.source = checksum_command(source, HashAlgorithm::sha256);
    plan.destination = checksum_command(destination, HashAlgorithm::sha256);
    plan.read_back = !plan.source && !plan.destination;
    return plan;
}

asio::awaitable<Expected<std::string>> check_relayed_stream(ControlSession& source, ControlSession& destination,
                                                            const RelayedCopy& copy,
                                                            const StreamCheckSettings& settings) {
    const StreamCheckPlan plan = plan_stream_check(source.features(), destination.features());
    std::vector<std::string> agreeing;  // "src's", "dst's", "the copy read back from dst"
    const auto mismatch = [&](Side side, const std::string& theirs, const std::string& what) {
        return Error(Errc::verification_failed,
                     "SHA-256 mismatch: " + what + " " + theirs + ", the relayed stream " + copy.stream_sha256 +
                         "; the copy was deleted",
                     side);
    };
    if (plan.source) {
        auto theirs = co_await digest_of(source, *plan.source, HashAlgorithm::sha256, copy.source_path, copy.size);
        if (!theirs) co_return cannot_verify(theirs.error());
        if (*theirs != copy.stream_sha256)
            co_return mismatch(Side::source, *theirs, "src's digest of " + copy.source_path);
        agreeing.push_back("src's");
    }
    if (plan.destination) {
        auto theirs = co_await digest_of(destination, *plan.destination, HashAlgorithm::sha256, copy.copy_path, copy.size);
        if (!theirs) co_return cannot_verify(theirs.error());
        if (*theirs != copy.stream_sha256)
            co_return mismatch(Side::destination, *theirs, "dst's digest of " + copy.copy_path);
        agreeing.push_back("dst's");
    }
    if (plan.read_back) {
        auto theirs = co_await read_back(destination, copy.copy_path, settings);
        if (!theirs) co_return cannot_verify(theirs.error());
        if (*theirs != copy.stream_sha256)
            co_return mismatch(Side::destination, *theirs, "the copy read back from dst");
        agreeing.push_back("the copy read back from dst");
    }
    std::string said = "SHA-256 of the relayed stream matches " + agreeing.front();
    if (agreeing.size() > 1) said += " and " + agreeing.back();
    co_return said + ": " + copy.stream_sha256;
}

} // namespace rsexec
