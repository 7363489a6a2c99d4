#pragma once
// Batch job files: one transfer per line.
//   text:        SRC_URL DST_URL [append]        ('#' comments, blank lines ignored; a space
//                                                  inside a URL is written %20)
//   JSON Lines:  {"src": "...", "dst": "...", "append": false}   (a line that starts with '{')
// Every line is checked before anything is transferred; an error names its line.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rsexec/expected.hpp"
#include "rsexec/url.hpp"

namespace rsexec {

struct JobItem {
    std::size_t line = 0;   // 1-based line in the job file
    FtpUrl source;
    FtpUrl destination;     // a directory URL keeps the source's file name
    bool append = false;
};

Expected<std::vector<JobItem>> parse_job_file(std::string_view text);

} // namespace rsexec
