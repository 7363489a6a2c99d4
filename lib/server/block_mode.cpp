#include "server/block_mode.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace rsexec::server::block {

Header encode_header(std::uint8_t descriptor, std::uint16_t count) {
    return {static_cast<char>(descriptor), static_cast<char>(count >> 8), static_cast<char>(count & 0xFF)};
}

std::string frame(std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + (payload.size() / max_count + 2) * header_size);
    while (!payload.empty()) {
        const auto count = std::min(payload.size(), max_count);
        const auto header = encode_header(0, static_cast<std::uint16_t>(count));
        out.append(header.data(), header.size());
        out.append(payload.substr(0, count));
        payload.remove_prefix(count);
    }
    const auto eof = encode_header(end_of_file, 0);
    out.append(eof.data(), eof.size());
    return out;
}

BlockDecoder::Step BlockDecoder::next(std::span<const char> input) {
    std::size_t used = 0;
    while (!finished_ && used < input.size()) {
        if (!in_block_) {
            header_[header_bytes_++] = input[used++];
            if (header_bytes_ < header_size) continue;
            descriptor_ = static_cast<std::uint8_t>(header_[0]);
            left_ = static_cast<std::size_t>(static_cast<unsigned char>(header_[1])) << 8 |
                    static_cast<unsigned char>(header_[2]);
            header_bytes_ = 0;
            in_block_ = true;
            if (left_ == 0) end_block();
            continue;
        }
        const auto count = std::min(left_, input.size() - used);
        const auto data = input.subspan(used, count);
        used += count;
        left_ -= count;
        // RFC 959 3.4.2: a restart marker's bytes identify a point in the file; they are not in it.
        const bool file_data = (descriptor_ & restart_marker) == 0;
        if (left_ == 0) end_block();
        if (file_data) return {data, used};
    }
    return {{}, used};
}

void BlockDecoder::end_block() {
    in_block_ = false;
    if (descriptor_ & end_of_file) finished_ = true;
}

std::string BlockDecoder::truncation() const {
    if (finished_) return {};
    if (in_block_) return fmt::format("data connection closed inside a block, {} bytes missing", left_);
    if (header_bytes_ > 0) return "data connection closed inside a block header";
    return "data connection closed before the end-of-file block";
}

} // namespace rsexec::server::block
