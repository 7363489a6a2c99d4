// JSON events (one object per line, documented in README.md) or a terminal report for people.
#include "batch_report.hpp"

#include <cmath>
#include <csignal>
#include <functional>
#include <iostream>
#include <map>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <sys/ioctl.h>
#include <unistd.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "ftp/exit_code.hpp"
#include "client/progress_line.hpp"
#include "client/progress_pace.hpp"
#include "client/run.hpp"
#include "jobs/batch_progress.hpp"

namespace rsexec::cli {
namespace {

double seconds_of(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// For people at a terminal: one line per finished item, and a status line kept at the bottom,
// redrawn at most 10 times a second and at least once a second (tick()).
class TerminalReport {
public:
    TerminalReport(std::size_t total, std::optional<std::uint64_t> bytes_total)
        : progress_(total, bytes_total, Clock::now()) {}

    void on_event(const BatchEvent& event) {
        const auto now = Clock::now();
        progress_.on_event(event, now);
        if (event.kind == BatchEvent::Kind::progress || event.kind == BatchEvent::Kind::start) {
            if (pace_.draw_now(now)) draw_status(now);
            return;
        }
        clear_status();
        switch (event.kind) {
        case BatchEvent::Kind::done: {
            std::string how = event.result->found_complete ? "found complete"
                : event.item->source.is_local()              ? "uploaded"
                : event.item->destination.is_local()         ? "downloaded"
                : event.result->relayed                      ? "relayed"
                                                             : dialect_name(event.result->dialect);
            if (event.result->resumed_from)
                how = fmt::format("resumed from byte {}, {}", event.result->resumed_from, how);
            std::cout << fmt::format("done    {} -> {} ({} bytes, {})\n", event.item->source.display(),
                                     event.item->destination.display(), event.result->bytes.value_or(0), how);
            break;
        }
        case BatchEvent::Kind::skipped:
            if (event.skip_reason)
                std::cout << fmt::format("skipped {} -> {}: {}\n", event.item->source.display(),
                                         event.item->destination.display(), skip_explanation(*event.skip_reason));
            else
                std::cout << fmt::format("skipped {} (done in an earlier run)\n", event.item->source.display());
            break;
        case BatchEvent::Kind::failed:
            std::cout << fmt::format("FAILED  {}: {}\n", event.item->source.display(), event.error->describe());
            break;
        case BatchEvent::Kind::retry:
            std::cout << fmt::format("retry   {} in {:.1f} s: {}\n", event.item->source.display(),
                                     seconds_of(event.delay), event.error->describe());
            break;
        case BatchEvent::Kind::interrupted:
            std::cout << fmt::format("stopped {}\n", event.item->source.display());
            break;
        case BatchEvent::Kind::progress:
        case BatchEvent::Kind::start: break;
        }
        std::cout << std::flush;
        if (pace_.draw_now(now)) draw_status(now);
    }

    // The ticker's call: the rate and time left move even when no event comes.
    void tick() {
        const auto now = Clock::now();
        if (pace_.overdue(now) && pace_.draw_now(now)) draw_status(now);
    }

    void finish() { clear_status(); }

private:
    void draw_status(Clock::time_point now) {
        const auto columns = terminal_columns(STDERR_FILENO);
        std::cerr << "\r\033[K" << fit_to_width(batch_status_line(progress_.status(now)), columns ? columns : 200)
                  << std::flush;
        status_shown_ = true;
    }
    void clear_status() {
        if (status_shown_) std::cerr << "\r\033[K" << std::flush;
        status_shown_ = false;
    }

    BatchProgress progress_;
    ProgressPace pace_;
    bool status_shown_ = false;
};

} // namespace

std::string json_event_line(const BatchEvent& event) {
    nlohmann::json out{{"event", event_kind_name(event.kind)}, {"item", event.index}};
    if (event.item) {
        out["line"] = event.item->line;
        out["src"] = event.item->source.display();
        out["dst"] = event.item->destination.display();
    }
    if (event.attempt) out["attempt"] = event.attempt;
    if (event.result) {
        out["bytes"] = event.result->bytes.value_or(0);
        out["seconds"] = seconds_of(event.result->elapsed);
        out["dialect"] = dialect_name(event.result->dialect);
        out["listener"] = side_name(event.result->listener);
        if (event.result->checksum) out["checksum"] = *event.result->checksum;
        if (event.result->resumed_from) out["resumed_from"] = event.result->resumed_from;
        if (event.result->found_complete) out["found_complete"] = true;
        if (event.result->relayed) out["relay"] = true;
    }
    if (event.kind == BatchEvent::Kind::progress) {
        const TransferProgress progress = event.progress.value_or(TransferProgress{event.bytes});
        out["bytes"] = progress.bytes;
        out["total"] = progress.total ? nlohmann::json(*progress.total) : nlohmann::json();
        const auto percent = progress.percent();
        out["percent"] = percent ? nlohmann::json(std::round(*percent * 10) / 10) : nlohmann::json();
        out["rate"] = std::llround(progress.rate);
        out["eta"] = progress.eta ? nlohmann::json(std::round(*progress.eta * 10) / 10) : nlohmann::json();
        if (progress.resumed_from) out["resumed_from"] = progress.resumed_from;
    }
    if (event.error) {
        out["error"] = event.error->describe();
        out["exit_code"] = static_cast<int>(exit_code_for(*event.error));
    }
    if (event.kind == BatchEvent::Kind::retry) out["delay"] = seconds_of(event.delay);
    // Why: kept by the overwrite policy ("exists", ...), or done in the journal already.
    if (event.kind == BatchEvent::Kind::skipped)
        out["skipped"] = event.skip_reason ? skip_reason_name(*event.skip_reason) : "journal";
    return out.dump();
}

namespace {

// The pairs at work when the run ended ("concurrency"), and with -j auto ("jobs": "auto") the
// most at once and the logins refused for a server's connection limit.
void add_concurrency(nlohmann::json& out, const BatchSummary& summary) {
    out["concurrency"] = summary.concurrency;
    out["jobs"] = summary.concurrency_auto ? nlohmann::json("auto") : nlohmann::json(summary.concurrency);
    if (!summary.concurrency_auto) return;
    out["concurrency_peak"] = summary.concurrency_peak;
    out["limit_refusals"] = summary.limit_refusals;
}

std::string concurrency_sentence(const BatchSummary& summary) {
    std::string text = fmt::format("-j auto: settled on {} pairs (at most {} at once)", summary.concurrency,
                                   summary.concurrency_peak);
    if (summary.limit_refusals)
        text += fmt::format(", {} logins refused for a server's connection limit, their items taken by other pairs",
                            summary.limit_refusals);
    return text;
}

} // namespace

std::string json_summary_line(const BatchSummary& summary) {
    nlohmann::json out{{"event", "summary"}, {"done", summary.done}, {"skipped", summary.skipped},
                       {"failed", summary.failed}, {"interrupted", summary.interrupted}, {"bytes", summary.bytes},
                       {"seconds", seconds_of(summary.elapsed)}, {"logins", summary.logins},
                       {"peak_per_host", summary.peak_per_host}, {"journal_round_trips", summary.journal_round_trips}};
    add_concurrency(out, summary);
    if (summary.journal_error) out["journal_error"] = summary.journal_error->describe();
    return out.dump();
}

std::size_t terminal_columns(int fd) {
    winsize size{};
    if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

void add_batch_options(cxxopts::Options& options) {
    options.add_options("Batch")
        ("j,jobs", "concurrent server pairs (each keeps its two control connections): 1 to 1024, or auto "
                   "(start with 4, add pairs while files/s rises, fewer when a server refuses a login for its "
                   "connection limit (421) or files/s falls; 2 between servers in block mode; at most --max-per-host, "
                   "else 32; -v says why)",
         cxxopts::value<std::string>()->default_value("auto"))
        ("max-per-host", "most control connections open to one server at a time (0: no cap), up to 10000",
         cxxopts::value<std::string>()->default_value("0"))
        ("retries", "further attempts for transient failures (4xx, lost connections, timeouts), up to 100",
         cxxopts::value<std::string>()->default_value("3"))
        ("pipeline", "send the next files' commands before the current replies arrive: block (also "
                     "keep one data connection across files where both servers offer MODE B), "
                     "commands, or off (one file at a time)",
         cxxopts::value<std::string>()->default_value("block"))
        ("json", "one JSON object per event on stdout (the default when stdout is not a terminal)");
}

void add_no_mkdirs_option(cxxopts::Options& options) {
    options.add_options("Batch")("no-mkdirs", "make no missing destination directory: its items fail (by default "
                                              "it is made, MKD parents first, when the STOR is refused, and the "
                                              "item tried again)");
}

std::optional<BatchOptions> read_batch_options(const char* command, const cxxopts::ParseResult& args,
                                              const TransferSettings& settings) {
    BatchOptions batch;
    const auto pipelining = parse_pipelining(args["pipeline"].as<std::string>());
    if (!pipelining) {
        std::cerr << command << ": --pipeline must be block, commands or off\n";
        return std::nullopt;
    }
    batch.pipelining = *pipelining;
    // -j auto: 0, the batch engine's ConcurrencyController.
    const auto jobs = args["jobs"].as<std::string>() == "auto" ? std::optional<unsigned>(0)
                                                               : read_whole_number(command, args, "jobs", 1, 1024);
    const auto max_per_host = read_whole_number(command, args, "max-per-host", 0, 10000);
    const auto retries = read_whole_number(command, args, "retries", 0, 100);
    if (!jobs || !max_per_host || !retries) return std::nullopt;
    batch.jobs = *jobs;
    batch.max_per_host = *max_per_host;
    batch.retries = *retries;
    batch.copy = settings.copy;
    batch.session = settings.session;
    batch.netrc = settings.netrc ? &*settings.netrc : nullptr;
    return batch;
}

bool wants_json(const cxxopts::ParseResult& args) { return args.count("json") || !::isatty(STDOUT_FILENO); }

int run_items(asio::io_context& io, std::vector<JobItem> items, BatchOptions batch, bool json, std::size_t total,
              std::optional<std::uint64_t> bytes_total) {
    return run_items(io, items.empty() ? nullptr : items_in_memory(std::move(items)), std::move(batch), json, total,
                     bytes_total);
}

int run_items(asio::io_context& io, std::unique_ptr<ItemSource> items, BatchOptions batch, bool json,
              std::size_t total, std::optional<std::uint64_t> bytes_total) {
    TerminalReport terminal(total, bytes_total);
    const bool verbose = static_cast<bool>(batch.copy.notice);  // -v sets it
    // The exit code of the failed item first in the job: a run where nothing succeeded exits
    // with it (one code kept, not one per failed item).
    std::optional<std::pair<std::size_t, int>> first_failure;
    batch.on_event = [&](const BatchEvent& event) {
        if (event.kind == BatchEvent::Kind::failed && event.error && (!first_failure || event.index < first_failure->first))
            first_failure.emplace(event.index, static_cast<int>(exit_code_for(*event.error)));
        if (json) std::cout << json_event_line(event) << '\n' << std::flush;
        else terminal.on_event(event);
    };

    BatchRun run(io.get_executor(), std::move(items), std::move(batch));
    asio::signal_set signals(io, SIGINT, SIGTERM);
    int signals_seen = 0;
    std::function<void()> wait_signal = [&] {
        signals.async_wait([&](std::error_code ec, int signal) {
            if (ec) return;
            // The first SIGINT lets running copies finish; a second one, or SIGTERM (kill, a
            // service manager, a scheduler: it wants the process gone), aborts them.
            if (++signals_seen == 1 && signal == SIGINT) run.stop_starting();
            else run.abort_running();
            wait_signal();
        });
    };
    wait_signal();
    // The status line's ticker, while the run lasts.
    asio::steady_timer ticker(io);
    bool running = true;
    auto tick = [&]() -> asio::awaitable<void> {
        while (running) {
            ticker.expires_after(ProgressPace::tick);
            co_await ticker.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            if (running) terminal.tick();
        }
    };
    if (!json) asio::co_spawn(io, tick(), asio::detached);
    auto finish = [&]() -> asio::awaitable<BatchSummary> {
        auto summary = co_await run.run();
        signals.cancel();
        running = false;
        ticker.cancel();
        co_return summary;
    };
    const auto summary = run_to_completion(io, finish());
    if (!json) terminal.finish();

    if (summary.concurrency_auto && verbose) std::cerr << "rsexec: " << concurrency_sentence(summary) << '\n';
    if (json) std::cout << json_summary_line(summary) << '\n';
    else
        std::cout << fmt::format("{} done, {} skipped, {} failed{}, {} bytes in {:.2f} s ({} logins{})\n", summary.done,
                                 summary.skipped, summary.failed,
                                 summary.interrupted ? fmt::format(", {} interrupted", summary.interrupted) : "",
                                 summary.bytes, seconds_of(summary.elapsed), summary.logins,
                                 summary.concurrency_auto ? fmt::format(", -j auto: {} pairs", summary.concurrency)
                                                          : "");
    if (summary.journal_error) std::cerr << "rsexec: " << summary.journal_error->describe() << '\n';
    if (signals_seen > 0) return static_cast<int>(ExitCode::interrupted);
    if (summary.journal_error) return static_cast<int>(exit_code_for(*summary.journal_error));
    if (summary.failed > 0 && summary.done + summary.skipped > 0) return static_cast<int>(ExitCode::partial);
    if (summary.failed > 0) return first_failure ? first_failure->second : static_cast<int>(ExitCode::partial);
    return 0;
}

} // namespace rsexec::cli
