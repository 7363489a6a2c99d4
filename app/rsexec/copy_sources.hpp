#pragma once
// `rsexec copy` with several sources, patterns or -r: the plan (lib/jobs/copy_sources.hpp) run
// through the batch engine, with the batch's terminal report.
#include <vector>

#include "ftp/url.hpp"
#include "jobs/copy_sources.hpp"
#include "transfer_options.hpp"

namespace rsexec::cli {

// The exit code: 0, the plan's failure, or the batch's (11 when only some copies failed).
int copy_sources(const SourcesRequest& request, const TransferSettings& settings);

} // namespace rsexec::cli
