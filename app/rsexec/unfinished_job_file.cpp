#include "unfinished_job_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "ftp/exit_code.hpp"
#include "ftp/job_file.hpp"

namespace rsexec::cli {
namespace {

Error file_error(const std::string& path, const std::string& what) {
    return Error(Errc::bad_job, "--dump-failed " + path + ": " + what + ": " + std::strerror(errno));
}

// The job file's lines by number, as written (trimmed like read_job_file trims them).
std::map<std::size_t, std::string_view> lines_by_number(std::string_view text) {
    std::map<std::size_t, std::string_view> lines;
    std::size_t number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++number;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        lines.emplace(number, line);
    }
    return lines;
}

// The key the journal gave the item (journal_key), from what it stores.
std::string stored_key(const UnfinishedItem& item) {
    return item.source + " -> " + item.destination + (item.append ? " append" : "");
}

// The job file's own line for `item`, when it still says the same transfer.
std::optional<std::string_view> original_line(const std::map<std::size_t, std::string_view>& lines,
                                              const UnfinishedItem& item) {
    const auto found = lines.find(item.line);
    if (item.line == 0 || found == lines.end()) return std::nullopt;
    const auto parsed = read_job_file(found->second);
    if (parsed.items.size() != 1 || journal_key(parsed.items.front()) != stored_key(item)) return std::nullopt;
    return found->second;
}

std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
        // A server's reply may hold control characters (ESC...): not for a terminal to obey.
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return text;
}

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const auto written = ::write(fd, text.data(), text.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return true;
}

} // namespace

Expected<UnfinishedJobFile> UnfinishedJobFile::create(const std::string& path) {
    // Beside FILE, so that the rename stays in one file system; mkstemp makes it 0600.
    std::string temporary = path + ".XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) return file_error(path, "cannot create a file beside it");
    return UnfinishedJobFile(path, std::move(temporary), fd);
}

UnfinishedJobFile::UnfinishedJobFile(UnfinishedJobFile&& other) noexcept
    : path_(std::move(other.path_)), temporary_(std::move(other.temporary_)), fd_(std::exchange(other.fd_, -1)) {}

UnfinishedJobFile::~UnfinishedJobFile() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(temporary_.c_str());
}

Expected<std::size_t> UnfinishedJobFile::write(Journal& journal, std::string_view job_text) {
    auto items = journal.unfinished_items();
    if (!items) return items.error();
    const auto lines = lines_by_number(job_text);
    std::string text = "# rsexec: the items of job " + one_line(journal.job()) + " not done; rsexec batch " + path_ +
                       " runs them again\n";
    for (const auto& item : *items) {
        text += "# " + (item.line ? "line " + std::to_string(item.line) + ": " : std::string()) +
                item_state_name(item.state);
        if (item.state == ItemState::failed)
            text += (item.exit_code ? ", exit " + std::to_string(item.exit_code) : std::string()) + ": " +
                    one_line(item.last_error);
        text += '\n';
        if (auto line = original_line(lines, item)) text += std::string(*line) + '\n';
        else text += item.source + ' ' + item.destination + (item.append ? " append" : "") + '\n';
    }
    if (!write_all(fd_, text)) return file_error(path_, "cannot write " + temporary_);
    if (::fsync(fd_) != 0) return file_error(path_, "cannot write " + temporary_);
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 || ::rename(temporary_.c_str(), path_.c_str()) != 0) {
        Error error = file_error(path_, "cannot rename " + temporary_ + " to it");
        ::unlink(temporary_.c_str());
        return error;
    }
    return items->size();
}

int finish_unfinished_job_file(UnfinishedJobFile* file, Journal& journal, std::string_view job_text, int run_code) {
    if (!file) return run_code;
    auto written = file->write(journal, job_text);
    if (!written) {
        std::cerr << "rsexec: " << written.error().describe() << '\n';
        return run_code ? run_code : static_cast<int>(exit_code_for(written.error()));
    }
    std::cerr << "rsexec: " << file->path() << ": " << *written << " item" << (*written == 1 ? "" : "s")
              << " not done\n";
    return run_code;
}

} // namespace rsexec::cli
