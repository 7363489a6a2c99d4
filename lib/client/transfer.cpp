#include "client/transfer.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include "ftp/address_refusal.hpp"
#include "ftp/checksum.hpp"
#include "client/data_protection.hpp"
#include "client/file_size.hpp"
#include "client/file_times.hpp"
#include "client/overwrite_check.hpp"
#include "client/server_digest.hpp"
#include "client/relay.hpp"
#include "client/relay_verification.hpp"
#include "client/stall_watch.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// One side's transfer command (RETR on the source, STOR/APPE on the destination) and how far
// its replies have come: RFC 959 expects 1yz when the data connection opens, then 2yz.
struct Leg {
    ControlSession& session;
    ControlSession::Command request;  // {"RETR", path}
    std::string command = request.verb + " " + request.argument;  // for messages
    bool started = false;  // 1yz seen
    bool done = false;     // 2yz seen
    // A reply read while aborting this leg that refused the other server's address (the 425 a
    // passive server sends when the peer is foreign may come after the other side's 426).
    std::string peer_refusal = {};
};

struct LegsOutcome {
    Status status = success();
    // The transfer never started because a data connection was refused or failed (425), or a
    // server refused the other one's address (address_refusal.hpp): the pairing, not the file,
    // is at fault, and another pairing may work.
    bool data_connection_refused = false;
};

// RFC 959 4.1.3: ABOR makes a busy server answer 426 and then 226, an idle one 226 (or 225);
// a transfer that ended just before the ABOR arrived adds its own 226 first. How many replies
// come is not known, so a NOOP follows the ABOR and its 200 marks the end of them all: the
// session is then in step for the next command. If that never comes, the session is closed.
// Returns the error when the control connection turns out to be gone: that server died.
asio::awaitable<std::optional<Error>> abort_and_resync(ControlSession& session, Clock::duration limit,
                                                        std::string* peer_refusal = nullptr) {
    if (!session.is_open()) co_return std::nullopt;
    for (const char* verb : {"ABOR", "NOOP"}) {
        if (auto sent = co_await session.send(verb); !sent) {
            session.close();
            co_return sent.error();
        }
    }
    for (int replies = 0; replies < 6; ++replies) {
        auto reply = co_await session.read_reply(limit);
        if (!reply) {
            session.close();
            if (reply.error().is(Errc::connection_closed)) co_return reply.error();
            co_return std::nullopt;
        }
        if (reply->code == 200) co_return std::nullopt;
        if (peer_refusal && refuses_peer_address(*reply)) *peer_refusal = reply->text();
    }
    session.close();
    co_return std::nullopt;
}

asio::awaitable<std::optional<Error>> abort_leg(Leg& leg, std::optional<Clock::duration> patience = std::nullopt) {
    if (leg.done) co_return std::nullopt;
    const auto limit = patience.value_or(std::min<Clock::duration>(leg.session.timeout(), std::chrono::seconds(10)));
    co_return co_await abort_and_resync(leg.session, limit, &leg.peer_refusal);
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
    // A refusal of the other server's address is the pairing's failure, even after a 1yz
    // (pyftpdlib says 150 before the data connection arrives, then 425 when it comes from
    // another host): neither the file nor its server is at fault.
    if (refuses_peer_address(reply)) error.code = make_error_code(Errc::pairing_refused);
    // A negative reply after 1yz means the data moved partly: the transfer failed, not the request.
    else if (leg.started) error.code = make_error_code(Errc::transfer_failed);
    return error;
}

// How long a side may stay silent once the other has finished (see run_legs).
constexpr Clock::duration unstarted_grace = std::chrono::seconds(3);

// Awaits both legs' replies together: a passive server may hold its 1yz until the data
// connection arrives, so neither side is awaited alone while the other has not started. While
// both move data, the stall watch takes the place of a reply timeout.
asio::awaitable<LegsOutcome> run_legs(Leg& source, Leg& destination, StallWatch& stall_watch,
                                      Interruption& interruption) {
    auto executor = co_await asio::this_coro::executor;
    const auto timeout = std::max(source.session.timeout(), destination.session.timeout());
    Leg* legs[] = {&source, &destination};

    const auto fail = [&](Leg& failed, Error error) -> asio::awaitable<LegsOutcome> {
        LegsOutcome outcome;
        // The data never flowed end to end (one side never said 1yz): the servers would not
        // connect to each other, which another pairing may mend.
        const bool both_started = source.started && destination.started;
        outcome.data_connection_refused = error.is(Errc::pairing_refused) ||
            (!both_started && (error.reply_code == 425 || error.reply_code == 426));
        for (Leg* leg : legs) {
            if (leg == &failed) continue;
            auto lost = co_await abort_leg(*leg);
            // When a server dies mid-transfer, the other one's 426 (its data connection closed)
            // may arrive before the dead one's control connection is seen closing: the death is
            // the cause worth naming.
            if (lost && failed.started && leg->started) {
                error = Error(Errc::transfer_failed,
                              leg->command + ": " + lost->message + " (" + error.describe() + ")",
                              leg->session.side());
            }
            // The other server refused this one's address: the pairing failed, whichever
            // side's reply came first.
            if (!leg->peer_refusal.empty() && !error.is(Errc::pairing_refused)) {
                error = Error(Errc::pairing_refused, leg->command + ": " + leg->peer_refusal + " (" +
                              error.describe() + ")", leg->session.side());
                outcome.data_connection_refused = true;
            }
        }
        outcome.status = std::move(error);
        co_return outcome;
    };

    // Both servers are told to stop (RFC 959 4.1.3 ABOR) before the copy gives up.
    const auto interrupted = [&]() -> asio::awaitable<LegsOutcome> {
        for (Leg* leg : legs) co_await abort_leg(*leg);
        co_return LegsOutcome{Error(Errc::interrupted, "interrupted by " + interruption.why()), false};
    };

    for (;;) {
        if (interruption.triggered()) co_return co_await interrupted();
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
        // timeout; while both move data the replies may take as long as the data keeps moving.
        const bool data_phase = source.started && destination.started && !source.done && !destination.done;
        asio::steady_timer timer(executor, timeout);
        Leg* waited = nullptr;
        Status received = success();
        if (data_phase) {
            auto first = co_await (source.session.receive() || destination.session.receive() || stall_watch.watch() ||
                                   interruption.wait());
            if (first.index() == 3) co_return co_await interrupted();
            if (first.index() == 0) waited = &source, received = std::get<0>(std::move(first));
            if (first.index() == 1) waited = &destination, received = std::get<1>(std::move(first));
            if (first.index() == 2) {
                Error stall = std::get<2>(std::move(first));
                Leg& stalled = stall.side == Side::source ? source : destination;
                // The stalled side has been silent for the whole timeout already: a short wait for
                // its ABOR reply, then its connection is closed.
                co_await abort_leg(stalled, std::chrono::seconds(1));
                co_return co_await fail(stalled, std::move(stall));
            }
        } else if (!source.done && !destination.done) {
            auto first = co_await (source.session.receive() || destination.session.receive() ||
                                   timer.async_wait(asio::use_awaitable) || interruption.wait());
            if (first.index() == 3) co_return co_await interrupted();
            if (first.index() == 0) waited = &source, received = std::get<0>(std::move(first));
            if (first.index() == 1) waited = &destination, received = std::get<1>(std::move(first));
        } else {
            Leg& leg = source.done ? destination : source;
            // The other side finished before this one even started: the data connection it used
            // cannot have been this side's (a listener that drops a foreign peer waits on for the
            // right one). Only the two control paths' delays can still hold a 1yz back.
            if (!leg.started) timer.expires_after(std::min(timeout, unstarted_grace));
            auto first = co_await (leg.session.receive() || timer.async_wait(asio::use_awaitable) ||
                                   interruption.wait());
            if (first.index() == 2) co_return co_await interrupted();
            if (first.index() == 0) waited = &leg, received = std::get<0>(std::move(first));
            if (!waited && !leg.started) {
                Leg& finished = source.done ? source : destination;
                co_await abort_leg(leg);
                auto outcome = co_await fail(
                    leg, Error(Errc::transfer_failed,
                               leg.command + ": not started although " + side_name(finished.session.side()) + "'s " +
                                   finished.command + " has ended: the data connection did not join the two servers",
                               leg.session.side()));
                outcome.data_connection_refused = true;
                co_return outcome;
            }
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

asio::awaitable<void> forget_pairing(ControlSession& session) {
    co_await abort_and_resync(session, std::min<Clock::duration>(session.timeout(), std::chrono::seconds(10)));
}

std::string describe(const PairingAttempt& attempt) {
    return std::string(dialect_name(attempt.dialect)) + " with " + side_name(attempt.listener) + " listening";
}

// The one place where a copy is given up because the two servers would not be paired in any
// way tried: exit 7 (exit_code.hpp), naming each attempt and who refused it.
Error every_pairing_refused(const std::vector<std::string>& refusals) {
    std::string message = "the servers refused every way to pair them";
    for (auto refusal : refusals) {
        while (!refusal.empty() && refusal.back() == '.') refusal.pop_back();
        message += "; " + refusal;
    }
    message += ". A server that refuses data connections to or from another server's address needs "
               "server-to-server transfers (FXP) enabled";
    return Error(Errc::pairing_refused, message);
}

// The relay's one line for servers whose data connection cannot be protected: plan_data_protection's
// reason, without its own opening words.
std::string relay_reason_unprotected(std::string why) {
    const std::string opening = "the data cannot be protected: ";
    if (why.rfind(opening, 0) == 0) why.erase(0, opening.size());
    const auto advice = why.find("; --allow-clear-data");
    if (advice != std::string::npos) why.erase(advice);
    return "the data between the servers cannot be protected (" + why +
        "), each one's data connection to rsexec keeps its own protection";
}

bool is_refusal(const Error& error) {
    return error.is(Errc::permanent_reply) || error.is(Errc::transient_reply) || error.is(Errc::bad_address) ||
        error.is(Errc::unexpected_reply) || error.is(Errc::pairing_refused);
}

// The partial temporary file an earlier attempt left, when it can be continued: 0 < size < source.
asio::awaitable<std::uint64_t> resumable_offset(ControlSession& destination, const std::string& target,
                                                std::uint64_t source_size,
                                                const std::function<void(const std::string&)>& notice) {
    auto partial = co_await size_of(destination, target);
    if (!partial || !*partial || **partial == 0) co_return 0;
    if (**partial >= source_size) {
        notice("not resuming " + target + ": it holds " + std::to_string(**partial) + " bytes and the source " +
               std::to_string(source_size) + "; starting over");
        co_return 0;
    }
    notice("resuming " + target + " at byte " + std::to_string(**partial) + " of " + std::to_string(source_size));
    co_return **partial;
}

// Sends both transfer commands, each in one write with what rides along: the pairing's deferred
// last step before it, the copy's queued SIZE after the STOR. The receiver's go first: a sender
// that finished before the receiver heard its STOR would leave some servers (pyftpdlib) with a
// closed data connection they never read. Then reads the deferred step's reply; when it is a
// refusal, both transfers are aborted (the sessions are in step again) and it is returned.
asio::awaitable<Expected<std::optional<Error>>> start_legs(Leg& retrieve, Leg& store,
                                                           const std::optional<PairingStep>& last, bool size_queued) {
    ControlSession& source = retrieve.session;
    ControlSession& destination = store.session;
    std::vector<ControlSession::Command> to_destination, to_source;
    if (last && last->session == &destination) to_destination.push_back(last->command);
    to_destination.push_back(store.request);
    if (size_queued) to_destination.push_back({"SIZE", store.request.argument});
    if (last && last->session == &source) to_source.push_back(last->command);
    to_source.push_back(retrieve.request);
    if (auto sent = co_await destination.send_all(to_destination); !sent) co_return sent.error();
    if (auto sent = co_await source.send_all(to_source); !sent) {
        co_await abort_leg(store);
        co_return sent.error();
    }
    if (!last) co_return std::nullopt;
    auto reply = co_await last->session->read_reply();
    if (!reply) co_return reply.error();
    if (reply->code / 100 == 2) co_return std::nullopt;
    Error refused = pairing_step_refused(*last->session, last->command.verb + " " + last->command.argument, *reply);
    co_await abort_leg(store);
    co_await abort_leg(retrieve);
    co_return std::optional<Error>(std::move(refused));
}

// RNFR and RNTO in one write, one round trip: a server that refuses the RNFR answers the RNTO
// with 503 (bad sequence), and the RNFR's refusal is the error.
asio::awaitable<Status> rename(ControlSession& session, const std::string& from, const std::string& to) {
    const std::vector<ControlSession::Command> commands{{"RNFR", from}, {"RNTO", to}};
    if (auto sent = co_await session.send_all(commands); !sent) co_return sent.error();
    auto from_reply = co_await session.read_reply();
    if (!from_reply) co_return from_reply.error();
    auto to_reply = co_await session.read_reply();
    if (from_reply->code != 350) co_return session.refused("RNFR " + from, *from_reply);
    if (!to_reply) co_return to_reply.error();
    if (!to_reply->completion()) co_return session.refused("RNTO " + to, *to_reply);
    co_return success();
}

// The copy through rsexec (relay.hpp), when the servers will not pair or must not be asked to.
// A failure leaves the temporary file as a failed direct transfer does: deleted, or kept to
// resume from.
asio::awaitable<Expected<RelayOutcome>> relay_through_here(ControlSession& source, ControlSession& destination,
                                                           const CopyRequest& request, const CopyOptions& options,
                                                           const std::string& target, std::uint64_t offset,
                                                           bool digest, const std::optional<std::string>& refused,
                                                           Interruption& interruption) {
    const bool temporary = request.mode == WriteMode::temporary_then_rename;
    if (refused && options.relaying) options.relaying(relay_pair_name(source, destination), *refused);
    if (options.notice) options.notice("relaying " + request.source_path + " through rsexec");
    RelaySettings settings;
    settings.trust_announced_address = options.pairing.trust_announced_address;
    settings.allow_clear_data = source.options().tls.allow_clear_data || destination.options().tls.allow_clear_data;
    settings.stall_limit = std::max(source.timeout(), destination.timeout());
    settings.notice = options.notice;
    settings.progress = options.progress;
    settings.interruption = &interruption;
    RelayRequest relay{request.source_path, target, offset, request.mode == WriteMode::append, digest};
    auto relayed = co_await relay_file(source, destination, relay, settings);
    if (relayed) co_return relayed;
    Error failure = relayed.error();
    if (temporary && destination.is_open()) {
        if (options.resume) {
            if (options.notice) options.notice("kept " + target + " to resume from");
        } else {
            co_await destination.command("DELE", target);
        }
    }
    if (failure.is(Errc::interrupted)) {
        failure.message += ": both transfers aborted; " +
            (!temporary         ? request.destination_path + " holds what had arrived"
                 : options.resume ? target + " kept to resume from"
                                  : target + " deleted");
    }
    co_return failure;
}

} // namespace

const char* verify_name(Verify verify) noexcept {
    switch (verify) {
    case Verify::none: return "none";
    case Verify::size: return "size";
    case Verify::checksum: return "checksum";
    case Verify::checksum_if_available: return "checksum-if-available";
    }
    return "?";
}

std::optional<Verify> parse_verify(std::string_view name) {
    for (auto verify : {Verify::none, Verify::size, Verify::checksum, Verify::checksum_if_available})
        if (name == verify_name(verify)) return verify;
    return std::nullopt;
}

std::string temporary_path(const std::string& final_path) {
    const auto slash = final_path.rfind('/');
    const auto dir = slash == std::string::npos ? std::string{} : final_path.substr(0, slash + 1);
    const auto name = slash == std::string::npos ? final_path : final_path.substr(slash + 1);
    return dir + "." + name + ".rsexec-part";
}

asio::awaitable<Expected<CopyResult>> copy_file(ControlSession& source, ControlSession& destination,
                                                const CopyRequest& request, const CopyOptions& options) {
    using namespace asio::experimental::awaitable_operators;
    const auto notice = [&](const std::string& text) {
        if (options.notice) options.notice(text);
    };
    const auto warning = [&](const std::string& text) {
        if (options.warning) options.warning(text);
        else notice(text);
    };
    const bool temporary = request.mode == WriteMode::temporary_then_rename;
    Interruption no_interruption(co_await asio::this_coro::executor);
    Interruption& interruption = options.interruption ? *options.interruption : no_interruption;
    const auto interrupted = [&] { return Error(Errc::interrupted, "interrupted by " + interruption.why()); };

    // A missing source is found before anything is created at the destination.
    Expected<std::optional<std::uint64_t>> source_size = request.source_size;
    if (!request.source_size) source_size = co_await size_of(source, request.source_path);
    if (!source_size) co_return source_size.error();

    // Which digest both servers can compute is known from FEAT: a copy that cannot be verified
    // as asked fails before any byte moves.
    std::optional<ChecksumPlan> checksum;
    bool relay_to_digest = false;
    if (options.verify == Verify::checksum || options.verify == Verify::checksum_if_available) {
        checksum = choose_checksum(source.features(), destination.features());
        if (!checksum) {
            const std::string why = "no checksum algorithm both servers offer (src: " +
                offered_checksums(source.features()) + "; dst: " + offered_checksums(destination.features()) + ")";
            if (options.verify == Verify::checksum && request.mode != WriteMode::append &&
                options.relay != RelayMode::never) {
                // Only a copy through rsexec can be checksummed: rsexec hashes the stream itself.
                relay_to_digest = true;
                notice(why + ": relaying to compute the SHA-256 of the stream");
            } else if (options.verify == Verify::checksum) co_return Error(Errc::verification_failed, why);
            else warning(why + "; verifying the size only");
        } else if (request.mode == WriteMode::append) {
            // The destination file holds more than the source: whole-file digests cannot agree.
            warning("checksum not verified when appending; verifying the size only");
            checksum.reset();
        }
    }

    if (options.overwrite != Overwrite::always) {
        // Digests are compared where the copy would be checked by them anyway.
        auto decision = co_await check_overwrite(source, destination, request.source_path, request.destination_path,
                                                 *source_size, options.overwrite, checksum);
        if (!decision) co_return decision.error();
        if (decision->skips()) {
            CopyResult kept;
            kept.skipped = decision->reason;
            kept.bytes = 0;
            co_return kept;
        }
    }
    // The source's time as it was before any byte moved: a source changed during the copy
    // then looks newer than its copy on the next mirror.
    const TimeNotices say_times{options.times_not_kept, options.notice};
    std::optional<TimeVal> source_time;
    if (options.preserve_times && request.mode != WriteMode::append)
        source_time = co_await ask_source_time(source, destination, request.source_path, say_times);

    const std::string target = temporary ? temporary_path(request.destination_path) : request.destination_path;
    std::optional<std::uint64_t> size_before;
    if (request.mode == WriteMode::append && *source_size) {
        auto existing = co_await size_of(destination, target);
        size_before = existing ? existing->value_or(0) : 0;
    }
    std::uint64_t offset = 0;
    if (options.resume && temporary && source_size->value_or(0) > 0)
        offset = co_await resumable_offset(destination, target, **source_size, notice);
    if (relay_to_digest && offset > 0) {
        notice("starting over: the SHA-256 of the stream needs the whole file");
        offset = 0;
    }

    const bool ipv6 = source.peer_address().is_v6() || destination.peer_address().is_v6();
    // Servers that refused every pairing for an earlier file of this run are not asked again.
    const bool known_refusing = options.relay == RelayMode::automatic && options.known_refusing &&
        options.known_refusing(relay_pair_name(source, destination));
    const auto plan = tries_pairing(options.relay) && !relay_to_digest && !known_refusing
        ? pairing_plan(source.features(), destination.features(), options.passive, options.dialect, ipv6)
        : std::vector<PairingAttempt>{};
    std::vector<std::string> refusals;
    std::optional<std::string> unprotected;  // why the data between the servers cannot be protected
    CopyResult result;
    std::optional<std::string> stream_sha256;  // of a relayed copy, to compare with the servers'
    bool transferred = false;
    // The copy's SIZE right behind its STOR, where the server answers it once the transfer has
    // ended: the verification costs no round trip of its own. Not where the server hears ABOR
    // during a transfer (rsexecd): a SIZE waiting for the transfer would hold the ABOR up.
    const bool size_queued = pipelines_behind_transfers(destination.features(), destination.greeting()) &&
        !reads_commands_while_waiting(destination.features());
    const auto started_at = Clock::now();

    // A server that listened in a refused attempt may keep that data set-up (a passive socket it
    // still listens on) however the attempt ended, and refuse a later one's set-up because of it:
    // some answer 550 to PORT after an abandoned PASV. When such a server refuses a pairing
    // command, the attempt is made once more on a fresh control connection to it, which holds no
    // state from the earlier ones. A refused RETR/STOR is the transfer's matter, not the set-up's.
    bool kept_setup[2] = {false, false};  // by side: source, destination
    const auto kept = [&](Side side) -> bool& { return kept_setup[side == Side::source ? 0 : 1]; };
    std::size_t next = 0;  // the attempt being made
    std::optional<std::size_t> retried_fresh;  // the attempt last made again on a fresh connection
    // Records a refused attempt; says whether to make it again on a fresh connection (the
    // refusing server was reconnected), or returns the error that reconnecting met. `setup`: the
    // refusal answered a pairing command (PASV, PORT, SOCK...), not the transfer.
    const auto after_refusal = [&](const PairingAttempt& attempt, const Error& error,
                                   bool setup) -> asio::awaitable<Expected<bool>> {
        refusals.push_back(describe(attempt) + ": " + error.describe());
        notice(refusals.back());
        const Side refuser = error.side;
        // A refusal of the other server's address is the server's policy, not a state it kept.
        const bool again = setup && retried_fresh != next && refuser != Side::none && kept(refuser) &&
            !error.is(Errc::pairing_refused);
        kept(attempt.listener) = true;
        if (!again) co_return false;
        retried_fresh = next;
        notice(std::string("reconnecting to ") + side_name(refuser) +
               ", which may keep the data connection an earlier attempt set up, and trying " + describe(attempt) +
               " again");
        ControlSession& stale = refuser == Side::source ? source : destination;
        if (auto reopened = co_await stale.reopen(); !reopened) co_return reopened.error();
        kept(refuser) = false;
        co_return true;
    };

    for (; next < plan.size(); ++next) {
        const PairingAttempt attempt = plan[next];
        if (interruption.triggered()) co_return interrupted();
        ControlSession& listener = attempt.listener == Side::source ? source : destination;
        ControlSession& connector = attempt.listener == Side::source ? destination : source;
        if (!refusals.empty()) notice("trying " + describe(attempt));
        auto protection = plan_data_protection(source, destination, attempt);
        if (!protection) {
            // One server protects its data (TLS, PROT P) and the other cannot: no connection
            // between them can be protected. Relayed, each server's data connection to rsexec
            // keeps the protection its own session has.
            const bool one_sided = source.can_protect_data() != destination.can_protect_data();
            const bool unprotectable =
                protection.error().is(Errc::tls_failed) && one_sided && relays_after_refusal(options.relay);
            if (!protection.error().is(Errc::pairing_refused) && !unprotectable) co_return protection.error();
            if (unprotectable) unprotected = protection.error().message;
            refusals.push_back(describe(attempt) + ": " + protection.error().message);
            notice(refusals.back());
            continue;
        }
        if (protection->level == 'C' && (source.can_protect_data() || destination.can_protect_data()))
            warning("the data crosses in clear between the servers (PROT C, --allow-clear-data)");
        if (auto applied = co_await apply_data_protection(source, destination, *protection); !applied)
            co_return applied.error();
        PairingOptions pairing = options.pairing;
        pairing.cpsv = protection->cpsv;
        // The pairing's last step goes out with the transfer commands (and is answered first)
        // where both servers still hear ABOR if it is refused; REST must come last before RETR.
        const bool defer_last = offset == 0 && reads_commands_while_waiting(source.features()) &&
            reads_commands_while_waiting(destination.features());
        std::optional<PairingStep> last;
        Status paired = success();
        if (auto prepared = co_await pair_sessions_but_last(attempt.dialect, listener, connector,
                                                            attempt.listener == Side::source, pairing);
            !prepared) {
            paired = prepared.error();
        } else if (defer_last) {
            last = std::move(*prepared);
        } else if (auto done = co_await prepared->session->command(prepared->command.verb, prepared->command.argument);
                   !done) {
            paired = done.error();
        } else if (!done->completion()) {
            paired = pairing_step_refused(*prepared->session, prepared->command.verb + " " + prepared->command.argument,
                                          *done);
        }
        if (!paired) {
            if (!is_refusal(paired.error())) co_return paired.error();
            // A listener left with a pending LSTN would take the next attempt's SOCK as a pin:
            // ABOR drops it (RFC 959: ABOR aborts the previous service command).
            if (attempt.dialect == Dialect::rfc438) co_await forget_pairing(listener);
            auto again = co_await after_refusal(attempt, paired.error(), true);
            if (!again) co_return again.error();
            if (*again) --next;
            continue;
        }
        if (offset > 0) {
            // RFC 3659 5.3: REST goes right before the transfer command it applies to.
            auto restarted = co_await source.command("REST", std::to_string(offset));
            if (!restarted) co_return restarted.error();
            if (restarted->code != 350) {
                notice("src refuses REST (" + restarted->message() + "): starting over");
                offset = 0;
            }
        }
        const std::string store_verb = request.mode == WriteMode::append || offset > 0 ? "APPE" : "STOR";

        Leg retrieve{source, {"RETR", request.source_path}};
        Leg store{destination, {store_verb, target}};
        StallWatch stall_watch(destination, target, std::max(source.timeout(), destination.timeout()), options.notice,
                               options.progress, options.spare_slot);
        if (options.started) options.started(*source_size, offset);
        auto started = co_await start_legs(retrieve, store, last, size_queued);
        if (!started) co_return started.error();
        if (*started) {
            Error refused = std::move(**started);
            if (!source.is_open() || !destination.is_open()) co_return refused;
            if (temporary) co_await destination.command("DELE", target);
            auto again = co_await after_refusal(attempt, refused, true);
            if (!again) co_return again.error();
            if (*again) --next;
            continue;
        }
        auto outcome = co_await run_legs(retrieve, store, stall_watch, interruption);
        // The queued SIZE's reply may still be due after a failure: ABOR and NOOP bring the
        // destination back in step.
        if (!outcome.status && size_queued) co_await forget_pairing(destination);
        if (!outcome.status) {
            const Error& error = outcome.status.error();
            const bool reusable = source.is_open() && destination.is_open();
            if (outcome.data_connection_refused && reusable) {
                // The receiver may have created the temporary file before the pairing failed.
                if (temporary && offset == 0) co_await destination.command("DELE", target);
                auto again = co_await after_refusal(attempt, error, false);
                if (!again) co_return again.error();
                if (*again) --next;
                continue;
            }
            Error failure = error;
            if (temporary && destination.is_open()) {
                if (options.resume) notice("kept " + target + " to resume from");
                else co_await destination.command("DELE", target);
            }
            if (failure.is(Errc::interrupted)) {
                failure.message += ": both transfers aborted; " +
                    (!temporary         ? request.destination_path + " holds what had arrived"
                         : options.resume ? target + " kept to resume from"
                                          : target + " deleted");
            }
            co_return failure;
        }
        co_await stall_watch.close();
        result.dialect = attempt.dialect;
        result.listener = attempt.listener;
        transferred = true;
        break;
    }
    if (!transferred && (relay_to_digest || !tries_pairing(options.relay) ||
                         (relays_after_refusal(options.relay) && !interruption.triggered()))) {
        std::optional<std::string> why;
        if (unprotected) why = relay_reason_unprotected(*unprotected);
        else if (!refusals.empty()) why = "the servers refuse to connect to each other";
        auto relayed = co_await relay_through_here(source, destination, request, options, target, offset,
                                                   relay_to_digest, why, interruption);
        if (!relayed) co_return relayed.error();
        offset = relayed->offset;
        result.relayed = true;
        if (relayed->sha256) {
            stream_sha256 = relayed->sha256;
            notice("SHA-256 of the relayed stream: " + *relayed->sha256);
        }
        transferred = true;
    }
    if (!transferred) co_return every_pairing_refused(refusals);
    result.elapsed = Clock::now() - started_at;
    result.resumed_from = offset;

    // Nothing that fails verification keeps its temporary file: its bytes are not to be trusted,
    // not even as a start to resume from.
    const auto reject = [&](Error error) -> asio::awaitable<Expected<CopyResult>> {
        if (temporary && destination.is_open()) co_await destination.command("DELE", target);
        co_return error;
    };
    // Any other failure after the bytes moved: no temporary file stays unless resume keeps it.
    const auto give_up = [&](Error error) -> asio::awaitable<Expected<CopyResult>> {
        if (options.resume) co_return error;
        co_return co_await reject(std::move(error));
    };

    Expected<std::optional<std::uint64_t>> written = std::optional<std::uint64_t>();
    if (size_queued && !result.relayed) {
        auto reply = co_await destination.read_reply();
        if (!reply) co_return co_await give_up(reply.error());
        written = size_from_reply(destination, target, *reply);
    } else {
        written = co_await size_of(destination, target);
    }
    if (!written && !written.error().is(Errc::permanent_reply)) co_return co_await give_up(written.error());
    if (written && *written) {
        const std::uint64_t before = size_before.value_or(offset);
        result.bytes = **written >= before ? **written - before : 0;
        const std::uint64_t expected = size_before.value_or(0) + source_size->value_or(0);
        if (options.verify != Verify::none && *source_size && **written != expected) {
            co_return co_await reject(Error(Errc::verification_failed,
                                            "size mismatch: the copy should have " + std::to_string(expected) +
                                                " bytes and has " + std::to_string(**written),
                                            Side::destination));
        }
    } else {
        result.bytes = source_size->value_or(offset) - offset;
        if (options.verify != Verify::none) warning("size not verified: a server does not answer SIZE");
    }

    if (checksum) {
        const std::uint64_t size = source_size->value_or(0);
        auto [on_source, on_destination] =
            co_await (digest_of(source, checksum->source, checksum->algorithm, request.source_path, size) &&
                      digest_of(destination, checksum->destination, checksum->algorithm, target, size));
        const std::string algorithm = hash_name(checksum->algorithm);
        if (!on_source || !on_destination) {
            const Error& error = !on_source ? on_source.error() : on_destination.error();
            if (options.verify == Verify::checksum)
                co_return co_await reject(Error(Errc::verification_failed,
                                                "cannot verify the " + algorithm + " checksum: " + error.message,
                                                error.side));
            warning("checksum not verified: " + error.describe());
        } else if (*on_source != *on_destination) {
            co_return co_await reject(Error(Errc::verification_failed,
                                            algorithm + " mismatch: source " + *on_source + ", copy " +
                                                *on_destination + "; the copy was deleted",
                                            Side::destination));
        } else {
            result.checksum = algorithm + " " + *on_source;
            notice(algorithm + " of both copies: " + *on_source);
        }
    }

    if (stream_sha256) {
        StreamCheckSettings settings;
        settings.trust_announced_address = options.pairing.trust_announced_address;
        settings.allow_clear_data = destination.options().tls.allow_clear_data;
        settings.stall_limit = std::max(source.timeout(), destination.timeout());
        const RelayedCopy copy{request.source_path, target, *stream_sha256, source_size->value_or(0)};
        auto checked = co_await check_relayed_stream(source, destination, copy, settings);
        if (!checked) co_return co_await reject(checked.error());
        result.checksum = "SHA-256 " + *stream_sha256;
        notice(*checked);
    }

    if (temporary) {
        // A refused rename (the final name is a directory, say) leaves a complete copy that no
        // later attempt would resume: it goes too.
        if (auto renamed = co_await rename(destination, target, request.destination_path); !renamed)
            co_return co_await reject(renamed.error());
    }
    // After the rename: a server whose rename makes a new file (a copy, on object stores) would
    // give it a new time.
    if (source_time) co_await keep_time(destination, request.destination_path, *source_time, say_times);
    co_return result;
}

} // namespace rsexec
