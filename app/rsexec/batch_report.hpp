#pragma once
// Running a list of items through the batch engine from the command line (batch and mirror):
// JSON events or a terminal report, SIGINT handling, the summary and the exit code.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <cxxopts.hpp>

#include "jobs/batch.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {

// -j, --max-per-host, --retries, --pipeline and --json: how batch and mirror run their items.
void add_batch_options(cxxopts::Options& options);
// nullopt (the reason printed) for an option value that is not one of its choices.
std::optional<BatchOptions> read_batch_options(const char* command, const cxxopts::ParseResult& args,
                                              const TransferSettings& settings);
bool wants_json(const cxxopts::ParseResult& args);
// --no-mkdirs of batch and worker: an item into a missing directory fails instead (mirror makes
// its tree's directories itself, and has its own --no-mkdirs for the root's parents).
void add_no_mkdirs_option(cxxopts::Options& options);

// Submits `items` to the journal (if any) and works on the job; `total` is the job's size in
// files for the status line, `bytes_total` in bytes when known beforehand (a mirror's listing).
int run_items(asio::io_context& io, std::vector<JobItem> items, BatchOptions options, bool json, std::size_t total,
              std::optional<std::uint64_t> bytes_total = std::nullopt);
// The same, the items read from `source` as the run submits them (a job file of any length).
int run_items(asio::io_context& io, std::unique_ptr<ItemSource> source, BatchOptions options, bool json,
              std::size_t total, std::optional<std::uint64_t> bytes_total = std::nullopt);

// One event as the JSON line README's "Output for scripts" table documents (no newline).
std::string json_event_line(const BatchEvent& event);

// The line of the `summary` event.
std::string json_summary_line(const BatchSummary& summary);

// The terminal's width in columns (0 when `fd` is no terminal).
std::size_t terminal_columns(int fd);

} // namespace rsexec::cli
