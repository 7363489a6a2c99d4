#include "client/glob_expansion.hpp"

#include <algorithm>

#include "client/directory_listing.hpp"

namespace rsexec {

PatternPath split_pattern_path(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string literal_path(const std::string& path) {
    if (path.find('\\') == std::string::npos) return path;
    const PatternPath split = split_pattern_path(path);
    const std::string name = glob_unescape(split.pattern);
    if (split.directory.empty()) return name;
    return split.directory.back() == '/' ? split.directory + name : split.directory + "/" + name;
}

asio::awaitable<Expected<std::vector<GlobMatch>>> expand_glob(ControlSession& session, const std::string& path) {
    const PatternPath split = split_pattern_path(path);
    auto pattern = GlobPattern::parse(split.pattern);
    if (!pattern) co_return pattern.error();
    auto listing = co_await list_directory(session, split.directory);
    if (!listing) co_return listing.error();
    std::vector<GlobMatch> matches;
    for (auto& entry : listing->entries) {
        if (!pattern->matches(entry.name)) continue;
        std::string joined = split.directory.empty()        ? entry.name
                             : split.directory.back() == '/' ? split.directory + entry.name
                                                             : split.directory + "/" + entry.name;
        matches.push_back({std::move(joined), std::move(entry)});
    }
    if (matches.empty()) {
        co_return Error(Errc::permanent_reply,
                        "no name in " + (split.directory.empty() ? std::string(".") : split.directory) +
                            " matches the pattern '" + split.pattern + "'",
                        session.side(), 550);
    }
    std::sort(matches.begin(), matches.end(), [](const GlobMatch& a, const GlobMatch& b) { return a.path < b.path; });
    co_return matches;
}

} // namespace rsexec
