#include "ftp/glob.hpp"

namespace rsexec {
namespace {

Error bad_pattern(std::string_view pattern, std::string_view why) {
    return Error(Errc::bad_url, "bad pattern '" + std::string(pattern) + "': " + std::string(why));
}

} // namespace

Expected<GlobPattern> GlobPattern::parse(std::string_view pattern) {
    if (pattern.empty()) return bad_pattern(pattern, "empty");
    if (pattern.size() > max_glob_bytes) return Error(Errc::bad_url, "pattern longer than 4096 bytes");
    GlobPattern glob;
    glob.text_ = std::string(pattern);
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '/') return bad_pattern(pattern, "a pattern is one path component, without '/'");
        if (c == '\\') {
            if (i + 1 == pattern.size()) return bad_pattern(pattern, "'\\' at the end escapes nothing");
            glob.elements_.push_back({Element::Kind::literal, pattern[++i], false, {}});
        } else if (c == '*') {
            // Consecutive stars are one star.
            if (glob.elements_.empty() || glob.elements_.back().kind != Element::Kind::any_run)
                glob.elements_.push_back({Element::Kind::any_run, 0, false, {}});
        } else if (c == '?') {
            glob.elements_.push_back({Element::Kind::any_one, 0, false, {}});
        } else if (c == '[') {
            Element set{Element::Kind::set, 0, false, {}};
            std::size_t j = i + 1;
            if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) {
                set.negated = true;
                ++j;
            }
            bool closed = false;
            bool first = true;
            while (j < pattern.size()) {
                char low = pattern[j];
                // XCU 2.13.1: a ']' first in the set is a member, not its end.
                if (low == ']' && !first) {
                    closed = true;
                    break;
                }
                first = false;
                if (low == '/') return bad_pattern(pattern, "a pattern is one path component, without '/'");
                if (low == '\\') {
                    if (++j == pattern.size()) break;
                    low = pattern[j];
                }
                char high = low;
                if (j + 2 < pattern.size() && pattern[j + 1] == '-' && pattern[j + 2] != ']') {
                    j += 2;
                    high = pattern[j];
                    if (high == '/') return bad_pattern(pattern, "a pattern is one path component, without '/'");
                    if (high == '\\') {
                        if (++j == pattern.size()) break;
                        high = pattern[j];
                    }
                    if (static_cast<unsigned char>(high) < static_cast<unsigned char>(low))
                        return bad_pattern(pattern, std::string("range ") + low + "-" + high + " runs backwards");
                }
                set.ranges.emplace_back(static_cast<unsigned char>(low), static_cast<unsigned char>(high));
                ++j;
            }
            if (!closed) return bad_pattern(pattern, "'[' without its ']'");
            glob.elements_.push_back(std::move(set));
            i = j;
        } else {
            glob.elements_.push_back({Element::Kind::literal, c, false, {}});
        }
    }
    return glob;
}

bool GlobPattern::element_matches(const Element& element, unsigned char c) const {
    switch (element.kind) {
    case Element::Kind::literal: return static_cast<unsigned char>(element.literal) == c;
    case Element::Kind::any_one: return true;
    case Element::Kind::any_run: return true;
    case Element::Kind::set: {
        bool in = false;
        for (const auto& [low, high] : element.ranges)
            if (c >= low && c <= high) in = true;
        return in != element.negated;
    }
    }
    return false;
}

bool GlobPattern::matches(std::string_view name) const {
    if (!name.empty() && name.front() == '.' &&
        (elements_.empty() || elements_.front().kind != Element::Kind::literal || elements_.front().literal != '.'))
        return false;
    // Greedy with one backtrack point, the last '*': whatever an earlier star took, a later one
    // can take instead, so going back further never finds a match this misses.
    std::size_t p = 0, n = 0;
    std::size_t star = elements_.size(), star_n = 0;
    while (n < name.size()) {
        if (p < elements_.size() && elements_[p].kind == Element::Kind::any_run) {
            star = p++;
            star_n = n;
        } else if (p < elements_.size() && element_matches(elements_[p], static_cast<unsigned char>(name[n]))) {
            ++p;
            ++n;
        } else if (star != elements_.size()) {
            p = star + 1;
            n = ++star_n;
        } else {
            return false;
        }
    }
    while (p < elements_.size() && elements_[p].kind == Element::Kind::any_run) ++p;
    return p == elements_.size();
}

bool has_glob_characters(std::string_view component) {
    for (std::size_t i = 0; i < component.size(); ++i) {
        const char c = component[i];
        if (c == '\\') ++i;
        else if (c == '*' || c == '?' || c == '[') return true;
    }
    return false;
}

std::string glob_unescape(std::string_view component) {
    std::string out;
    for (std::size_t i = 0; i < component.size(); ++i) {
        if (component[i] == '\\' && i + 1 < component.size()) ++i;
        out += component[i];
    }
    return out;
}

} // namespace rsexec
