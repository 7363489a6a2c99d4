#include "client/stall_watch.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/core.h>

#include "client/file_size.hpp"

namespace rsexec {
namespace {

double seconds_of(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

} // namespace

StallWatch::StallWatch(ControlSession& destination, std::string path, Clock::duration limit,
                       std::function<void(const std::string&)> notice, std::function<void(std::uint64_t)> progress,
                       SpareSlot slot)
    : destination_(destination), path_(std::move(path)), limit_(limit), notice_(std::move(notice)),
      progress_(std::move(progress)), slot_(std::move(slot)) {}

StallWatch::~StallWatch() {
    if (spare_) spare_->close();
    if (holding_slot_ && slot_.give_back) slot_.give_back();
}

asio::awaitable<StallWatch::Poll> StallWatch::poll() {
    const auto give_up_measuring = [&](const std::string& why) {
        measurable_ = false;
        if (notice_) notice_("no stall detection for this transfer: " + why);
    };
    if (spare_busy_) {
        // The last poll was cancelled halfway: its reply may still come, so the stream is unusable.
        spare_->close();
        spare_.reset();
        spare_busy_ = false;
    }
    if (!spare_) {
        const auto& login = destination_.login_used();
        if (!login) {
            give_up_measuring("no login to open a second connection with");
            co_return Poll::unmeasurable;
        }
        if (!holding_slot_ && slot_.take) {
            if (!slot_.take()) {
                give_up_measuring("no connection to " + std::string(side_name(destination_.side())) +
                                  " left for a second one (--max-per-host)");
                co_return Poll::unmeasurable;
            }
            holding_slot_ = true;
        }
        SessionOptions options = destination_.options();
        options.label = std::string(destination_.label()) + "/watch";
        spare_ = std::make_unique<ControlSession>(destination_.executor(), destination_.side(), std::move(options));
        spare_busy_ = true;
        auto opened = co_await spare_->open(login->host, login->port, login->credentials, login->implicit_tls);
        spare_busy_ = false;
        if (!opened) {
            spare_->close();
            spare_.reset();
            // Silence is what the watch looks for; a refusal (421 too many connections, a login
            // the server now refuses) only means it cannot look.
            if (opened.error().is(Errc::timeout)) co_return Poll::unanswered;
            if (opened.error().is(Errc::connect_failed) || opened.error().is(Errc::connection_closed))
                co_return Poll::unanswered;
            give_up_measuring("second connection to " + std::string(side_name(destination_.side())) +
                              " refused: " + opened.error().message);
            co_return Poll::unmeasurable;
        }
    }
    spare_busy_ = true;
    auto size = co_await size_of(*spare_, path_);
    spare_busy_ = false;
    if (!size) {
        if (size.error().is(Errc::permanent_reply) || size.error().is(Errc::transient_reply))
            co_return Poll::same; // not visible yet: nothing arrived
        spare_->close();
        spare_.reset();
        co_return Poll::unanswered;
    }
    if (!*size) {
        give_up_measuring(std::string(side_name(destination_.side())) + " does not answer SIZE");
        co_return Poll::unmeasurable;
    }
    const bool grew = **size > last_size_;
    if (grew) last_size_ = **size;
    // Every answer is progress to report, grown or not: the rate falls while the copy stands still.
    if (progress_) progress_(last_size_);
    co_return grew ? Poll::grew : Poll::same;
}

asio::awaitable<Error> StallWatch::watch() {
    auto executor = co_await asio::this_coro::executor;
    if (!last_progress_) {
        last_progress_ = Clock::now();
        next_poll_ = *last_progress_ + interval;
    }
    for (;;) {
        asio::steady_timer timer(executor, measurable_ ? next_poll_ : Clock::time_point::max());
        // Throws when the legs' reply that cancels the watch comes first; the caller expects that.
        co_await timer.async_wait(asio::use_awaitable);
        const auto outcome = co_await poll();
        auto cancellation = co_await asio::this_coro::cancellation_state;
        if (cancellation.cancelled() != asio::cancellation_type::none) co_return Error{};
        const auto now = Clock::now();
        // On a steady beat: a poll's own round trip does not push the next one later.
        next_poll_ = std::max(next_poll_ + interval, now + interval / 2);
        if (outcome == Poll::grew) last_progress_ = now;
        if (outcome == Poll::grew || outcome == Poll::unmeasurable || now - *last_progress_ < limit_) continue;
        const double quiet = seconds_of(now - *last_progress_);
        if (outcome == Poll::unanswered)
            co_return Error(Errc::timeout,
                            fmt::format("stall timeout: no answer for {:.1f} s while the data should be moving "
                                        "(the server stopped); transfer aborted", quiet),
                            destination_.side());
        co_return Error(Errc::timeout,
                        fmt::format("stall timeout: the copy at {} stayed at {} bytes for {:.1f} s (the source stopped "
                                    "sending); transfer aborted", side_name(destination_.side()), last_size_, quiet),
                        destination_.side() == Side::destination ? Side::source : Side::destination);
    }
}

asio::awaitable<void> StallWatch::close() {
    if (spare_ && !spare_busy_ && spare_->is_open()) {
        spare_busy_ = true;
        (void)co_await spare_->command("QUIT");
        spare_busy_ = false;
    }
    if (spare_) spare_->close();
    spare_.reset();
    if (holding_slot_ && slot_.give_back) slot_.give_back();
    holding_slot_ = false;
}

} // namespace rsexec
