#pragma once
// RFC 959 3.4.2 block mode, as bytes in and bytes out (no sockets): each block is a descriptor
// byte, a 16-bit big-endian byte count and that many bytes. A file is a series of data blocks
// ended by a block whose descriptor has the EOF bit, so the data connection need not close at
// the end of a file (RFC 959 3.3) and can carry the next one.
//
// rsexecd sends a file as data blocks of at most 65535 bytes (descriptor 0), then one empty
// block with descriptor EOF; an empty file is that EOF block alone. When receiving, a restart
// marker block's bytes are not file data, EOR and "suspected errors" are ignored, and the file
// ends with the first block that has the EOF bit, data included.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace rsexec::server::block {

// RFC 959 3.4.2 descriptor codes.
inline constexpr std::uint8_t end_of_record = 0x80;
inline constexpr std::uint8_t end_of_file = 0x40;
inline constexpr std::uint8_t suspected_errors = 0x20;
inline constexpr std::uint8_t restart_marker = 0x10;

inline constexpr std::size_t header_size = 3;
inline constexpr std::size_t max_count = 0xFFFF;

using Header = std::array<char, header_size>;

Header encode_header(std::uint8_t descriptor, std::uint16_t count);

// `payload` as data blocks followed by the EOF block: a listing, or a file held in memory.
std::string frame(std::string_view payload);

// Reads one file's blocks from chunks of any size; a header may be split anywhere.
//
//     BlockDecoder decoder;
//     while (!decoder.finished()) {
//         chunk = read();                      // closed here: decoder.truncation() says why
//         while (!chunk.empty() && !decoder.finished()) {
//             auto step = decoder.next(chunk);
//             write(step.data);
//             chunk = chunk.subspan(step.consumed);
//         }
//     }                                        // what is left of chunk belongs to the next file
class BlockDecoder {
public:
    struct Step {
        std::span<const char> data; // file data, inside the input; may be empty
        std::size_t consumed = 0;   // input bytes used, data included
    };

    // Consumes input up to the end of the next file-data span (or all of it, or up to the end
    // of the EOF block). Consumes nothing once finished().
    Step next(std::span<const char> input);

    // The EOF block has been read completely.
    bool finished() const noexcept { return finished_; }
    // Why the input cannot end here: empty when finished(), else one sentence (inside a
    // header, inside a block, or before the EOF block).
    std::string truncation() const;

private:
    void end_block();

    Header header_{};
    std::size_t header_bytes_ = 0; // of the current header read so far
    std::size_t left_ = 0;         // bytes of the current block still to come
    std::uint8_t descriptor_ = 0;
    bool in_block_ = false;        // the header is complete, its bytes are arriving
    bool finished_ = false;
};

} // namespace rsexec::server::block
