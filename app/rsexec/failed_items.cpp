#include "failed_items.hpp"

#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "transfer_options.hpp"

namespace rsexec::cli {
namespace {

// An error as one line of printable text: a server's multi-line reply must not start lines of its own.
std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
        // A server's reply may hold control characters (ESC...): not for a terminal to obey.
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return text;
}

nlohmann::json failed_json(const std::string& job, const std::vector<UnfinishedItem>& items) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : items) {
        // 0: not known (a mirror's item has no job-file line; an older rsexec kept no exit code).
        list.push_back({{"item", item.seq}, {"line", item.line ? nlohmann::json(item.line) : nlohmann::json()},
                        {"src", item.source}, {"dst", item.destination}, {"append", item.append},
                        {"attempts", item.attempts},
                        {"exit_code", item.exit_code ? nlohmann::json(item.exit_code) : nlohmann::json()},
                        {"error", item.last_error}, {"relay", item.relayed}});
    }
    return {{"job", job}, {"failed", items.size()}, {"items", list}};
}

} // namespace

int print_failed_items(Journal& journal, bool json) {
    auto unfinished = journal.unfinished_items();
    if (!unfinished) return report_failure(unfinished.error());
    std::vector<UnfinishedItem> failed;
    for (auto& item : *unfinished)
        if (item.state == ItemState::failed) failed.push_back(std::move(item));
    if (json) {
        std::cout << failed_json(journal.job(), failed).dump() << '\n';
        return 0;
    }
    std::cout << fmt::format("job {}: {} failed item{}\n", journal.job(), failed.size(), failed.size() == 1 ? "" : "s");
    for (const auto& item : failed) {
        std::cout << fmt::format("{} {} -> {}{}{}\n    exit {}, {} attempt{}: {}\n",
                                 item.line ? fmt::format("line {}:", item.line) : std::string("item:"), item.source,
                                 item.destination, item.append ? " append" : "", item.relayed ? " (relayed)" : "",
                                 item.exit_code ? std::to_string(item.exit_code) : std::string("?"), item.attempts,
                                 item.attempts == 1 ? "" : "s", one_line(item.last_error));
    }
    return 0;
}

} // namespace rsexec::cli
