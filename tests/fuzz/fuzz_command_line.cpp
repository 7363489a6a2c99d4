// libFuzzer target: rsexecd's command framing, fed in two chunks split where the first byte
// says. Every line it yields is bounded and free of CR and LF; a too-long line yields no text;
// the bytes held never exceed one line plus one chunk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "require.hpp"

#include "server/command_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    constexpr std::size_t max_line = 64;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);
    rsexec::server::CommandFramer framer(max_line);
    std::size_t yielded = 0;
    for (const auto chunk : {input.substr(0, split), input.substr(split)}) {
        framer.feed(chunk);
        while (auto line = framer.next()) {
            ++yielded;
            require(line->text.size() <= max_line);
            require(line->text.find_first_of("\r\n") == std::string_view::npos);
            if (line->too_long) require(line->text.empty());
        }
    }
    std::size_t line_ends = 0;
    for (char c : input) line_ends += c == '\n';
    require(yielded <= line_ends + 1);
    (void)rsexec::server::strip_telnet(input);
    return 0;
}
