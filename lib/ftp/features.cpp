#include "ftp/features.hpp"

#include <cctype>

namespace rsexec {
namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

Features Features::from_reply(const Reply& reply) {
    Features features;
    if (reply.code != 211) return features;
    // RFC 2389 3.2: the first and last lines frame the list; each feature line starts with a space.
    for (std::size_t i = 1; i + 1 < reply.lines.size(); ++i) {
        std::string_view line = reply.lines[i];
        if (line.empty() || line[0] != ' ') continue;
        line.remove_prefix(1);
        while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
        if (line.empty()) continue;
        const auto space = line.find(' ');
        features.add(std::string(line.substr(0, space)),
                     space == std::string_view::npos ? std::string{} : std::string(line.substr(space + 1)));
    }
    return features;
}

void Features::add(std::string name, std::string parameters) { features_[upper(name)] = std::move(parameters); }

bool Features::has(std::string_view name) const { return features_.find(upper(name)) != features_.end(); }

std::optional<std::string> Features::parameters(std::string_view name) const {
    const auto it = features_.find(upper(name));
    if (it == features_.end()) return std::nullopt;
    return it->second;
}

} // namespace rsexec
