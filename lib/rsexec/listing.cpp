#include "rsexec/listing.hpp"

#include <cctype>
#include <charconv>
#include <sstream>

namespace rsexec {
namespace {

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

template <class OnLine>
void for_each_line(std::string_view text, OnLine on_line) {
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) on_line(line);
    }
}

bool is_dot(std::string_view name) { return name == "." || name == ".."; }

} // namespace

std::vector<ListEntry> parse_mlsd(std::string_view text) {
    std::vector<ListEntry> entries;
    for_each_line(text, [&](std::string_view line) {
        // RFC 3659 7.2: facts, each ending in ';', then one space, then the name.
        const auto space = line.find(' ');
        if (space == std::string_view::npos) return;
        ListEntry entry;
        entry.name = std::string(line.substr(space + 1));
        if (entry.name.empty() || is_dot(entry.name) || entry.name.find('/') != std::string::npos) return;
        std::string_view facts = line.substr(0, space);
        bool typed = false;
        while (!facts.empty()) {
            const auto semicolon = facts.find(';');
            const auto fact = facts.substr(0, semicolon);
            facts = semicolon == std::string_view::npos ? std::string_view{} : facts.substr(semicolon + 1);
            const auto equals = fact.find('=');
            if (equals == std::string_view::npos) continue;
            const auto key = lower(fact.substr(0, equals));
            const auto value = fact.substr(equals + 1);
            if (key == "type") {
                const auto type = lower(value);
                typed = true;
                if (type == "file") entry.type = ListEntry::Type::file;
                else if (type == "dir") entry.type = ListEntry::Type::directory;
                else if (type == "cdir" || type == "pdir") typed = false;
                else entry.type = ListEntry::Type::other;
            } else if (key == "size") {
                entry.size = number(value);
            } else if (key == "modify") {
                entry.modify = std::string(value);
            }
        }
        if (typed) entries.push_back(std::move(entry));
    });
    return entries;
}

std::vector<ListEntry> parse_unix_list(std::string_view text) {
    std::vector<ListEntry> entries;
    for_each_line(text, [&](std::string_view line) {
        if (line.rfind("total ", 0) == 0) return;
        // mode links owner group size month day time-or-year name...
        std::size_t pos = 0;
        std::string_view fields[8];
        for (auto& field : fields) {
            while (pos < line.size() && line[pos] == ' ') ++pos;
            const auto start = pos;
            while (pos < line.size() && line[pos] != ' ') ++pos;
            field = line.substr(start, pos - start);
            if (field.empty()) return;
        }
        if (pos >= line.size()) return;
        ++pos;  // the single space before the name; a name may itself start with spaces
        ListEntry entry;
        entry.name = std::string(line.substr(pos));
        const char kind = fields[0].empty() ? '?' : fields[0][0];
        if (kind == 'd') entry.type = ListEntry::Type::directory;
        else if (kind == '-') entry.type = ListEntry::Type::file;
        else entry.type = ListEntry::Type::other;
        if (kind == 'l') entry.name = entry.name.substr(0, entry.name.find(" -> "));
        entry.size = number(fields[4]);
        if (entry.name.empty() || is_dot(entry.name) || entry.name.find('/') != std::string::npos) return;
        entries.push_back(std::move(entry));
    });
    return entries;
}

} // namespace rsexec
