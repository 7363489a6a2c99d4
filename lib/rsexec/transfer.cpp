#include "rsexec/transfer.hpp"

#include <charconv>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// One side's transfer command (RETR on the source, STOR/APPE on the destination) and how far
// its replies have come: RFC 959 expects 1yz when the data connection opens, then 2yz.
struct Leg {
    ControlSession& session;
    std::string command;   // "RETR path", for messages
    bool started = false;  // 1yz seen
    bool done = false;     // 2yz seen
};

struct LegsOutcome {
    Status status = success();
    // The transfer never started because a data connection was refused or failed (425): the
    // pairing, not the file, is at fault, and another pairing may work.
    bool data_connection_refused = false;
};

// RFC 959 4.1.3: ABOR makes a busy server answer 426 and then 226, an idle one 226 (or 225).
// Whatever it says, drain it so the session can be reused; if it says nothing, close it.
asio::awaitable<void> abort_leg(Leg& leg) {
    ControlSession& session = leg.session;
    if (!session.is_open() || leg.done) co_return;
    if (!co_await session.send("ABOR")) co_return;
    const auto limit = std::min<Clock::duration>(session.timeout(), std::chrono::seconds(10));
    for (int replies = 0; replies < 3; ++replies) {
        auto reply = co_await session.read_reply(limit);
        if (!reply) break;
        if (reply->completion()) co_return;
    }
    session.close();
}

// Applies one reply to its leg; returns the error when the reply ends the leg badly.
std::optional<Error> apply(Leg& leg, const Reply& reply) {
    if (reply.preliminary()) {
        leg.started = true;
        return std::nullopt;
    }
    if (reply.completion()) {
        leg.started = leg.done = true;
        return std::nullopt;
    }
    Error error = leg.session.refused(leg.command, reply);
    // A negative reply after 1yz means the data moved partly: the transfer failed, not the request.
    if (leg.started) error.code = make_error_code(Errc::transfer_failed);
    return error;
}

// Awaits both legs' replies together: a passive server may hold its 1yz until the data
// connection arrives, so neither side is awaited alone while the other has not started.
asio::awaitable<LegsOutcome> run_legs(Leg& source, Leg& destination) {
    auto executor = co_await asio::this_coro::executor;
    const auto timeout = std::max(source.session.timeout(), destination.session.timeout());
    Leg* legs[] = {&source, &destination};

    const auto fail = [&](Leg& failed, Error error) -> asio::awaitable<LegsOutcome> {
        LegsOutcome outcome;
        outcome.data_connection_refused = !failed.started && (error.reply_code == 425 || error.reply_code == 426);
        for (Leg* leg : legs)
            if (leg != &failed) co_await abort_leg(*leg);
        outcome.status = std::move(error);
        co_return outcome;
    };

    for (;;) {
        // Replies already received come first; racing two reads could otherwise hide one.
        for (Leg* leg : legs) {
            while (!leg->done) {
                auto reply = leg->session.buffered_reply();
                if (!reply) break;
                if (!*reply) co_return co_await fail(*leg, reply->error());
                if (auto error = apply(*leg, **reply)) co_return co_await fail(*leg, std::move(*error));
            }
        }
        if (source.done && destination.done) co_return LegsOutcome{};

        // Until both have started, and once one has finished, the other must answer within the
        // timeout; while both move data there is no limit on the total time.
        const bool bounded = !source.started || !destination.started || source.done || destination.done;
        asio::steady_timer timer(executor, bounded ? timeout : std::chrono::hours(24 * 365));
        Leg* waited = nullptr;
        Status received = success();
        if (!source.done && !destination.done) {
            auto first = co_await (source.session.receive() || destination.session.receive() ||
                                   timer.async_wait(asio::use_awaitable));
            if (first.index() == 0) waited = &source, received = std::get<0>(std::move(first));
            if (first.index() == 1) waited = &destination, received = std::get<1>(std::move(first));
        } else {
            Leg& leg = source.done ? destination : source;
            auto first = co_await (leg.session.receive() || timer.async_wait(asio::use_awaitable));
            if (first.index() == 0) waited = &leg, received = std::get<0>(std::move(first));
        }
        if (!waited) {
            Leg& late = !source.started || (source.started && !source.done && destination.done) ? source : destination;
            // The late side is still busy (a passive one may wait for its data connection long
            // after this timeout): ABOR it too, or it answers the next command with its 425/226.
            co_await abort_leg(late);
            co_return co_await fail(late, Error(Errc::timeout, late.command + ": no reply within the timeout", late.session.side()));
        }
        if (!received) {
            Error error = received.error();
            if (error.is(Errc::connection_closed)) {
                error = Error(Errc::transfer_failed, waited->command + ": " + error.message, waited->session.side());
            }
            waited->session.close();
            co_return co_await fail(*waited, std::move(error));
        }
    }
}

// SIZE (RFC 3659 4): the size, nullopt when the server does not say, or the refusal.
asio::awaitable<Expected<std::optional<std::uint64_t>>> size_of(ControlSession& session, const std::string& path) {
    auto reply = co_await session.command("SIZE", path);
    if (!reply) co_return reply.error();
    if (reply->code == 213) {
        const auto text = reply->message();
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
        if (ec == std::errc{} && (end == text.data() + text.size() || *end == ' ' || *end == '\r'))
            co_return std::optional<std::uint64_t>(size);
        co_return std::optional<std::uint64_t>();
    }
    if (reply->code == 500 || reply->code == 502 || reply->code == 504) co_return std::optional<std::uint64_t>();
    co_return session.refused("SIZE " + path, *reply);
}

std::string describe(const PairingAttempt& attempt) {
    return std::string(dialect_name(attempt.dialect)) + " with " + side_name(attempt.listener) + " listening";
}

bool is_refusal(const Error& error) {
    return error.is(Errc::permanent_reply) || error.is(Errc::transient_reply) || error.is(Errc::bad_address) ||
        error.is(Errc::unexpected_reply);
}

} // namespace

std::string temporary_path(const std::string& final_path) {
    const auto slash = final_path.rfind('/');
    const auto dir = slash == std::string::npos ? std::string{} : final_path.substr(0, slash + 1);
    const auto name = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
    return dir + "." + name + ".rsexec-part";
}

asio::awaitable<Expected<CopyResult>> copy_file(ControlSession& source, ControlSession& destination,
                                                const CopyRequest& request, const CopyOptions& options) {
    const auto notice = [&](const std::string& text) {
        if (options.notice) options.notice(text);
    };

    // A missing source is found before anything is created at the destination.
    auto source_size = co_await size_of(source, request.source_path);
    if (!source_size) co_return source_size.error();

    const std::string target = request.mode == WriteMode::temporary_then_rename
        ? temporary_path(request.destination_path) : request.destination_path;
    const std::string store_verb = request.mode == WriteMode::append ? "APPE" : "STOR";
    std::optional<std::uint64_t> size_before;
    if (request.mode == WriteMode::append && *source_size) {
        auto existing = co_await size_of(destination, target);
        size_before = existing ? existing->value_or(0) : 0;
    }

    const bool ipv6 = source.peer_address().is_v6() || destination.peer_address().is_v6();
    const auto plan = pairing_plan(source.features(), destination.features(), options.passive, options.dialect, ipv6);
    std::vector<std::string> refusals;
    CopyResult result;
    bool transferred = false;
    const auto started_at = Clock::now();

    for (const auto& attempt : plan) {
        ControlSession& listener = attempt.listener == Side::source ? source : destination;
        ControlSession& connector = attempt.listener == Side::source ? destination : source;
        if (!refusals.empty()) notice("trying " + describe(attempt));
        auto paired = co_await pair_sessions(attempt.dialect, listener, connector,
                                             attempt.listener == Side::source, options.pairing);
        if (!paired) {
            if (!is_refusal(paired.error())) co_return paired.error();
            refusals.push_back(describe(attempt) + ": " + paired.error().describe());
            notice(refusals.back());
            continue;
        }

        Leg retrieve{source, "RETR " + request.source_path};
        Leg store{destination, store_verb + " " + target};
        // The receiver first: a sender that finished before the receiver heard its STOR would
        // leave some servers (pyftpdlib) with a closed data connection they never read.
        if (auto sent = co_await destination.send(store_verb, target); !sent) co_return sent.error();
        if (auto sent = co_await source.send("RETR", request.source_path); !sent) {
            co_await abort_leg(store);
            co_return sent.error();
        }
        auto outcome = co_await run_legs(retrieve, store);
        if (!outcome.status) {
            const Error& error = outcome.status.error();
            const bool reusable = source.is_open() && destination.is_open();
            if (outcome.data_connection_refused && reusable) {
                refusals.push_back(describe(attempt) + ": " + error.describe());
                notice(refusals.back());
                continue;
            }
            if (request.mode == WriteMode::temporary_then_rename && destination.is_open())
                co_await destination.command("DELE", target);
            co_return error;
        }
        result.dialect = attempt.dialect;
        result.listener = attempt.listener;
        transferred = true;
        break;
    }
    if (!transferred) {
        std::string message = "the servers refused every way to pair them";
        for (const auto& refusal : refusals) message += "; " + refusal;
        message += ". A server that refuses data connections to or from another server's address needs "
                   "server-to-server transfers (FXP) enabled";
        co_return Error(Errc::pairing_refused, message);
    }
    result.elapsed = Clock::now() - started_at;

    auto written = co_await size_of(destination, target);
    if (!written && !written.error().is(Errc::permanent_reply)) co_return written.error();
    if (written && *written) {
        result.bytes = **written - size_before.value_or(0);
        if (options.verify_size && *source_size && *result.bytes != **source_size) {
            if (request.mode == WriteMode::temporary_then_rename) co_await destination.command("DELE", target);
            co_return Error(Errc::verification_failed,
                            "size mismatch: source has " + std::to_string(**source_size) + " bytes, destination got " +
                                std::to_string(*result.bytes),
                            Side::destination);
        }
    } else {
        result.bytes = *source_size;
        if (options.verify_size) notice("size not verified: a server does not answer SIZE");
    }

    if (request.mode == WriteMode::temporary_then_rename) {
        auto from = co_await destination.expect(3, "RNFR", target);
        if (!from) co_return from.error();
        auto to = co_await destination.expect(2, "RNTO", request.destination_path);
        if (!to) co_return to.error();
    }
    co_return result;
}

} // namespace rsexec
