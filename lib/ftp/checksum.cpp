#include "ftp/checksum.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace rsexec {
namespace {

constexpr std::array all_algorithms{HashAlgorithm::sha512, HashAlgorithm::sha256, HashAlgorithm::sha1,
                                    HashAlgorithm::md5, HashAlgorithm::crc32};

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
           });
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

// The algorithms of FEAT's "HASH SHA-256*;SHA-1": names without the '*' that marks the selected one.
std::vector<std::string> hash_feature_algorithms(const Features& features) {
    std::vector<std::string> names;
    const auto parameters = features.parameters("HASH");
    if (!parameters) return names;
    std::string_view rest = *parameters;
    while (!rest.empty()) {
        const auto semicolon = rest.find(';');
        auto name = trimmed(rest.substr(0, semicolon));
        if (!name.empty() && name.back() == '*') name.remove_suffix(1);
        if (!name.empty()) names.emplace_back(name);
        rest = semicolon == std::string_view::npos ? std::string_view{} : rest.substr(semicolon + 1);
    }
    return names;
}

// The X commands servers use for each algorithm; XSHA is an older spelling of XSHA1.
std::vector<const char*> x_verbs(HashAlgorithm algorithm) {
    switch (algorithm) {
    case HashAlgorithm::sha512: return {"XSHA512"};
    case HashAlgorithm::sha256: return {"XSHA256"};
    case HashAlgorithm::sha1: return {"XSHA1", "XSHA"};
    case HashAlgorithm::md5: return {"XMD5"};
    case HashAlgorithm::crc32: return {"XCRC"};
    }
    return {};
}

bool is_hex_word(std::string_view word, std::size_t digits) {
    return word.size() == digits &&
        std::all_of(word.begin(), word.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto start = text.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        text.remove_prefix(start);
        const auto end = text.find_first_of(" \t");
        out.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
    }
    return out;
}

Error malformed(const Reply& reply, std::string_view why) {
    std::string shown = reply.lines.empty() ? std::to_string(reply.code) : reply.lines.back();
    if (shown.size() > 200) shown.resize(200);
    return Error(Errc::malformed_reply, std::string(why) + ": " + shown, Side::none, reply.code);
}

} // namespace

const char* hash_name(HashAlgorithm algorithm) noexcept {
    switch (algorithm) {
    case HashAlgorithm::sha512: return "SHA-512";
    case HashAlgorithm::sha256: return "SHA-256";
    case HashAlgorithm::sha1: return "SHA-1";
    case HashAlgorithm::md5: return "MD5";
    case HashAlgorithm::crc32: return "CRC32";
    }
    return "?";
}

std::size_t hex_digits(HashAlgorithm algorithm) noexcept {
    switch (algorithm) {
    case HashAlgorithm::sha512: return 128;
    case HashAlgorithm::sha256: return 64;
    case HashAlgorithm::sha1: return 40;
    case HashAlgorithm::md5: return 32;
    case HashAlgorithm::crc32: return 8;
    }
    return 0;
}

std::optional<ChecksumCommand> checksum_command(const Features& features, HashAlgorithm algorithm) {
    const auto offered = hash_feature_algorithms(features);
    if (std::any_of(offered.begin(), offered.end(), [&](const auto& n) { return same_name(n, hash_name(algorithm)); })) {
        ChecksumCommand command{"HASH", std::nullopt};
        // With several on offer, select every time: a reused session may have selected another
        // one for an earlier file, and the FEAT '*' only says what was selected at login.
        if (offered.size() > 1) command.select = hash_name(algorithm);
        return command;
    }
    for (const char* verb : x_verbs(algorithm))
        if (features.has(verb)) return ChecksumCommand{verb, std::nullopt};
    return std::nullopt;
}

std::optional<ChecksumPlan> choose_checksum(const Features& source, const Features& destination) {
    for (const auto algorithm : all_algorithms) {
        auto on_source = checksum_command(source, algorithm);
        auto on_destination = checksum_command(destination, algorithm);
        if (on_source && on_destination) return ChecksumPlan{algorithm, std::move(*on_source), std::move(*on_destination)};
    }
    return std::nullopt;
}

std::string offered_checksums(const Features& features) {
    std::string out;
    const auto offered = hash_feature_algorithms(features);
    if (!offered.empty()) {
        out = "HASH";
        for (std::size_t i = 0; i < offered.size(); ++i) out += (i ? ", " : " ") + offered[i];
    }
    for (const auto algorithm : all_algorithms)
        for (const char* verb : x_verbs(algorithm))
            if (features.has(verb)) out += (out.empty() ? "" : "; ") + std::string(verb);
    return out.empty() ? "none" : out;
}

Expected<std::string> parse_checksum_reply(const Reply& reply, const ChecksumCommand& command,
                                           HashAlgorithm algorithm) {
    const auto digits = hex_digits(algorithm);
    const std::string message = reply.message();
    const auto parts = words(message);
    if (command.verb == "HASH") {
        // draft-bryan-ftpext-hash 3.1: 213 <algorithm> <start>-<end> <hash> <path>.
        if (reply.code != 213) return malformed(reply, "HASH answered without 213");
        if (parts.size() < 3) return malformed(reply, "HASH reply without algorithm, range and digest");
        if (!same_name(parts[0], hash_name(algorithm)))
            return malformed(reply, std::string("HASH reply for another algorithm than ") + hash_name(algorithm));
        if (parts[1].substr(0, 2) != "0-") return malformed(reply, "HASH reply for a range not starting at 0");
        if (!is_hex_word(parts[2], digits)) return malformed(reply, "HASH reply without a digest of the right length");
        return lower(parts[2]);
    }
    if (!reply.completion()) return malformed(reply, command.verb + " answered without 2yz");
    for (const auto word : parts)
        if (is_hex_word(word, digits)) return lower(word);
    return malformed(reply, command.verb + " reply without a " + std::to_string(digits) + "-digit digest");
}

} // namespace rsexec
