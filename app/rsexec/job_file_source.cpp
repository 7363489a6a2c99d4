#include "job_file_source.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace rsexec::cli {

Expected<JobInput> JobInput::open(const std::string& path) {
    JobInput input;
    input.path_ = path;
    if (path == "-") {
        std::stringstream text;
        text << std::cin.rdbuf();
        input.stdin_text_ = std::make_shared<const std::string>(text.str());
        return input;
    }
    if (!std::ifstream(path)) return Error(Errc::bad_job, "cannot read job file " + path);
    return input;
}

Expected<std::unique_ptr<std::istream>> JobInput::stream() const {
    if (stdin_text_) return std::unique_ptr<std::istream>(std::make_unique<std::istringstream>(*stdin_text_));
    auto file = std::make_unique<std::ifstream>(path_);
    if (!*file) return Error(Errc::bad_job, "cannot read job file " + path_);
    return std::unique_ptr<std::istream>(std::move(file));
}

Expected<std::string> JobInput::text() const {
    if (stdin_text_) return *stdin_text_;
    auto in = stream();
    if (!in) return in.error();
    std::stringstream text;
    text << (*in)->rdbuf();
    return text.str();
}

Expected<JobFileReader> check_job_input(const JobInput& input) {
    auto in = input.stream();
    if (!in) return in.error();
    JobFileReader reader;
    for (std::string line; std::getline(**in, line);) reader.next_line(line);
    return reader;
}

Expected<std::vector<JobItem>> JobFileSource::next(std::size_t max) {
    std::vector<JobItem> items;
    std::string line;
    while (items.size() < max && std::getline(*in_, line)) {
        auto item = reader_.next_line(line);
        if (!reader_.valid()) {
            const auto& bad = reader_.errors().front();
            return Error(Errc::bad_job, "job file changed while read: line " + std::to_string(bad.line) + ": " + bad.reason);
        }
        if (!item) continue;
        if (passwords_)
            for (FtpUrl* url : {&item->source, &item->destination})
                if (auto given = passwords_->complete(*url); !given) return given.error();
        items.push_back(std::move(*item));
    }
    return items;
}

} // namespace rsexec::cli
