#include "listing_output.hpp"

#include <iterator>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace rsexec::cli {
namespace {

const char* type_name(const ListEntry& entry) {
    if (entry.symlink) return "symlink";
    switch (entry.type) {
    case ListEntry::Type::file: return "file";
    case ListEntry::Type::directory: return "dir";
    case ListEntry::Type::other: break;
    }
    return "other";
}

char type_letter(const ListEntry& entry) {
    if (entry.symlink) return 'l';
    switch (entry.type) {
    case ListEntry::Type::file: return '-';
    case ListEntry::Type::directory: return 'd';
    case ListEntry::Type::other: break;
    }
    return '?';
}

// MLSD's YYYYMMDDHHMMSS as "YYYY-MM-DD HH:MM"; blank when the server gave none.
std::string shown_time(const std::optional<std::string>& modify) {
    if (!modify || modify->size() < 12) return std::string(16, ' ');
    const std::string& t = *modify;
    return t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2) + " " + t.substr(8, 2) + ":" + t.substr(10, 2);
}

} // namespace

std::string iec_size(std::uint64_t bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    value /= 1024;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    // One decimal below 10, as ls -h does, so that the figure has two or three digits.
    if (value < 9.95) return fmt::format("{:.1f} {}", value, units[unit]);
    return fmt::format("{:.0f} {}", value, units[unit]);
}

std::string format_listed_entry(const ListedEntry& listed, const ListingStyle& style) {
    const ListEntry& entry = listed.entry;
    if (style.json) {
        nlohmann::json object;
        object["name"] = entry.name;
        object["type"] = type_name(entry);
        object["size"] = entry.size ? nlohmann::json(*entry.size) : nlohmann::json();
        object["modify"] = entry.modify ? nlohmann::json(*entry.modify) : nlohmann::json();
        if (style.paths) object["path"] = listed.path;
        return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    const std::string& name = style.paths ? listed.path : entry.name;
    if (!style.long_form) return name;
    std::string size = "-";
    if (entry.size) size = style.human_sizes ? iec_size(*entry.size) : std::to_string(*entry.size);
    return fmt::format("{} {:>12} {} {}", type_letter(entry), size, shown_time(entry.modify), name);
}

} // namespace rsexec::cli
