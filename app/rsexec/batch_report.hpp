#pragma once
// Running a list of items through the batch engine from the command line (batch and mirror):
// JSON events or a terminal report, SIGINT handling, the summary and the exit code.
#include <vector>

#include <asio/io_context.hpp>

#include "rsexec/batch.hpp"

namespace rsexec::cli {

int run_items(asio::io_context& io, std::vector<JobItem> items, BatchOptions options, bool json);

} // namespace rsexec::cli
