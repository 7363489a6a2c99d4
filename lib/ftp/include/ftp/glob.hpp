#pragma once
// Shell-style patterns for the last path component of a source URL (POSIX.1-2017 XCU 2.13.1):
// `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[!abc]` (also `[^abc]`) one
// of a set, and `\` making the next character plain. rsexec expands them itself, against a
// directory listing: the pattern is never sent to a server.
#include <string>
#include <string_view>
#include <vector>

#include "ftp/expected.hpp"

namespace rsexec {

// A pattern is at most one path component: a name's bound (listing.hpp's max_name_bytes).
inline constexpr std::size_t max_glob_bytes = 4096;

class GlobPattern {
public:
    // Checks the pattern: an unclosed `[`, a `\` at the end, a range written
    // backwards or a '/' is refused (Errc::bad_url), naming the pattern.
    static Expected<GlobPattern> parse(std::string_view pattern);

    // Whether `name` matches. As in sh(1), a leading '.' is matched only by a leading '.' in the
    // pattern (never by `*`, `?` or a set), so `*` leaves hidden files (and .NAME.rsexec-part
    // temporaries) alone. Time is O(pattern x name) at worst: `*` never backtracks further than
    // to the last `*`.
    bool matches(std::string_view name) const;

    // The pattern as written.
    const std::string& text() const noexcept { return text_; }

private:
    struct Element {
        enum class Kind { literal, any_one, any_run, set } kind;
        char literal = 0;
        bool negated = false;
        std::vector<std::pair<unsigned char, unsigned char>> ranges;  // inclusive
    };
    bool element_matches(const Element& element, unsigned char c) const;

    std::string text_;
    std::vector<Element> elements_;
};

// Whether `component` holds an unescaped `*`, `?` or `[`: a pattern to expand, not a name.
bool has_glob_characters(std::string_view component);

// `component` with its backslash escapes removed: the name a pattern without wildcards names.
std::string glob_unescape(std::string_view component);

} // namespace rsexec
