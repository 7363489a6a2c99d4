// libFuzzer target: the FTP reply parser (RFC 959 4.2) fed arbitrary bytes in two ways - all at
// once and split at a position taken from the first input byte - must give the same replies,
// never take more bytes than it was given, keep every reply within its limits, and never be
// ready and failed at once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "require.hpp"
#include <vector>

#include "ftp/reply_parser.hpp"

namespace {

using rsexec::Reply;
using rsexec::ReplyLimits;
using rsexec::ReplyParser;

// Small limits so that the fuzzer reaches every bound quickly.
constexpr ReplyLimits limits{.max_line = 64, .max_bytes = 512, .max_lines = 8};


struct Outcome {
    std::vector<Reply> replies;
    bool failed = false;
    std::size_t consumed = 0;
};

void check_reply(const Reply& reply) {
    require(reply.code >= 100 && reply.code <= 599);
    require(!reply.lines.empty() && reply.lines.size() <= limits.max_lines);
    std::size_t bytes = 0;
    for (const auto& line : reply.lines) {
        require(line.size() <= limits.max_line);
        require(line.find('\n') == std::string::npos);
        bytes += line.size() + 1;
    }
    require(bytes <= limits.max_bytes);
    // RFC 959 4.2: the last line repeats the code, followed by a space or nothing.
    const auto& last = reply.lines.back();
    require(last.size() >= 3 && std::to_string(reply.code) == last.substr(0, 3));
    require(last.size() == 3 || last[3] == ' ');
}

// Feeds `chunks` one after another, taking each reply as it completes.
Outcome run(const std::vector<std::string_view>& chunks) {
    ReplyParser parser(limits);
    Outcome out;
    for (auto chunk : chunks) {
        while (!chunk.empty()) {
            const auto used = parser.feed(chunk);
            require(used <= chunk.size());
            require(!(parser.ready() && parser.failed()));
            out.consumed += used;
            chunk.remove_prefix(used);
            if (parser.failed()) {
                out.failed = true;
                require(parser.feed(chunk) == 0);  // a failed parser takes nothing more
                return out;
            }
            if (parser.ready()) {
                out.replies.push_back(parser.take());
                check_reply(out.replies.back());
                require(!parser.ready());
                continue;
            }
            require(chunk.empty());  // not ready and not failed: everything was taken
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);

    const auto whole = run({input});
    const auto halves = run({input.substr(0, split), input.substr(split)});
    require(whole.failed == halves.failed);
    require(whole.consumed == halves.consumed);
    require(whole.replies.size() == halves.replies.size());
    for (std::size_t i = 0; i < whole.replies.size(); ++i) {
        require(whole.replies[i].code == halves.replies[i].code);
        require(whole.replies[i].lines == halves.replies[i].lines);
    }
    return 0;
}
