// libFuzzer target: the batch job-file parser (text lines and JSON Lines). Whatever it accepts is
// a list of transfers with real line numbers and file sources, each with a server on at least
// one side; whatever it refuses names a line;
// read a line at a time (JobFileReader), it counts the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "require.hpp"

#include "ftp/job_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    // Read a line at a time, the same file gives the same count of items and of bad lines.
    rsexec::JobFileReader reader;
    for (std::string_view rest = text; !rest.empty();) {
        const auto end = rest.find('\n');
        reader.next_line(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    const auto whole = rsexec::read_job_file(text);
    require(reader.item_count() == whole.items.size());
    require(reader.errors().size() == whole.errors.size() && reader.unreported_errors() == whole.unreported_errors);
    const auto items = rsexec::parse_job_file(text);
    if (!items) {
        require(items.error().message.rfind("line ", 0) == 0);
        return 0;
    }
    std::size_t previous = 0;
    for (const auto& item : *items) {
        require(item.line > previous && item.line <= lines);
        previous = item.line;
        require(!item.source.names_directory());
        // Either side may be a local file (no host), never both.
        require(!(item.source.is_local() && item.destination.is_local()));
        require(item.source.is_local() || !item.source.host.empty());
        require(item.destination.is_local() || !item.destination.host.empty());
    }
    return 0;
}
