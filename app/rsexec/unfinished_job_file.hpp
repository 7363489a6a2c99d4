#pragma once
// --dump-failed FILE (batch, mirror, worker): after a run, a job file of the items that did not
// finish (failed, or never done), ready for `rsexec batch FILE`. The file is made before the run
// (a FILE that cannot be written is a usage error before anything moves) under a temporary name
// beside it, and renamed over FILE once complete: a reader never sees half of it.
#include <string>
#include <string_view>

#include "ftp/expected.hpp"
#include "jobs/journal.hpp"

namespace rsexec::cli {

class UnfinishedJobFile {
public:
    static Expected<UnfinishedJobFile> create(const std::string& path);
    UnfinishedJobFile(UnfinishedJobFile&& other) noexcept;
    UnfinishedJobFile& operator=(UnfinishedJobFile&&) = delete;
    ~UnfinishedJobFile();  // removes the temporary file when write() did not finish

    // Writes the job's items that are not done and renames the file into place. `job_text`: the
    // job file the items came from (empty: none, as for mirror and worker). An item keeps its job
    // file's line as written (its per-line options, and its passwords: the file is 0600);
    // others are written from the journal, without password (a rerun takes it from .netrc or
    // the terminal). Returns how many items it wrote.
    Expected<std::size_t> write(Journal& journal, std::string_view job_text);

    const std::string& path() const noexcept { return path_; }

private:
    UnfinishedJobFile(std::string path, std::string temporary, int fd) : path_(std::move(path)), temporary_(std::move(temporary)), fd_(fd) {}
    std::string path_, temporary_;
    int fd_ = -1;
};

// After a run: writes `file` (when there is one), says so on stderr, and returns the exit code:
// the run's, or the write's failure when the run had none.
int finish_unfinished_job_file(UnfinishedJobFile* file, Journal& journal, std::string_view job_text, int run_code);

} // namespace rsexec::cli
