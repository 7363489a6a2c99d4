#include "client/human_units.hpp"

#include <cmath>
#include <iterator>

#include <fmt/core.h>

namespace rsexec {

std::string iec_bytes(std::uint64_t bytes) {
    if (bytes < 1024) return fmt::format("{} B", bytes);
    static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    // Rounded to one decimal, a value must stay under 1024 ("1024.0 KiB" is "1.0 MiB").
    while (std::round(value * 10.0) >= 1024.0 * 10.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string iec_rate(double bytes_per_second) {
    if (!(bytes_per_second > 0) || !std::isfinite(bytes_per_second)) return "0 B/s";
    return iec_bytes(static_cast<std::uint64_t>(std::llround(bytes_per_second))) + "/s";
}

std::string short_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "--";
    const auto whole = static_cast<std::uint64_t>(std::llround(seconds));
    if (whole < 60) return fmt::format("{}s", whole);
    if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
    return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

} // namespace rsexec
