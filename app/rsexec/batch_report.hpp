#pragma once
// Running a list of items through the batch engine from the command line (batch and mirror):
// JSON events or a terminal report, SIGINT handling, the summary and the exit code.
#include <optional>
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

// Submits `items` to the journal (if any) and works on the job; `total` is the job's size for
// the progress line.
int run_items(asio::io_context& io, std::vector<JobItem> items, BatchOptions options, bool json, std::size_t total);

} // namespace rsexec::cli
