#include "dry_run.hpp"

#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "client/control_session.hpp"
#include "ftp/exit_code.hpp"
#include "client/directory_destination.hpp"
#include "client/file_size.hpp"
#include "client/overwrite_check.hpp"
#include "client/url_copy.hpp"

namespace rsexec::cli {

std::string PairDialect::describe() const {
    if (local) return local;
    if (error) return "unreachable: " + error->describe();
    if (!attempt) return "none";
    return fmt::format("{} with {} listening", dialect_name(attempt->dialect), side_name(attempt->listener));
}

PairDialect dialect_of(const Features& source, const Features& destination, const TransferSettings& settings,
                       bool ipv6) {
    const auto plan = pairing_plan(source, destination, settings.copy.passive, settings.copy.dialect, ipv6);
    PairDialect pair;
    if (!plan.empty()) pair.attempt = plan.front();
    return pair;
}

asio::awaitable<PairDialect> probe_pair(const JobItem& item, const TransferSettings& settings) {
    if (item.source.is_local() || item.destination.is_local()) {
        PairDialect local;
        local.local = item.source.is_local() ? "upload" : "download";
        co_return local;
    }
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    ControlSession src(executor, Side::source, settings.session);
    ControlSession dst(executor, Side::destination, settings.session);
    auto a = co_await src.open(item.source.host, item.source.port, credentials_for(item.source, netrc),
                               item.source.implicit_tls());
    // Not `a ? co_await ... : ...`: GCC 12 destroys a co_await result inside ?: twice.
    Status b = success();
    if (a) b = co_await dst.open(item.destination.host, item.destination.port, credentials_for(item.destination, netrc),
                                 item.destination.implicit_tls());
    PairDialect pair;
    if (!a || !b) {
        pair.error = !a ? a.error() : b.error();
    } else {
        pair = dialect_of(src.features(), dst.features(), settings,
                          src.peer_address().is_v6() || dst.peer_address().is_v6());
    }
    for (ControlSession* s : {&src, &dst}) {
        if (s->is_open()) co_await s->command("QUIT");
        s->close();
    }
    co_return pair;
}

asio::awaitable<Expected<std::optional<SkipReason>>> overwrite_skip(const JobItem& item, const TransferSettings& settings,
                                                                    Overwrite policy) {
    auto executor = co_await asio::this_coro::executor;
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    ControlSession src(executor, Side::source, settings.session);
    ControlSession dst(executor, Side::destination, settings.session);
    const auto decide = [&]() -> asio::awaitable<Expected<std::optional<SkipReason>>> {
        if (auto a = co_await src.open(item.source.host, item.source.port, credentials_for(item.source, netrc),
                                       item.source.implicit_tls());
            !a)
            co_return a.error();
        if (auto b = co_await dst.open(item.destination.host, item.destination.port,
                                       credentials_for(item.destination, netrc), item.destination.implicit_tls());
            !b)
            co_return b.error();
        auto target = destination_path(item.source, item.destination);
        if (!target) co_return target.error();
        std::optional<std::uint64_t> size;
        if (!item.destination.names_directory()) {
            auto placed = co_await place_in_directory(src, item.source.path, dst, *target);
            if (!placed) co_return placed.error();
            size = placed->source_size;
            *target = placed->destination_path;
        } else {
            auto asked = co_await size_of(src, item.source.path);
            if (!asked) co_return asked.error();
            size = *asked;
        }
        std::optional<ChecksumPlan> checksum;
        if (settings.copy.verify == Verify::checksum || settings.copy.verify == Verify::checksum_if_available)
            checksum = choose_checksum(src.features(), dst.features());
        auto decision = co_await check_overwrite(src, dst, item.source.path, *target, size, policy, checksum);
        if (!decision) co_return decision.error();
        co_return decision->reason;
    };
    auto skip = co_await decide();
    for (ControlSession* s : {&src, &dst}) {
        if (s->is_open()) co_await s->command("QUIT");
        s->close();
    }
    co_return skip;
}

Expected<std::unique_ptr<Journal>> existing_journal(const JournalSettings& settings, const std::string& default_where,
                                                    const std::string& default_job) {
    const std::string where = settings.where.value_or(default_where);
    if (settings.none || where.empty()) return std::unique_ptr<Journal>();
    if (!is_postgresql_uri(where) && ::access(where.c_str(), F_OK) != 0) return std::unique_ptr<Journal>();
    return open_journal_from(settings, default_where, default_job);
}

Expected<std::set<std::string>> done_in_journal(const JournalSettings& settings, const std::string& default_where,
                                                const std::string& default_job, const std::vector<JobItem>& items) {
    auto journal = existing_journal(settings, default_where, default_job);
    if (!journal) return journal.error();
    if (!*journal) return std::set<std::string>{};
    std::vector<std::string> keys;
    for (const auto& item : items) keys.push_back(journal_key(item));
    auto done = (*journal)->done_among(keys);
    if (!done) return done.error();
    std::set<std::string> found;
    for (const auto position : *done) found.insert(std::move(keys[position]));
    return found;
}

void PlanReport::copy(std::size_t index, const JobItem& item, const PairDialect* dialect, const char* skip_reason,
                      const char* explanation) {
    if (skip_reason) ++skipped_;
    else ++planned_;
    if (json_) {
        nlohmann::json out{{"event", "plan"}, {"action", "copy"}, {"item", index}, {"src", item.source.display()},
                           {"dst", item.destination.display()}};
        if (item.line) out["line"] = item.line;
        if (item.append) out["append"] = true;
        if (dialect && dialect->local) {
            out["dialect"] = nullptr;
            out["local"] = dialect->local;
        } else if (dialect && dialect->attempt) {
            out["dialect"] = dialect_name(dialect->attempt->dialect);
            out["listener"] = side_name(dialect->attempt->listener);
        } else if (dialect && dialect->error) {
            out["error"] = dialect->error->describe();
            out["exit_code"] = static_cast<int>(exit_code_for(*dialect->error));
        } else if (dialect) {
            out["dialect"] = nullptr;
        }
        if (skip_reason) out["skip"] = skip_reason;
        std::cout << out.dump() << '\n';
        return;
    }
    std::cout << fmt::format("{}copy   {} -> {}{}", item.line ? fmt::format("line {}: ", item.line) : std::string(),
                             item.source.display(), item.destination.display(), item.append ? " (append)" : "");
    if (skip_reason) std::cout << " (skipped: " << explanation << ")\n";
    else std::cout << (dialect ? " (" + dialect->describe() + ")" : std::string()) << '\n';
}

void PlanReport::kept(const JobItem& item, SkipReason reason) {
    if (json_) {
        std::cout << nlohmann::json{{"event", "plan"}, {"action", "copy"}, {"src", item.source.display()},
                                    {"dst", item.destination.display()}, {"skip", skip_reason_name(reason)}}.dump()
                  << '\n';
        return;
    }
    std::cout << fmt::format("copy   {} -> {} (skipped: {})\n", item.source.display(), item.destination.display(),
                             skip_explanation(reason));
}

void PlanReport::make_directory(const FtpUrl& directory) {
    ++made_;
    if (json_)
        std::cout << nlohmann::json{{"event", "plan"}, {"action", "make"}, {"dst", directory.display()},
                                    {"directory", true}}.dump() << '\n';
    else std::cout << "make   " << directory.display() << "/\n";
}

void PlanReport::remove(const FtpUrl& path, bool directory) {
    ++removed_;
    if (json_) {
        nlohmann::json out{{"event", "plan"}, {"action", "delete"}, {"dst", path.display()}};
        if (directory) out["directory"] = true;
        std::cout << out.dump() << '\n';
    } else {
        std::cout << "delete " << path.display() << (directory ? "/" : "") << '\n';
    }
}

void PlanReport::summary(std::optional<std::size_t> up_to_date) {
    if (json_) {
        nlohmann::json out{{"event", "summary"}, {"dry_run", true}, {"planned", planned_}, {"skipped", skipped_},
                           {"make", made_}, {"delete", removed_}};
        if (up_to_date) out["up_to_date"] = *up_to_date;
        std::cout << out.dump() << '\n';
        return;
    }
    std::cout << fmt::format("dry run: {} to copy, {} skipped (done in the journal, or kept by --overwrite)", planned_,
                             skipped_);
    if (up_to_date) std::cout << fmt::format(", {} up to date, {} to make, {} to delete", *up_to_date, made_, removed_);
    std::cout << '\n';
}

} // namespace rsexec::cli
