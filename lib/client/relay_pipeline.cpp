#include "client/relay_pipeline.hpp"

#include <algorithm>

#include <asio/experimental/awaitable_operators.hpp>

#include "client/byte_pump.hpp"
#include "client/data_connection.hpp"
#include "client/file_size.hpp"
#include "client/pairing.hpp"
#include "client/path_kind.hpp"
#include "client/relay_plan.hpp"
#include "client/transfer.hpp"

namespace rsexec {
namespace {

using namespace asio::experimental::awaitable_operators;

// A file copied and verified under its temporary name: renamed with the next destination write.
struct Verified {
    std::size_t index = 0;
    std::string temporary;
    std::string final_path;
    CopyResult result;
};

class RelayPipeline {
public:
    RelayPipeline(ControlSession& source, ControlSession& destination, const RelayPipelineOptions& options,
                  const PipelineCallbacks& callbacks)
        : source_(source), destination_(destination), options_(options), callbacks_(callbacks),
          source_queues_(pipelines_behind_transfers(source.features(), source.greeting())),
          destination_queues_(pipelines_behind_transfers(destination.features(), destination.greeting())) {}

    asio::awaitable<Status> run() {
        std::optional<PipelineFile> file = take();
        while (file) {
            current_ = file->index;
            ahead_.reset();
            blame_current_ = true;
            if (!source_asked_) {
                if (auto sent = co_await ask_source(*file); !sent) co_return fail(sent.error());
            }
            source_asked_ = false;
            std::optional<PipelineFile> next;
            auto copied = co_await copy(*file, next);
            if (!copied) co_return fail(copied.error());
            current_.reset();
            if (!*copied) {
                // Too large: it goes back, and the pipeline ends with the sessions in step.
                if (auto renamed = co_await rename_verified(); !renamed) co_return fail(renamed.error());
                co_return success();
            }
            if (next) file = std::move(next);
            else file = take();
        }
        if (auto renamed = co_await rename_verified(); !renamed) co_return fail(renamed.error());
        co_return success();
    }

private:
    std::optional<PipelineFile> take() {
        if (callbacks_.stopping && callbacks_.stopping()) return std::nullopt;
        return callbacks_.next();
    }

    std::vector<ControlSession::Command> ask_commands(const PipelineFile& file) const {
        return {{"SIZE", file.source_path}, {passive_verb(source_), ""}};
    }

    asio::awaitable<Status> ask_source(const PipelineFile& file) {
        co_return co_await source_.send_all(ask_commands(file));
    }

    // The final reply of a transfer command, past its 1yz.
    static asio::awaitable<Expected<Reply>> final_reply(ControlSession& session) {
        for (;;) {
            auto reply = co_await session.read_reply();
            if (!reply || !reply->preliminary()) co_return reply;
        }
    }

    // One file, whose SIZE and PASV/EPSV are out on the source. Returns false for a file too
    // large for the pipeline (handed back); `next` is the file asked for behind this one's RETR.
    asio::awaitable<Expected<bool>> copy(PipelineFile& file, std::optional<PipelineFile>& next) {
        const auto started_at = Clock::now();
        const bool ask_kind = !file.into_directory.empty();
        if (!destination_asked_) {
            // With the previous file's rename, when it has not gone out with a STOR.
            std::vector<ControlSession::Command> to_destination;
            const bool renaming = verified_.has_value();
            if (renaming) add_rename(to_destination);
            add_destination_ask(to_destination, file);
            if (auto sent = co_await destination_.send_all(to_destination); !sent) co_return sent.error();
            if (renaming) {
                if (auto renamed = co_await read_rename(); !renamed) co_return renamed.error();
            }
        }
        destination_asked_ = false;
        if (ask_kind) {
            auto kind = co_await destination_.read_reply();
            if (!kind) co_return kind.error();
            // A 550 (nothing by that name) or a file: the name is the file's own.
            if (type_from_mlst(*kind) == ListEntry::Type::directory) file.destination_path = file.into_directory;
        }

        auto size_reply = co_await source_.read_reply();
        if (!size_reply) co_return size_reply.error();
        auto source_passive = co_await source_.read_reply();
        if (!source_passive) co_return source_passive.error();
        auto destination_passive = co_await destination_.read_reply();
        if (!destination_passive) co_return destination_passive.error();
        auto source_size = size_from_reply(source_, file.source_path, *size_reply);
        if (!source_size) {
            // A missing source fails its file alone: nothing was sent for it at the destination
            // but a PASV/EPSV, which the next one replaces.
            current_.reset();
            callbacks_.finished(file.index, Expected<CopyResult>(source_size.error()));
            co_return true;
        }
        if (source_size->value_or(0) > options_.largest) {
            current_.reset();
            callbacks_.returned(file.index, *source_size);
            co_return false;
        }
        if (!source_passive->completion())
            co_return source_.refused(passive_verb(source_), *source_passive);
        if (!destination_passive->completion())
            co_return destination_.refused(passive_verb(destination_), *destination_passive);
        auto from_where = announced_endpoint(source_, *source_passive, options_.trust_announced_address);
        if (!from_where) co_return from_where.error();
        auto to_where = announced_endpoint(destination_, *destination_passive, options_.trust_announced_address);
        if (!to_where) co_return to_where.error();
        auto [download, upload] = co_await (connect_data(source_, *from_where) && connect_data(destination_, *to_where));
        if (!download) co_return download.error();
        if (!upload) co_return upload.error();

        if (callbacks_.started) callbacks_.started(file.index);
        const std::string temporary = temporary_path(file.destination_path);
        if (source_queues_ || destination_queues_) {
            next = take();
            if (next) ahead_ = next->index;
        }
        // The previous file's rename (when it waited for this write), then the receiver's STOR
        // before the sender's RETR, as copy_file does; the copy's SIZE behind it where the server
        // answers it once the transfer has ended, and there the next file's PASV/EPSV too.
        std::vector<ControlSession::Command> store;
        const bool renaming = verified_.has_value();
        if (renaming) add_rename(store);
        store.push_back({"STOR", temporary});
        const bool size_queued = options_.verify_size && destination_queues_;
        if (size_queued) store.push_back({"SIZE", temporary});
        const bool destination_ahead = next && destination_queues_;
        if (destination_ahead) add_destination_ask(store, *next);
        if (auto sent = co_await destination_.send_all(store); !sent) co_return sent.error();
        // The next file's SIZE and PASV/EPSV, answered as this download ends.
        std::vector<ControlSession::Command> retrieve{{"RETR", file.source_path}};
        const bool source_ahead = next && source_queues_;
        if (source_ahead) {
            for (auto& command : ask_commands(*next)) retrieve.push_back(std::move(command));
        }
        if (auto sent = co_await source_.send_all(retrieve); !sent) co_return sent.error();

        PumpOptions pump;
        pump.stall_limit = std::max(source_.timeout(), destination_.timeout());
        pump.pipe = &pipe_;
        PumpEnd from = download->end(Side::source);
        PumpEnd to = upload->end(Side::destination);
        // Not `cond ? co_await ... : co_await ...`: GCC 12 destroys such a result twice.
        Expected<PumpResult> moved = PumpResult{};
        if (splice_available()) moved = co_await pump_splice(from, to, pump);
        else moved = co_await pump_buffered(from, to, pump);
        download->close();
        upload->close();
        if (renaming) {
            if (auto renamed = co_await read_rename(); !renamed) co_return renamed.error();
        }
        // Both 2yz: the source's says it sent everything, the destination's that it stored it. A
        // refused RETR or STOR is the cause of a failed pump, and what the file's error says.
        auto sent = co_await final_reply(source_);
        if (!sent) co_return sent.error();
        if (!sent->completion()) co_return transfer_refused(source_, "RETR " + file.source_path, *sent);
        auto stored = co_await final_reply(destination_);
        if (!stored) co_return stored.error();
        if (!stored->completion()) co_return transfer_refused(destination_, "STOR " + temporary, *stored);
        if (!moved) co_return moved.error();

        CopyResult result;
        result.relayed = true;
        result.bytes = moved->bytes;
        if (options_.verify_size) {
            Expected<std::optional<std::uint64_t>> written = std::optional<std::uint64_t>();
            if (size_queued) {
                auto reply = co_await destination_.read_reply();
                if (!reply) co_return reply.error();
                written = size_from_reply(destination_, temporary, *reply);
            } else {
                written = co_await size_of(destination_, temporary);
            }
            if (!written) co_return written.error();
            if (*written && *source_size && **written != **source_size) {
                // Its bytes are not to be trusted, not even to resume from. The next file's
                // replies due first.
                const int due = destination_ahead ? (next->into_directory.empty() ? 1 : 2) : 0;
                for (int i = 0; i < due; ++i) (void)co_await destination_.read_reply();
                (void)co_await destination_.command("DELE", temporary);
                co_return Error(Errc::verification_failed,
                                "size mismatch: the copy should have " + std::to_string(**source_size) +
                                    " bytes and has " + std::to_string(**written),
                                Side::destination);
            }
            if (*written) result.bytes = **written;
        }
        result.elapsed = Clock::now() - started_at;
        verified_ = Verified{file.index, temporary, file.destination_path, std::move(result)};
        source_asked_ = source_ahead;
        destination_asked_ = destination_ahead;
        co_return true;
    }

    void add_rename(std::vector<ControlSession::Command>& commands) const {
        commands.push_back({"RNFR", verified_->temporary});
        commands.push_back({"RNTO", verified_->final_path});
    }

    // A file's MLST (whether its destination is a directory, when it may be) and PASV/EPSV.
    void add_destination_ask(std::vector<ControlSession::Command>& commands, const PipelineFile& file) const {
        if (!file.into_directory.empty()) commands.push_back({"MLST", file.destination_path});
        commands.push_back({passive_verb(destination_), ""});
    }

    static Error transfer_refused(const ControlSession& session, const std::string& command, const Reply& reply) {
        Error error = session.refused(command, reply);
        error.code = make_error_code(Errc::transfer_failed);
        return error;
    }

    // The RNFR/RNTO sent for the verified file: it is done once RNTO is answered.
    asio::awaitable<Status> read_rename() {
        auto from_reply = co_await destination_.read_reply();
        if (!from_reply) co_return charge_verified(from_reply.error());
        auto to_reply = co_await destination_.read_reply();
        if (!to_reply) co_return charge_verified(to_reply.error());
        if (from_reply->code != 350) co_return charge_verified(destination_.refused("RNFR " + verified_->temporary, *from_reply));
        if (!to_reply->completion()) co_return charge_verified(destination_.refused("RNTO " + verified_->final_path, *to_reply));
        Verified done = std::move(*verified_);
        verified_.reset();
        callbacks_.finished(done.index, std::move(done.result));
        co_return success();
    }

    asio::awaitable<Status> rename_verified() {
        if (!verified_) co_return success();
        const std::vector<ControlSession::Command> commands{{"RNFR", verified_->temporary},
                                                            {"RNTO", verified_->final_path}};
        if (auto sent = co_await destination_.send_all(commands); !sent) co_return sent;
        co_return co_await read_rename();
    }

    // A failed rename is the verified file's own error, not the one being copied.
    Error charge_verified(Error error) {
        Verified failed = std::move(*verified_);
        verified_.reset();
        blame_current_ = false;
        callbacks_.finished(failed.index, Expected<CopyResult>(error));
        return error;
    }

    // Both sessions are closed (what they were doing is no longer known); the file being copied
    // fails, one renamed but not confirmed and one asked for ahead go back.
    Status fail(const Error& error) {
        source_.close();
        destination_.close();
        if (verified_) callbacks_.returned(verified_->index, std::nullopt);
        verified_.reset();
        if (current_ && blame_current_) callbacks_.finished(*current_, Expected<CopyResult>(error));
        else if (current_) callbacks_.returned(*current_, std::nullopt);
        current_.reset();
        if (ahead_) callbacks_.returned(*ahead_, std::nullopt);
        ahead_.reset();
        return error;
    }

    ControlSession& source_;
    ControlSession& destination_;
    const RelayPipelineOptions& options_;
    const PipelineCallbacks& callbacks_;
    const bool source_queues_;
    const bool destination_queues_;
    std::optional<Verified> verified_;
    SplicePipe pipe_;  // made for the first file, kept for the next ones
    std::optional<std::size_t> current_;  // the file being copied
    std::optional<std::size_t> ahead_;    // the file asked for behind it
    bool blame_current_ = true;           // a failure now is the current file's own
    bool source_asked_ = false;           // the next file's SIZE and PASV/EPSV are out on the source
    bool destination_asked_ = false;      // its MLST and PASV/EPSV are out on the destination
};

} // namespace

asio::awaitable<Status> run_relay_pipeline(ControlSession& source, ControlSession& destination,
                                           const RelayPipelineOptions& options, const PipelineCallbacks& callbacks) {
    RelayPipeline pipeline(source, destination, options, callbacks);
    co_return co_await pipeline.run();
}

} // namespace rsexec
