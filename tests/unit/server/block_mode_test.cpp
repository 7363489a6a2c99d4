#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/block_mode.hpp"

using namespace rsexec::server;
using block::BlockDecoder;

namespace {

std::string header(std::uint8_t descriptor, std::uint16_t count) {
    const auto h = block::encode_header(descriptor, count);
    return std::string(h.data(), h.size());
}

std::string data_block(std::string_view data, std::uint8_t descriptor = 0) {
    return header(descriptor, static_cast<std::uint16_t>(data.size())) + std::string(data);
}

struct Decoded {
    std::string file;
    bool finished = false;
    std::string rest; // input after the EOF block
};

// Feeds `chunks` one after the other, as reads from a socket would.
Decoded decode(const std::vector<std::string_view>& chunks) {
    BlockDecoder decoder;
    Decoded out;
    for (auto chunk : chunks) {
        std::span<const char> input(chunk.data(), chunk.size());
        while (!input.empty() && !decoder.finished()) {
            const auto step = decoder.next(input);
            REQUIRE(step.consumed > 0);
            out.file.append(step.data.data(), step.data.size());
            input = input.subspan(step.consumed);
        }
        if (decoder.finished()) out.rest.append(input.data(), input.size());
    }
    out.finished = decoder.finished();
    if (!out.finished) CHECK_FALSE(decoder.truncation().empty());
    return out;
}

// Every way of cutting `input` into three chunks.
void check_every_split(const std::string& input, const std::string& file, const std::string& rest = {}) {
    for (std::size_t i = 0; i <= input.size(); ++i) {
        for (std::size_t j = i; j <= input.size(); ++j) {
            CAPTURE(i);
            CAPTURE(j);
            const std::string_view all(input);
            const auto got = decode({all.substr(0, i), all.substr(i, j - i), all.substr(j)});
            REQUIRE(got.finished);
            CHECK(got.file == file);
            CHECK(got.rest == rest);
        }
    }
}

} // namespace

TEST_CASE("a block header is the descriptor and a big-endian count") {
    CHECK(header(0, 0) == std::string("\0\0\0", 3));
    CHECK(header(block::end_of_file, 0) == std::string("\x40\0\0", 3));
    CHECK(header(0, 0x1234) == std::string("\0\x12\x34", 3));
    CHECK(header(block::restart_marker, 0xFFFF) == std::string("\x10\xFF\xFF", 3));
}

TEST_CASE("framing splits a payload into blocks of at most 65535 bytes and ends with an empty EOF block") {
    CHECK(block::frame("") == header(block::end_of_file, 0));
    CHECK(block::frame("abc") == data_block("abc") + header(block::end_of_file, 0));
    const std::string big(65535 + 65535 + 2, 'x');
    const auto framed = block::frame(big);
    CHECK(framed == data_block(std::string(65535, 'x')) + data_block(std::string(65535, 'x')) + data_block("xx") +
                        header(block::end_of_file, 0));
    CHECK(decode({framed}).file == big);
}

TEST_CASE("an empty file is one EOF block") {
    const auto got = decode({header(block::end_of_file, 0)});
    CHECK(got.finished);
    CHECK(got.file.empty());
}

TEST_CASE("a file ends with an empty EOF block, or with the EOF bit on its last data block") {
    SUBCASE("empty EOF block") {
        check_every_split(data_block("hello ") + data_block("world") + header(block::end_of_file, 0), "hello world");
    }
    SUBCASE("EOF on the data block") {
        check_every_split(data_block("hello ") + data_block("world", block::end_of_file), "hello world");
    }
}

TEST_CASE("bytes after the EOF block are left for the next file, whatever the chunk boundaries") {
    const auto next_file = data_block("next") + header(block::end_of_file, 0);
    check_every_split(data_block("one") + header(block::end_of_file, 0) + next_file, "one", next_file);
    // The decoder consumes nothing once finished.
    BlockDecoder decoder;
    const auto input = header(block::end_of_file, 0) + "zz";
    const auto step = decoder.next(std::span<const char>(input.data(), input.size()));
    CHECK(step.consumed == 3);
    CHECK(decoder.finished());
    CHECK(decoder.next(std::span<const char>(input.data() + 3, 2)).consumed == 0);
}

TEST_CASE("restart marker blocks are not file data; EOR and suspected-errors bits are ignored") {
    check_every_split(data_block("ab") + data_block("MARK1", block::restart_marker) +
                          data_block("cd", block::end_of_record) + data_block("ef", block::suspected_errors) +
                          data_block("", block::end_of_record) + header(block::end_of_file, 0),
                      "abcdef");
    // A restart marker that also carries EOF ends the file without adding to it.
    check_every_split(data_block("ab") + data_block("M", block::restart_marker | block::end_of_file), "ab");
}

TEST_CASE("a data span never runs past its block, so it can be written as it is") {
    const std::string input = data_block("abc") + data_block("de") + header(block::end_of_file, 0);
    BlockDecoder decoder;
    std::span<const char> rest(input.data(), input.size());
    std::vector<std::string> spans;
    while (!decoder.finished()) {
        const auto step = decoder.next(rest);
        if (!step.data.empty()) spans.emplace_back(step.data.data(), step.data.size());
        rest = rest.subspan(step.consumed);
    }
    CHECK(spans == std::vector<std::string>{"abc", "de"});
    CHECK(rest.empty());
}

TEST_CASE("input that stops before the EOF block is reported as truncated") {
    const std::string whole = data_block("hello") + header(block::end_of_file, 0);
    for (std::size_t cut = 0; cut < whole.size(); ++cut) {
        CAPTURE(cut);
        BlockDecoder decoder;
        std::span<const char> input(whole.data(), cut);
        while (!input.empty()) input = input.subspan(decoder.next(input).consumed);
        CHECK_FALSE(decoder.finished());
        const auto why = decoder.truncation();
        if (cut == 0 || cut == 8) CHECK(why == "data connection closed before the end-of-file block");
        else if (cut < 3 || cut > 8) CHECK(why == "data connection closed inside a block header");
        else CHECK(why.find("inside a block, " + std::to_string(8 - cut) + " bytes missing") != std::string::npos);
    }
    BlockDecoder done;
    std::span<const char> input(whole.data(), whole.size());
    while (!input.empty()) input = input.subspan(done.next(input).consumed);
    CHECK(done.finished());
    CHECK(done.truncation().empty());
}
