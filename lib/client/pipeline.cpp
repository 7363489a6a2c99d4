#include "client/pipeline.hpp"

#include <deque>
#include <memory>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <fmt/format.h>

#include "client/file_size.hpp"
#include "client/file_times.hpp"
#include "client/path_kind.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// What a reply on the wire answers.
enum class Expect {
    source_size, source_time, destination_kind, listen, pin, connect, retrieve, store, copy_size, rename_from,
    rename_to, set_time, mode
};

// One file on its way.
struct Slot {
    PipelineFile file;
    std::string temporary;
    int replies_due = 0;                     // replies still to come that concern this file
    bool sized = false;                      // the source's SIZE answered
    bool placed = true;                      // the destination's MLST answered, when asked
    std::optional<std::uint64_t> source_size;
    bool started = false;                    // transfer commands sent
    bool retrieved = false, stored = false;  // RETR, STOR answered 2yz
    bool copy_sized = false;
    std::optional<std::uint64_t> copy_size;
    bool renaming = false;
    std::optional<TimeVal> source_time;      // MDTM's answer, for MFMT after the rename
    std::optional<CopyResult> renamed;       // renamed, its MFMT not answered yet: the file is done
    bool store_sent = false;                 // the receiver's STOR is out: RETR may follow
    bool settled = false;                    // finished or returned
    Clock::time_point started_at{};

    bool moving() const { return started && !(retrieved && stored); }
};

struct Pending {
    Expect what;
    Slot* slot;
    Clock::time_point sent{};  // when it was written: its reply's time is a round-trip sample
};

bool is_transfer(Expect what) { return what == Expect::retrieve || what == Expect::store; }

// One session's side: what is to be sent, and the replies still to come, in order.
struct Wire {
    ControlSession& session;
    bool behind_transfers = true;  // PipelineOptions::behind_transfers
    std::deque<std::pair<ControlSession::Command, Pending>> outbox;
    std::deque<Pending> pending;   // sent, not answered yet
    // No RETR/STOR goes out until the pairing's last step is accepted (Pipeline::hold_transfers).
    bool hold_transfers = false;

    void queue(Expect what, Slot* slot, std::string verb, std::string argument = {}) {
        outbox.push_back({{std::move(verb), std::move(argument)}, {what, slot, {}}});
        if (slot) ++slot->replies_due;
    }
    // A transfer, or a PORT/EPRT, not answered yet: pyftpdlib answers PORT only once it has
    // connected, after the 150 of a RETR sent behind it.
    bool must_wait() const {
        for (const auto& p : pending)
            if (is_transfer(p.what) || p.what == Expect::connect) return true;
        return false;
    }
    bool idle() const { return outbox.empty() && pending.empty(); }

    // Sends what may go now: everything, or for a server that does not queue commands, nothing
    // while a transfer or a PORT/EPRT is unanswered, and nothing after either in one write.
    asio::awaitable<Status> flush() {
        if (!behind_transfers && must_wait()) co_return success();
        std::vector<ControlSession::Command> batch;
        while (!outbox.empty()) {
            // The receiver's STOR before the sender's RETR, as copy_file does: a sender that
            // finished before the receiver heard its STOR would lose the file on some servers.
            const Pending& next = outbox.front().second;
            if (next.what == Expect::retrieve && !next.slot->store_sent) break;
            if (hold_transfers && is_transfer(next.what)) break;
            if (next.what == Expect::store) next.slot->store_sent = true;
            auto [command, expected] = std::move(outbox.front());
            outbox.pop_front();
            const bool stop = !behind_transfers &&
                (is_transfer(expected.what) || (expected.what == Expect::connect));
            batch.push_back(std::move(command));
            pending.push_back(expected);
            if (stop) break;
        }
        if (batch.empty()) co_return success();
        const auto now = Clock::now();
        for (auto it = pending.end() - static_cast<std::ptrdiff_t>(batch.size()); it != pending.end(); ++it)
            it->sent = now;
        co_return co_await session.send_all(batch);
    }
};

// A failure that stops the pipeline, and the file it is charged to (none for a pairing refused:
// copy_file tries the other pairings).
struct Stop {
    Error error;
    Slot* culprit = nullptr;
};

class Pipeline {
public:
    Pipeline(ControlSession& source, ControlSession& destination, const PipelineOptions& options,
             const PipelineCallbacks& callbacks)
        : source_{source, options.behind_transfers, {}, {}}, destination_{destination, options.behind_transfers, {}, {}},
          options_(options), callbacks_(callbacks),
          listener_(options.pairing.listener == Side::source ? source_ : destination_),
          connector_(options.pairing.listener == Side::source ? destination_ : source_),
          say_times_{options.times_not_kept, options.notice},
          keep_times_(options.preserve_times && offers_mfmt(destination.features())), window_size_(options.window) {
        if (options.preserve_times && !keep_times_ && options.times_not_kept)
            options.times_not_kept(no_mfmt_notice(destination));
        hold_transfers(!hears_abort_while_waiting(source, destination));
    }

    asio::awaitable<Status> run() {
        if (options_.block_mode) {
            if (auto opened = co_await enter_block_mode(); !opened) {
                Stop why{opened.error()};
                co_return co_await stop(why);
            }
            if (!slots_.empty() && too_large(*slots_.front())) {
                // A first file too large to pipeline goes back with the sessions in stream mode;
                // the listener's socket goes with the next pairing command.
                if (auto left = co_await leave_block_mode(); !left) {
                    Stop why{left.error()};
                    co_return co_await stop(why);
                }
                hand_back_from(*slots_.front());
                forget_settled();
                co_return success();
            }
        }
        for (;;) {
            if (auto stopped = top_up()) co_return co_await stop(*stopped);
            // A file handed back with no reply due is done with.
            forget_settled();
            // Every transfer answered and none to come: stream mode again (which closes the kept
            // data connection) in the write of the last renames, not a round trip after them.
            if (options_.block_mode && !mode_reset_ && exhausted_ && unstarted() == 0 && moving() == 0) {
                for (Wire* wire : {&source_, &destination_}) wire->queue(Expect::mode, nullptr, "MODE", "S");
                mode_reset_ = true;
            }
            // The receiver's commands first, as copy_file does.
            for (Wire* wire : {&destination_, &source_}) {
                if (auto sent = co_await wire->flush(); !sent) {
                    Stop why{sent.error(), oldest_moving()};
                    co_return co_await stop(why);
                }
            }
            if (drained()) break;
            if (auto stopped = co_await receive()) co_return co_await stop(*stopped);
        }
        if (options_.block_mode && !mode_reset_) {
            // Stream mode again, which also closes the kept data connection.
            for (Wire* wire : {&source_, &destination_}) wire->queue(Expect::mode, nullptr, "MODE", "S");
            for (Wire* wire : {&destination_, &source_}) {
                if (auto sent = co_await wire->flush(); !sent) {
                    Stop why{sent.error()};
                    co_return co_await stop(why);
                }
            }
            while (!source_.idle() || !destination_.idle()) {
                if (auto stopped = co_await receive()) co_return co_await stop(*stopped);
            }
        }
        say_window();
        co_return success();
    }

private:
    bool per_file() const { return !options_.block_mode; }

    // A server that does not read commands while its transfer waits for the data connection
    // (vsftpd, proftpd...) stays in that transfer when the other server then refuses the pairing
    // and the pipeline closes the sessions: until its accept timeout, and vsftpd keeps its upload
    // lock on the temporary name, which the relay of the same file then waits for. With such
    // servers the first file's RETR/STOR wait for the pairing's last step (PORT, EPRT, SOCK) to
    // be accepted, one round trip for the pipeline; the later files' pairings go out with their
    // transfers as before. Servers that read commands while waiting (LSTN) end a pending transfer
    // when their control connection closes, as copy_file's deferred step relies on.
    static bool hears_abort_while_waiting(const ControlSession& source, const ControlSession& destination) {
        return reads_commands_while_waiting(source.features()) && reads_commands_while_waiting(destination.features());
    }
    void hold_transfers(bool hold) { source_.hold_transfers = destination_.hold_transfers = hold; }
    // The pairing's last step answered 2yz: the transfers may go, and the caller hears it once.
    void pairing_accepted() {
        hold_transfers(false);
        if (said_paired_) return;
        said_paired_ = true;
        if (callbacks_.paired) callbacks_.paired();
    }

    Window current_window() {
        const Window window = window_size_.at(Clock::now());
        widest_ = std::max(widest_, window.files);
        return window;
    }

    // -v: the window the round trip and the rate called for.
    void say_window() const {
        if (!options_.block_mode || !options_.notice) return;
        const auto rtt = window_size_.rtt();
        options_.notice(fmt::format("block mode: {} files, up to {} in flight (round trip {})", finished_, widest_,
                                    rtt ? fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(*rtt).count())
                                        : std::string("not measured")));
    }

    // Block mode in one round trip (docs/PROTOCOL.md): the first files' SIZEs, MODE B on both
    // sessions and the listener's LSTN (PASV, EPSV) with its pin go out in one write on each
    // session; the connector's SOCK (PORT, EPRT), made from the listener's reply, then goes out
    // with the first transfers. Every reply is still read and checked before a transfer starts.
    asio::awaitable<Status> enter_block_mode() {
        take_ahead();
        // RFC 438's own pin names the connector's socket, known only from the connector's reply
        // to its SOCK: a round trip more. The host pin (port 0) sent with LSTN pins what PASV
        // and EPSV pin, and does without it; only an announced address trusted as it is (NAT)
        // needs RFC 438's three steps, as copy_file sends them.
        const bool three_steps =
            options_.pairing.dialect == Dialect::rfc438 && options_.pairing_options.trust_announced_address;
        for (Wire* wire : {&source_, &destination_}) wire->queue(Expect::mode, nullptr, "MODE", "B");
        if (!three_steps) queue_block_listen();
        if (auto drained = co_await exchange(); !drained) co_return drained;
        if (!slots_.empty() && too_large(*slots_.front())) co_return success();  // run() hands it back
        if (three_steps) {
            auto last = co_await pair_sessions_but_last(options_.pairing.dialect, listener_.session, connector_.session,
                                                        options_.pairing.listener == Side::source,
                                                        options_.pairing_options);
            if (!last) co_return last.error();
            // The pairing's last step goes out with the first files' transfer commands, as
            // copy_file sends it: its reply comes before theirs, a round trip saved.
            Wire& wire = last->session == &source_.session ? source_ : destination_;
            wire.queue(Expect::pin, nullptr, last->command.verb, last->command.argument);
            pin_ends_pairing_ = true;
            co_return success();
        }
        auto connect = block_connect_command();
        if (!connect) co_return connect.error();
        announcement_.reset();
        connector_.queue(Expect::connect, nullptr, connect->verb, connect->argument);
        co_return success();
    }

    // The listener's half of the pairing, for block mode: LSTN R|S (or PASV, EPSV, CPSV) and the
    // pin of the connector's host right behind it, in the write of MODE B.
    void queue_block_listen() {
        const Dialect dialect = options_.pairing.dialect;
        if (dialect == Dialect::rfc438) {
            listener_.queue(Expect::listen, nullptr, "LSTN", options_.pairing.listener == Side::source ? "S" : "R");
            // RFC 438 rule 2 with port 0: only the connector's host may connect (docs/PROTOCOL.md).
            const auto pin = host_pin(connector_.session);
            listener_.queue(Expect::pin, nullptr, pin.verb, pin.argument);
        } else {
            listener_.queue(Expect::listen, nullptr, options_.pairing_options.cpsv ? "CPSV" : listen_verb(dialect));
            if (auto pin = passive_pin(dialect, listener_.session, connector_.session))
                listener_.queue(Expect::pin, nullptr, pin->verb, pin->argument);
        }
        listen_queued_ = true;
    }

    // The connector's half, from the listener's announcement: SOCK x (RFC 438), PORT or EPRT.
    Expected<ControlSession::Command> block_connect_command() const {
        if (!announcement_)
            return Error(Errc::unexpected_reply, "no listening socket announced", options_.pairing.listener);
        auto command = connect_command(options_.pairing.dialect, *announcement_, listener_.session,
                                       options_.pairing_options);
        if (!command) return command.error();
        return ControlSession::Command{command->verb, command->argument};
    }

    // MODE S on both sessions, answered.
    asio::awaitable<Status> leave_block_mode() {
        for (Wire* wire : {&source_, &destination_}) wire->queue(Expect::mode, nullptr, "MODE", "S");
        co_return co_await exchange();
    }

    // Sends what is queued (the receiver's first) and reads every reply due.
    asio::awaitable<Status> exchange() {
        for (Wire* wire : {&destination_, &source_}) {
            if (auto sent = co_await wire->flush(); !sent) co_return sent;
        }
        while (!source_.idle() || !destination_.idle()) {
            if (auto stopped = co_await receive()) co_return stopped->error;
        }
        co_return success();
    }

    // Takes files for the source's SIZE ahead of their transfer, and starts those ready to go.
    std::optional<Stop> top_up() {
        if (!stopped_ && callbacks_.stopping && callbacks_.stopping()) {
            stopped_ = true;
            for (auto& slot : slots_) {
                if (!slot->started && !slot->settled) {
                    hand_back_from(*slot);
                    break;
                }
            }
            exhausted_ = true;
        }
        take_ahead();
        for (auto& slot : slots_) {
            if (slot->started || slot->settled) continue;
            if (!slot->sized || !slot->placed) break;  // in order
            if (too_large(*slot)) {
                hand_back_from(*slot);
                break;
            }
            const Window window = current_window();
            if (moving() >= (per_file() ? 2u : window.files)) break;
            if (moving() > 0 && moving_bytes() + slot->source_size.value_or(0) > window.bytes) break;
            if (per_file() && !announcement_) break;
            if (auto stopped = start(*slot)) return stopped;
        }
        // The next file's SIZE goes out with this one's transfer, to be answered as it ends.
        take_ahead();
        if (per_file() && !listen_queued_ && !announcement_ && unstarted() > 0) queue_listen();
        return std::nullopt;
    }

    void take_ahead() {
        // Block mode: four windows' SIZEs ahead, so that a window that grows (to the servers'
        // pace, within a round trip) finds its files sized, not a round trip later.
        const std::size_t ahead = per_file() ? 1 : std::min<std::size_t>(4u * current_window().files,
                                                                           std::max(options_.window.max_files, options_.window.min_files));
        while (!exhausted_ && unstarted() < ahead) {
            auto file = callbacks_.next();
            if (!file) {
                exhausted_ = true;
                break;
            }
            auto slot = std::make_unique<Slot>();
            slot->temporary = temporary_path(file->destination_path);
            slot->file = std::move(*file);
            source_.queue(Expect::source_size, slot.get(), "SIZE", slot->file.source_path);
            // Before the transfer, as copy_file asks it: the time of what is about to be copied.
            if (keep_times_) source_.queue(Expect::source_time, slot.get(), "MDTM", slot->file.source_path);
            if (!slot->file.into_directory.empty()) {
                // RFC 3659 7: the destination's type, asked while the source answers its SIZE.
                slot->placed = false;
                destination_.queue(Expect::destination_kind, slot.get(), "MLST", slot->file.destination_path);
            }
            slots_.push_back(std::move(slot));
        }
    }

    void queue_listen() {
        listener_.queue(Expect::listen, nullptr,
                        options_.pairing_options.cpsv ? "CPSV" : listen_verb(options_.pairing.dialect));
        // In the same write: only the connector's host may take the data connection.
        if (auto pin = passive_pin(options_.pairing.dialect, listener_.session, connector_.session))
            listener_.queue(Expect::pin, nullptr, pin->verb, pin->argument);
        listen_queued_ = true;
    }

    bool too_large(const Slot& slot) const { return slot.source_size && *slot.source_size > options_.largest; }

    // This file is too large to pipeline: it and every file taken after it go back, and no more
    // are taken; the pipeline ends once the files before it are done.
    void hand_back_from(Slot& first) {
        exhausted_ = true;
        bool from_here = false;
        for (auto& slot : slots_) {
            from_here = from_here || slot.get() == &first;
            if (from_here && !slot->started && !slot->settled) settle(*slot, std::nullopt);
        }
    }

    std::optional<Stop> start(Slot& slot) {
        slot.started = true;
        if (callbacks_.started) callbacks_.started(slot.file.index);
        slot.started_at = Clock::now();
        window_size_.started(slot.started_at);
        std::optional<ControlSession::Command> connect;
        if (per_file()) {
            auto command = connect_command(options_.pairing.dialect, *announcement_, listener_.session,
                                           options_.pairing_options);
            announcement_.reset();
            listen_queued_ = false;
            if (!command) return Stop{command.error()};
            connect = ControlSession::Command{command->verb, command->argument};
        }
        const bool connector_is_destination = &connector_ == &destination_;
        if (connect && connector_is_destination) destination_.queue(Expect::connect, &slot, connect->verb, connect->argument);
        destination_.queue(Expect::store, &slot, "STOR", slot.temporary);
        if (options_.verify_size) destination_.queue(Expect::copy_size, &slot, "SIZE", slot.temporary);
        if (connect && !connector_is_destination) source_.queue(Expect::connect, &slot, connect->verb, connect->argument);
        source_.queue(Expect::retrieve, &slot, "RETR", slot.file.source_path);
        // The next file's listener, right behind this transfer: its reply comes as this one ends.
        if (per_file() && (!exhausted_ || unstarted() > 0)) queue_listen();
        return std::nullopt;
    }

    std::size_t unstarted() const {
        std::size_t count = 0;
        for (const auto& slot : slots_) count += !slot->started && !slot->settled;
        return count;
    }
    unsigned moving() const {
        unsigned count = 0;
        for (const auto& slot : slots_) count += slot->moving() && !slot->settled;
        return count;
    }
    std::uint64_t moving_bytes() const {
        std::uint64_t bytes = 0;
        for (const auto& slot : slots_)
            if (slot->moving() && !slot->settled) bytes += slot->source_size.value_or(0);
        return bytes;
    }
    Slot* oldest_moving() const {
        for (const auto& slot : slots_)
            if (slot->moving() && !slot->settled) return slot.get();
        return nullptr;
    }
    bool drained() const {
        return exhausted_ && slots_.empty() && source_.idle() && destination_.idle();
    }

    void settle(Slot& slot, std::optional<Expected<CopyResult>> result) {
        if (slot.settled) return;
        slot.settled = true;
        if (result) callbacks_.finished(slot.file.index, std::move(*result));
        else callbacks_.returned(slot.file.index, slot.sized ? slot.source_size : std::nullopt);
    }

    void forget_settled() {
        while (!slots_.empty() && slots_.front()->settled && slots_.front()->replies_due == 0) slots_.pop_front();
    }

    // Reads what has arrived; waits for more (bounded by the timeout) when nothing has.
    asio::awaitable<std::optional<Stop>> receive() {
        bool progressed = false;
        for (Wire* wire : {&source_, &destination_}) {
            while (!wire->pending.empty()) {
                auto reply = wire->session.buffered_reply();
                if (!reply) break;
                if (!*reply) co_return Stop{reply->error(), oldest_moving()};
                if (auto stopped = apply(*wire, **reply)) co_return stopped;
                progressed = true;
            }
        }
        forget_settled();
        if (progressed) co_return std::nullopt;

        if (source_.pending.empty() && destination_.pending.empty())
            co_return Stop{Error(Errc::unexpected_reply, "pipeline stalled with nothing to wait for")};
        auto executor = co_await asio::this_coro::executor;
        const auto timeout = std::max(source_.session.timeout(), destination_.session.timeout());
        asio::steady_timer timer(executor, timeout);
        std::optional<Status> got;
        Wire* waited = nullptr;
        if (!source_.pending.empty() && !destination_.pending.empty()) {
            auto first = co_await (source_.session.receive() || destination_.session.receive() ||
                                   timer.async_wait(asio::use_awaitable));
            if (first.index() == 0) waited = &source_, got = std::get<0>(std::move(first));
            if (first.index() == 1) waited = &destination_, got = std::get<1>(std::move(first));
        } else {
            Wire& wire = source_.pending.empty() ? destination_ : source_;
            auto first = co_await (wire.session.receive() || timer.async_wait(asio::use_awaitable));
            if (first.index() == 0) waited = &wire, got = std::get<0>(std::move(first));
        }
        if (!waited) {
            Wire& late = source_.pending.empty() ? destination_ : source_;
            co_return Stop{Error(Errc::timeout, "no reply within the timeout to a pipelined command", late.session.side()),
                           oldest_moving()};
        }
        if (!*got) co_return Stop{got->error(), oldest_moving()};
        co_return std::nullopt;
    }

    // Applies one reply to the command at the head of its wire.
    std::optional<Stop> apply(Wire& wire, const Reply& reply) {
        Pending head = wire.pending.front();
        Slot* slot = head.slot;
        const bool transfer = head.what == Expect::retrieve || head.what == Expect::store;
        if (transfer && reply.preliminary()) return std::nullopt;  // 150 or 125: the final reply follows
        wire.pending.pop_front();
        if (slot) --slot->replies_due;
        // A transfer's reply waits for its bytes; any other measures the round trip (the
        // smallest is kept: one queued behind a transfer is late for that reason alone).
        if (!transfer) window_size_.round_trip(Clock::now() - head.sent);
        ControlSession& session = wire.session;

        switch (head.what) {
        case Expect::source_size: {
            slot->sized = true;
            auto size = size_from_reply(session, slot->file.source_path, reply);
            // A missing source fails its file alone: nothing was sent for it yet.
            if (!size) settle(*slot, Expected<CopyResult>(size.error()));
            else slot->source_size = *size;
            return std::nullopt;
        }
        case Expect::source_time:
            // A file already failed (its SIZE) or handed back needs no time.
            if (!slot->settled) slot->source_time = time_to_keep(session, slot->file.source_path, reply, say_times_);
            return std::nullopt;
        case Expect::set_time:
            // Never a failure: the file is renamed and verified; a refusal is only said.
            check_time_kept(session, slot->file.destination_path, reply, say_times_);
            settle(*slot, std::move(*slot->renamed));
            return std::nullopt;
        case Expect::destination_kind:
            slot->placed = true;
            // A 550 (nothing by that name) or a file: the name is the file's own.
            if (type_from_mlst(reply) == ListEntry::Type::directory) {
                slot->file.destination_path = slot->file.into_directory;
                slot->temporary = temporary_path(slot->file.destination_path);
            }
            return std::nullopt;
        case Expect::listen:
            if (!reply.completion()) return Stop{pairing_step_refused(session, listen_verb(options_.pairing.dialect), reply)};
            listen_queued_ = false;
            announcement_ = reply;
            return std::nullopt;
        case Expect::pin:
            if (!reply.completion()) return Stop{pairing_step_refused(session, "SOCK", reply)};
            // RFC 438's three steps end with the pin; otherwise it comes before the connector's step.
            if (pin_ends_pairing_) pairing_accepted();
            return std::nullopt;
        case Expect::connect:
            if (!reply.completion())
                return Stop{pairing_step_refused(session, options_.pairing.dialect == Dialect::rfc438 ? "SOCK" : "PORT/EPRT", reply)};
            pairing_accepted();
            return std::nullopt;
        case Expect::mode:
            if (!reply.completion()) return Stop{session.refused("MODE", reply)};
            return std::nullopt;
        case Expect::retrieve:
        case Expect::store: {
            const std::string command = head.what == Expect::retrieve ? "RETR " + slot->file.source_path
                                                                      : "STOR " + slot->temporary;
            if (!reply.completion()) return Stop{session.refused(command, reply), slot};
            (head.what == Expect::retrieve ? slot->retrieved : slot->stored) = true;
            break;
        }
        case Expect::copy_size: {
            auto size = size_from_reply(session, slot->temporary, reply);
            if (!size) return Stop{size.error(), slot};
            slot->copy_sized = true;
            slot->copy_size = *size;
            break;
        }
        case Expect::rename_from:
            if (reply.code != 350) return Stop{session.refused("RNFR " + slot->temporary, reply), slot};
            return std::nullopt;
        case Expect::rename_to: {
            if (!reply.completion()) return Stop{session.refused("RNTO " + slot->file.destination_path, reply), slot};
            CopyResult result;
            result.bytes = slot->copy_size ? slot->copy_size : slot->source_size;
            result.elapsed = Clock::now() - slot->started_at;
            result.dialect = options_.pairing.dialect;
            result.listener = options_.pairing.listener;
            // After the rename, as copy_file does; the file is done once MFMT is answered.
            if (keep_times_ && slot->source_time) {
                if (auto argument = format_mfmt_argument(*slot->source_time, slot->file.destination_path)) {
                    slot->renamed = std::move(result);
                    destination_.queue(Expect::set_time, slot, "MFMT", std::move(*argument));
                    return std::nullopt;
                }
            }
            settle(*slot, std::move(result));
            return std::nullopt;
        }
        }
        return verify_and_rename(*slot);
    }

    std::optional<Stop> verify_and_rename(Slot& slot) {
        if (slot.renaming || !slot.retrieved || !slot.stored || (options_.verify_size && !slot.copy_sized))
            return std::nullopt;
        if (options_.verify_size && slot.source_size && slot.copy_size && *slot.copy_size != *slot.source_size) {
            return Stop{Error(Errc::verification_failed,
                              "size mismatch: the copy should have " + std::to_string(*slot.source_size) +
                                  " bytes and has " + std::to_string(*slot.copy_size),
                              Side::destination),
                        &slot};
        }
        slot.renaming = true;
        // Its transfer is over: it leaves the window.
        window_size_.completed(slot.source_size.value_or(0), Clock::now());
        ++finished_;
        destination_.queue(Expect::rename_from, &slot, "RNFR", slot.temporary);
        destination_.queue(Expect::rename_to, &slot, "RNTO", slot.file.destination_path);
        return std::nullopt;
    }

    // A receiver that refuses its STOR leaves the sender's RETR nothing to connect to (425), and
    // the two replies may come in either order: the refusal is the cause, and what the file's
    // error says. In block mode a refused STOR also ends the kept data connection, so the RETRs
    // of later files fail too: the first STOR refused is the cause, whichever file's RETR failed.
    // Reads the destination's replies (briefly) up to that file's STOR; returns the first refused
    // STOR among them, and its file.
    struct Refusal {
        Slot* slot;
        Error error;
    };
    asio::awaitable<std::optional<Refusal>> store_refusal(const Slot& slot) {
        const auto limit = std::min<Clock::duration>(destination_.session.timeout(), std::chrono::seconds(2));
        while (!destination_.pending.empty()) {
            auto reply = co_await destination_.session.read_reply(limit);
            if (!reply) co_return std::nullopt;
            const Pending head = destination_.pending.front();
            if (is_transfer(head.what) && reply->preliminary()) continue;
            destination_.pending.pop_front();
            if (head.what != Expect::store) continue;
            if (!reply->completion())
                co_return Refusal{head.slot, destination_.session.refused("STOR " + head.slot->temporary, *reply)};
            if (head.slot == &slot) co_return std::nullopt;
        }
        co_return std::nullopt;
    }

    // Nothing that fails verification keeps its temporary file, as with copy_file: its bytes are
    // not to be trusted, not even as a start to resume from. The destination's replies still due
    // are read out first (briefly: a session that does not answer is closed with the file kept).
    asio::awaitable<void> discard(const Slot& slot) {
        const auto limit = std::min<Clock::duration>(destination_.session.timeout(), std::chrono::seconds(2));
        while (destination_.session.is_open() && !destination_.pending.empty()) {
            auto reply = co_await destination_.session.read_reply(limit);
            if (!reply) co_return;
            if (!reply->preliminary()) destination_.pending.pop_front();
        }
        if (destination_.session.is_open()) co_await destination_.session.command("DELE", slot.temporary);
    }

    // Both sessions are closed: the replies still due would answer commands nobody waits for.
    // Takes a Stop the caller names: GCC 12 destroyed a temporary Stop passed by value into this
    // coroutine twice (a double free of its Error's message when a pipeline's pairing was refused).
    asio::awaitable<Status> stop(Stop& stopped) {
        if (stopped.culprit && stopped.error.side == Side::source && stopped.culprit->store_sent &&
            !stopped.culprit->stored && destination_.session.is_open()) {
            if (auto refusal = co_await store_refusal(*stopped.culprit)) {
                stopped.culprit = refusal->slot;
                stopped.error = std::move(refusal->error);
            }
        }
        if (stopped.culprit && stopped.error.is(Errc::verification_failed)) co_await discard(*stopped.culprit);
        source_.session.close();
        destination_.session.close();
        for (auto& slot : slots_) {
            if (slot.get() == stopped.culprit) settle(*slot, Expected<CopyResult>(stopped.error));
            else if (slot->renamed) settle(*slot, std::move(*slot->renamed));  // only its time may be missing
            else settle(*slot, std::nullopt);
        }
        slots_.clear();
        // Whatever next() would still give stays with the caller.
        co_return stopped.error;
    }

    Wire source_;
    Wire destination_;
    const PipelineOptions& options_;
    const PipelineCallbacks& callbacks_;
    Wire& listener_;
    Wire& connector_;
    std::deque<std::unique_ptr<Slot>> slots_;
    bool exhausted_ = false;  // next() gave all it will
    bool stopped_ = false;    // the caller is stopping
    bool listen_queued_ = false;
    std::optional<Reply> announcement_;  // the listener's reply for the next file
    TimeNotices say_times_;
    bool keep_times_ = false;  // preserve_times, and the destination offers MFMT
    WindowSize window_size_;
    unsigned widest_ = 0;        // the largest window used
    std::size_t finished_ = 0;   // files whose transfer ended
    bool mode_reset_ = false;    // MODE S is queued
    bool said_paired_ = false;   // callbacks_.paired called
    bool pin_ends_pairing_ = false;  // RFC 438's three steps: the pin, not the connect, comes last
};

} // namespace

bool offers_block_mode(const Features& features) {
    const auto modes = features.parameters("MODE");
    return modes && modes->find_first_of("Bb") != std::string::npos;
}

asio::awaitable<Status> run_pipeline(ControlSession& source, ControlSession& destination,
                                     const PipelineOptions& options, const PipelineCallbacks& callbacks) {
    Pipeline pipeline(source, destination, options, callbacks);
    co_return co_await pipeline.run();
}

} // namespace rsexec
