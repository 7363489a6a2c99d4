#pragma once
// Batch job files: one transfer per line.
//   text:        SRC_URL DST_URL [append]        ('#' comments, blank lines ignored; a space
//                                                  inside a URL is written %20)
//   JSON Lines:  {"src": "...", "dst": "...", "append": false, "overwrite": "never"}
//                                                 (a line that starts with '{'; append,
//                                                  overwrite, relay and mkdirs optional)
// Either URL may name a local file (file:///abs/path or /abs/path, ftp/url.hpp), not both.
// Every line is checked before anything is transferred; each bad line is reported with its number.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftp/expected.hpp"
#include "ftp/overwrite.hpp"
#include "ftp/url.hpp"

namespace rsexec {

struct JobItem {
    std::size_t line = 0;   // 1-based line in the job file
    FtpUrl source;
    FtpUrl destination;     // a directory URL keeps the source's file name
    bool append = false;
    std::optional<Overwrite> overwrite = std::nullopt;  // this line's policy; nullopt: the command's --overwrite
    // The JSON field "relay": "auto", "never" or "always" (client/relay_plan.hpp); unset, the
    // command line's --relay.
    std::optional<std::string> relay = std::nullopt;
    // The JSON field "mkdirs": whether a missing destination directory is made (MKD, parents
    // first); unset, the command line's (made unless --no-mkdirs).
    std::optional<bool> mkdirs = std::nullopt;
};

struct JobLineError {
    std::size_t line = 0;   // 1-based
    std::string reason;
};

// A job file read whole: its items, and the bad lines (the first `max_reported_job_errors`;
// `unreported_errors` counts the others).
struct JobFile {
    std::vector<JobItem> items;
    std::vector<JobLineError> errors;
    std::size_t unreported_errors = 0;
    bool valid() const noexcept { return errors.empty(); }
};
inline constexpr std::size_t max_reported_job_errors = 100;

// A job file read a line at a time, keeping only the bad lines (as JobFile does) and counts: a
// file of any length is checked in the memory of one line. read_job_file reads with it.
class JobFileReader {
public:
    // The next line, without its '\n': its item, or none (blank, comment, or bad: recorded).
    std::optional<JobItem> next_line(std::string_view line);
    std::size_t item_count() const noexcept { return items_; }
    const std::vector<JobLineError>& errors() const noexcept { return errors_; }
    std::vector<JobLineError> take_errors() noexcept { return std::move(errors_); }
    std::size_t unreported_errors() const noexcept { return unreported_; }
    bool valid() const noexcept { return errors_.empty(); }

private:
    std::size_t lines_ = 0, items_ = 0, unreported_ = 0;
    std::vector<JobLineError> errors_;
};

JobFile read_job_file(std::string_view text);

// The items, or the first bad line as an error ("line N: reason").
Expected<std::vector<JobItem>> parse_job_file(std::string_view text);

} // namespace rsexec
