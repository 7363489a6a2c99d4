#include "client/progress_line.hpp"

#include <cmath>

#include <fmt/core.h>

#include "client/human_units.hpp"

namespace rsexec {
namespace {

// Whole percents, rounded down: "100%" only once every byte is there.
std::string percent_text(double percent) { return fmt::format("{:.0f}%", std::floor(percent)); }

std::string eta_text(const std::optional<double>& eta) { return "ETA " + (eta ? short_duration(*eta) : "--"); }

} // namespace

std::string transfer_line(const TransferProgress& progress) {
    std::string line = iec_bytes(progress.bytes);
    if (progress.total) line += " / " + iec_bytes(*progress.total);
    if (auto percent = progress.percent()) line += "  " + percent_text(*percent);
    line += "  " + iec_rate(progress.rate) + "  " + eta_text(progress.eta);
    return line;
}

std::string batch_status_line(const BatchStatus& status) {
    std::string line = fmt::format("[{}/{} files  {}", status.files_done, status.files_total, iec_bytes(status.bytes));
    if (status.bytes_total)
        line += " / " + std::string(status.bytes_total_estimated ? "~" : "") + iec_bytes(*status.bytes_total);
    line += "  " + iec_rate(status.rate) + "  " + eta_text(status.eta) + "]";
    if (status.current) {
        line += "  " + status.current->name + " " + iec_bytes(status.current->bytes);
        if (status.current->percent) line += " " + percent_text(*status.current->percent);
    }
    return line;
}

std::string fit_to_width(std::string line, std::size_t columns) {
    if (columns == 0 || line.size() < columns) return line;
    // One column short of the width: a line that fills it would wrap on some terminals.
    line.resize(columns - 1);
    // Not in the middle of a UTF-8 sequence (a file name's): its continuation bytes are 10xxxxxx.
    while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) line.pop_back();
    if (!line.empty() && static_cast<unsigned char>(line.back()) >= 0xC0) line.pop_back();
    return line;
}

} // namespace rsexec
