// libFuzzer target: shell-style patterns (ftp/glob.hpp). The input is "PATTERN\nNAME". A pattern
// that parses must match in bounded time and agree with glibc's fnmatch(3) (FNM_PERIOD) wherever
// the two define the same language: printable ASCII, no character classes ("[:", "[=", "[.").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fnmatch.h>

#include "require.hpp"

#include "ftp/glob.hpp"

namespace {

bool plain_ascii(std::string_view text) {
    for (unsigned char c : text)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string pattern(input.substr(0, newline));
    const std::string name(newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1));
    auto glob = rsexec::GlobPattern::parse(pattern);
    if (!glob) {
        require(glob.error().message.find("pattern") != std::string::npos);
        return 0;
    }
    require(glob->text() == pattern);
    const bool matched = glob->matches(name);
    if (!rsexec::has_glob_characters(pattern)) require(matched == (rsexec::glob_unescape(pattern) == name));
    const bool comparable = plain_ascii(pattern) && plain_ascii(name) && pattern.find("[:") == std::string::npos &&
                            pattern.find("[=") == std::string::npos && pattern.find("[.") == std::string::npos;
    if (comparable) require(matched == (::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0));
    return 0;
}
