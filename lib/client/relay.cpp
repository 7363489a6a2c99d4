#include "client/relay.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>

#include "client/byte_pump.hpp"
#include "client/data_connection.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// The transfer command's first reply: 1yz (RFC 959 4.2) opens the transfer; anything else is the
// server's refusal (550 no such file, 553 cannot create).
asio::awaitable<Status> start(ControlSession& session, const std::string& verb, const std::string& path) {
    auto reply = co_await session.command(verb, path);
    if (!reply) co_return reply.error();
    if (!reply->preliminary()) co_return session.refused(verb + " " + path, *reply);
    co_return success();
}

// The transfer command's last reply, once the data connection has closed.
asio::awaitable<Status> finish(ControlSession& session, const std::string& command) {
    auto reply = co_await session.read_reply();
    if (!reply) {
        Error error = reply.error();
        if (error.is(Errc::connection_closed)) error.code = make_error_code(Errc::transfer_failed);
        error.message = command + ": " + error.message;
        co_return error;
    }
    if (!reply->completion()) {
        Error error = session.refused(command, *reply);
        error.code = make_error_code(Errc::transfer_failed);
        co_return error;
    }
    co_return success();
}

} // namespace

std::string relay_pair_name(const ControlSession& source, const ControlSession& destination) {
    const auto where = [](const ControlSession& session) {
        if (!session.login_used()) return std::string(side_name(session.side()));
        return session.login_used()->host + ":" + std::to_string(session.login_used()->port);
    };
    return where(source) + " -> " + where(destination);
}

asio::awaitable<Expected<RelayOutcome>> relay_file(ControlSession& source, ControlSession& destination,
                                                   const RelayRequest& request, const RelaySettings& settings) {
    Interruption no_interruption(co_await asio::this_coro::executor);
    Interruption& interruption = settings.interruption ? *settings.interruption : no_interruption;
    const auto notice = [&](const std::string& text) {
        if (settings.notice) settings.notice(text);
    };

    auto source_tls = co_await protect_own_data(source, settings.allow_clear_data);
    if (!source_tls) co_return source_tls.error();
    auto destination_tls = co_await protect_own_data(destination, settings.allow_clear_data);
    if (!destination_tls) co_return destination_tls.error();

    // Both data connections at once: the slower server sets the pace.
    auto [download, upload] = co_await (open_passive_data(source, settings.trust_announced_address) &&
                                        open_passive_data(destination, settings.trust_announced_address));
    if (!download) co_return download.error();
    if (!upload) co_return upload.error();

    RelayOutcome outcome;
    outcome.offset = request.offset;
    if (request.offset > 0) {
        // RFC 3659 5.3: REST right before the RETR it applies to.
        auto restarted = co_await source.command("REST", std::to_string(request.offset));
        if (!restarted) co_return restarted.error();
        if (restarted->code != 350) {
            notice("src refuses REST (" + restarted->message() + "): starting over");
            outcome.offset = 0;
        }
    }
    const std::string retrieve = "RETR " + request.source_path;
    const std::string store_verb = request.append || outcome.offset > 0 ? "APPE" : "STOR";
    const std::string store = store_verb + " " + request.target;

    // The source first: a refused RETR then creates nothing on the destination. Its bytes wait in
    // the socket buffers meanwhile.
    if (auto started = co_await start(source, "RETR", request.source_path); !started) co_return started.error();
    const auto abandon = [&](Error error) -> asio::awaitable<Expected<RelayOutcome>> {
        // The upload's data connection is closed only after ABOR reached its server: closed first,
        // it would look like the end of a whole file.
        co_await abort_transfer(destination);
        upload->close();
        download->close();
        co_await abort_transfer(source);
        co_return error;
    };
    if (auto started = co_await start(destination, store_verb, request.target); !started) {
        download->close();
        co_await abort_transfer(source);
        co_return started.error();
    }
    if (*source_tls) {
        if (auto secured = co_await secure_data(source, *download); !secured) co_return co_await abandon(secured.error());
    }
    if (*destination_tls) {
        if (auto secured = co_await secure_data(destination, *upload); !secured) co_return co_await abandon(secured.error());
    }

    PumpOptions pump;
    pump.stall_limit = settings.stall_limit;
    pump.progress = settings.progress;
    pump.digest = request.digest;
    outcome.pump = choose_pump({*source_tls, *destination_tls, request.digest, splice_available()});
    PumpEnd from = download->end(Side::source);
    PumpEnd to = upload->end(Side::destination);
    auto pumping = [&]() -> asio::awaitable<Expected<PumpResult>> {
        if (outcome.pump == PumpKind::splice) co_return co_await pump_splice(from, to, pump);
        co_return co_await pump_buffered(from, to, pump);
    };
    auto pumped = co_await (pumping() || interruption.wait());
    if (pumped.index() == 1)
        co_return co_await abandon(Error(Errc::interrupted, "interrupted by " + interruption.why()));
    auto& moved = std::get<0>(pumped);
    if (!moved) co_return co_await abandon(moved.error());
    download->close();
    upload->close();
    outcome.bytes = moved->bytes;
    outcome.sha256 = moved->sha256;

    // Both 2yz: the source's says it sent everything, the destination's that it stored it.
    auto [sent, stored] = co_await (finish(source, retrieve) && finish(destination, store));
    if (!sent) co_return sent.error();
    if (!stored) co_return stored.error();
    co_return outcome;
}

} // namespace rsexec
