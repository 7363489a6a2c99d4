#pragma once
// `rsexec status --failed`: every failed item of a job, with its job-file line, its URLs (as the
// journal keeps them: never a password), its exit code and its last error.
#include "jobs/journal.hpp"

namespace rsexec::cli {

// Prints the job's failed items, one line each or (json) one object; the exit code.
int print_failed_items(Journal& journal, bool json);

} // namespace rsexec::cli
