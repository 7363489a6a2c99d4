#include "copy_sources.hpp"

#include <iostream>

#include <asio/io_context.hpp>
#include <fmt/core.h>

#include "batch_report.hpp"
#include "client/run.hpp"

namespace rsexec::cli {

int copy_sources(const SourcesRequest& request, const TransferSettings& settings) {
    const Netrc* netrc = settings.netrc ? &*settings.netrc : nullptr;
    asio::io_context io;
    auto plan = run_to_completion(io, plan_sources(request, settings.session, netrc));
    io.restart();
    if (!plan) return report_failure(plan.error());
    for (const auto& note : plan->notes) std::cerr << "rsexec copy: " << note << '\n';
    if (plan->items.empty()) {
        std::cout << fmt::format("nothing to copy ({} files up to date)\n", plan->up_to_date);
        return 0;
    }
    BatchOptions batch;
    batch.copy = settings.copy;
    batch.session = settings.session;
    batch.netrc = netrc;
    const std::size_t total = plan->items.size();
    return run_items(io, std::move(plan->items), std::move(batch), false, total);
}

} // namespace rsexec::cli
