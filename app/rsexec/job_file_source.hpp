#pragma once
// A job file read a line at a time, for batch's --check, --dry-run, --submit and its run: a job
// of millions of lines is gone through in the memory of a chunk of items, and read again
// rather than kept. Stdin, which cannot be read twice, is kept as text (not as items).
#include <istream>
#include <memory>
#include <string>

#include "ftp/expected.hpp"
#include "ftp/job_file.hpp"
#include "jobs/batch.hpp"
#include "password_prompt.hpp"

namespace rsexec::cli {

// Where a job file is read from: a file, read afresh each time, or stdin ("-"), read once.
class JobInput {
public:
    static Expected<JobInput> open(const std::string& path);
    // A stream from the first line.
    Expected<std::unique_ptr<std::istream>> stream() const;
    // The whole text (for --dump-failed, which copies the lines of the items left as written).
    Expected<std::string> text() const;
    const std::string& path() const noexcept { return path_; }
    // For messages: the file's name, or "stdin".
    std::string name() const { return path_ == "-" ? std::string("stdin") : path_; }

private:
    std::string path_;
    std::shared_ptr<const std::string> stdin_text_;
};

// Every line checked: the count of items and the bad lines (JobFileReader keeps the first 100).
Expected<JobFileReader> check_job_input(const JobInput& input);

// The job's items as the batch engine reads them, a chunk at a time, each URL given the password
// it needs (`passwords`: already asked, so never a prompt here; null: none given, as for
// --submit, whose workers log in with their own .netrc).
class JobFileSource final : public ItemSource {
public:
    JobFileSource(std::unique_ptr<std::istream> in, PasswordPrompt* passwords)
        : in_(std::move(in)), passwords_(passwords) {}
    // A bad line here is an error: the file changed since it was checked.
    Expected<std::vector<JobItem>> next(std::size_t max) override;

private:
    std::unique_ptr<std::istream> in_;
    PasswordPrompt* passwords_;
    JobFileReader reader_;
};

} // namespace rsexec::cli
