#include "ftp/listing.hpp"

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

bool is_dot(std::string_view name) { return name == "." || name == ".."; }

std::optional<ListEntry> parse_mlsd_line(std::string_view line) {
    // RFC 3659 7.2: facts, each ending in ';', then one space, then the name.
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    ListEntry entry;
    entry.name = std::string(line.substr(space + 1));
    if (entry.name.empty() || is_dot(entry.name) || entry.name.find('/') != std::string::npos) return std::nullopt;
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
            // RFC 3659 7.5.1's OS-specific types; proftpd and rsexecd write "OS.unix=slink[:target]",
            // others "OS.unix=symlink".
            entry.symlink = type.rfind("os.unix=slink", 0) == 0 || type.rfind("os.unix=symlink", 0) == 0;
        } else if (key == "unique") {
            entry.unique = std::string(value);
        } else if (key == "size") {
            entry.size = number(value);
        } else if (key == "modify") {
            entry.modify = std::string(value);
        }
    }
    if (!typed) return std::nullopt;
    return entry;
}

// "MM-DD-YY  HH:MMAM  <DIR>  name" or "MM-DD-YYYY  HH:MMPM  1234  name" (IIS's MS-DOS style).
std::optional<ListEntry> parse_dos_list_line(std::string_view line) {
    std::size_t pos = 0;
    std::string_view fields[3];
    for (auto& field : fields) {
        while (pos < line.size() && line[pos] == ' ') ++pos;
        const auto start = pos;
        while (pos < line.size() && line[pos] != ' ') ++pos;
        field = line.substr(start, pos - start);
        if (field.empty()) return std::nullopt;
    }
    const auto digits_at = [](std::string_view text, std::size_t at, std::size_t count) {
        if (text.size() < at + count) return false;
        for (std::size_t i = at; i < at + count; ++i)
            if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
        return true;
    };
    const auto date = fields[0];
    const bool date_ok = (date.size() == 8 || date.size() == 10) && digits_at(date, 0, 2) && date[2] == '-' &&
                         digits_at(date, 3, 2) && date[5] == '-' && digits_at(date, 6, date.size() - 6);
    const auto time = fields[1];
    const bool time_ok = (time.size() == 7 || time.size() == 5) && digits_at(time, 0, 2) && time[2] == ':' &&
                         digits_at(time, 3, 2);
    if (!date_ok || !time_ok) return std::nullopt;
    while (pos < line.size() && line[pos] == ' ') ++pos;
    ListEntry entry;
    entry.name = std::string(line.substr(pos));
    if (fields[2] == "<DIR>") {
        entry.type = ListEntry::Type::directory;
    } else {
        entry.type = ListEntry::Type::file;
        entry.size = number(fields[2]);
        if (!entry.size) return std::nullopt;
    }
    if (entry.name.empty() || is_dot(entry.name) || entry.name.find('/') != std::string::npos) return std::nullopt;
    return entry;
}

std::optional<ListEntry> parse_unix_list_line(std::string_view line) {
    if (line.rfind("total ", 0) == 0) return std::nullopt;
    // mode links owner group size month day time-or-year name...
    std::size_t pos = 0;
    std::string_view fields[8];
    for (auto& field : fields) {
        while (pos < line.size() && line[pos] == ' ') ++pos;
        const auto start = pos;
        while (pos < line.size() && line[pos] != ' ') ++pos;
        field = line.substr(start, pos - start);
        if (field.empty()) return std::nullopt;
    }
    if (pos >= line.size()) return std::nullopt;
    ++pos;  // the single space before the name; a name may itself start with spaces
    ListEntry entry;
    entry.name = std::string(line.substr(pos));
    const char kind = fields[0].empty() ? '?' : fields[0][0];
    if (kind == 'd') entry.type = ListEntry::Type::directory;
    else if (kind == '-') entry.type = ListEntry::Type::file;
    else entry.type = ListEntry::Type::other;
    if (kind == 'l') entry.name = entry.name.substr(0, entry.name.find(" -> "));
    entry.symlink = kind == 'l';
    entry.size = number(fields[4]);
    if (entry.name.empty() || is_dot(entry.name) || entry.name.find('/') != std::string::npos) return std::nullopt;
    return entry;
}

std::vector<ListEntry> parse_all(ListingFormat format, std::string_view text) {
    ListingParser parser(format);
    parser.feed(text);
    parser.finish();
    return std::move(parser.entries());
}

} // namespace

void ListingParser::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto end = bytes.find('\n');
        const auto piece = bytes.substr(0, end);
        bytes = end == std::string_view::npos ? std::string_view{} : bytes.substr(end + 1);
        if (!overlong_) {
            if (line_.size() + piece.size() > max_entry_bytes) {
                overlong_ = true;
                line_.clear();
                line_.shrink_to_fit();
            } else {
                line_.append(piece);
            }
        }
        if (end == std::string_view::npos) return;
        if (overlong_) ++oversized_;
        else on_line(line_);
        overlong_ = false;
        line_.clear();
    }
}

void ListingParser::finish() {
    if (overlong_) ++oversized_;
    else if (!line_.empty()) on_line(line_);
    overlong_ = false;
    line_.clear();
}

void ListingParser::on_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    auto entry = format_ == ListingFormat::mlsd ? parse_mlsd_line(line) : parse_unix_list_line(line);
    if (!entry && format_ == ListingFormat::unix_list) entry = parse_dos_list_line(line);
    if (!entry) return;
    if (entry->name.size() > max_name_bytes) {
        ++oversized_;
        return;
    }
    entries_.push_back(std::move(*entry));
}

std::vector<ListEntry> parse_mlsd(std::string_view text) { return parse_all(ListingFormat::mlsd, text); }
std::vector<ListEntry> parse_unix_list(std::string_view text) { return parse_all(ListingFormat::unix_list, text); }

} // namespace rsexec
