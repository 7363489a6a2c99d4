#include "jobs/concurrency_controller.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace rsexec {

ConcurrencyController::ConcurrencyController(ConcurrencySettings settings, Clock::time_point now)
    : settings_(settings),
      target_(std::clamp(settings.initial, 1u, std::max(1u, settings.most))),
      most_(std::max(1u, settings.most)),
      changed_(now) {
    reason_ = fmt::format("starting with {} pairs (at most {})", target_, most_);
}

void ConcurrencyController::restart(Clock::time_point now) {
    measuring_since_ = now;
    count_ = 0;
}

void ConcurrencyController::change_to(unsigned target, Clock::time_point now, std::string reason) {
    reason_ = std::move(reason);
    if (target == target_) {
        restart(now);
        return;
    }
    target_ = target;
    changed_ = now;
    measuring_since_.reset();
    count_ = 0;
}

unsigned ConcurrencyController::affordable() const noexcept {
    if (!left_ || settings_.files_per_pair == 0) return most_;
    const std::size_t pairs = *left_ / settings_.files_per_pair;
    return static_cast<unsigned>(std::max<std::size_t>(target_, std::min<std::size_t>(pairs, most_)));
}

void ConcurrencyController::pairs_open(unsigned pairs, Clock::time_point now) {
    open_ = pairs;
    // New pairs spend their first round trips logging in: the measurement starts when they
    // all work (and removed ones have gone).
    if (!measuring_since_ && open_ == target_) restart(now);
}

bool ConcurrencyController::refused(unsigned open_pairs, Clock::time_point now) {
    ++refusals_;
    const unsigned cap = std::max(1u, open_pairs);
    most_ = std::min(most_, cap);
    phase_ = Phase::settled;
    best_rate_ = 0;  // the reference is measured again, at the count kept
    low_ = 0;
    probe_from_ = 0;
    if (target_ <= most_) return false;
    change_to(most_, now, fmt::format("a server refused a login for its connection limit with {} pairs open: "
                                      "{} pairs from now on",
                                      open_pairs, most_));
    return true;
}

bool ConcurrencyController::tick(Clock::time_point now) {
    if (!measuring_since_) {
        if (now - changed_ >= settings_.warmup_limit) restart(now);
        return false;
    }
    const auto elapsed = now - *measuring_since_;
    if (elapsed < settings_.shortest) return false;
    if (count_ < settings_.samples) {
        if (elapsed >= settings_.longest) restart(now);  // too few files to judge by
        return false;
    }
    const double rate = static_cast<double>(count_) / std::chrono::duration<double>(elapsed).count();
    last_rate_ = rate;
    const unsigned before = target_;
    if (phase_ == Phase::growing) {
        if (best_target_ != 0) {
            const double pairs_gain = static_cast<double>(target_) / best_target_;
            const double rate_gain = rate / best_rate_;
            if (rate_gain < 1.05) {
                // No gain worth its connections (or a loss): the best count measured it is.
                phase_ = Phase::settled;
                const unsigned best = best_target_;
                change_to(best, now, fmt::format("{} pairs made {:.0f} files/s, {} made {:.0f}: settled on {}",
                                                 target_, rate, best, best_rate_, best));
                return target_ != before;
            }
            // Gaining less than half as much as the pairs did: the servers start to bind.
            if (rate_gain < 1 + 0.5 * (pairs_gain - 1)) additive_ = true;
        }
        best_target_ = target_;
        best_rate_ = rate;
        const unsigned wanted = std::min(most_, additive_ ? target_ + std::max(1u, target_ / 4) : target_ * 2);
        unsigned next = std::min(wanted, affordable());
        // A step of less than a quarter more pairs measures no gain apart from the noise.
        if (next < wanted && next < target_ + std::max(1u, target_ / 4)) next = target_;
        if (next == target_ && wanted > target_) {
            phase_ = Phase::settled;
            change_to(target_, now, fmt::format("{} pairs made {:.0f} files/s: settled, {} files left are too few "
                                                "for more pairs' logins (at least {} a pair)",
                                                target_, rate, left_.value_or(0), settings_.files_per_pair));
            return false;
        }
        if (next == target_) {
            phase_ = Phase::settled;
            change_to(target_, now, fmt::format("{} pairs made {:.0f} files/s: settled at the most allowed ({})",
                                                target_, rate, most_));
            return false;
        }
        change_to(next, now, fmt::format("{} pairs made {:.0f} files/s: trying {}", target_, rate, next));
        return true;
    }
    // Settled: the reference follows the measurements at this count (a moving average).
    if (probe_from_ != 0) {
        // Fewer pairs were tried because files/s fell: kept only if they do better than the
        // fallen rate, else the count goes back (the servers slowed down by themselves).
        const unsigned from = probe_from_;
        const double fallen = probe_rate_;
        probe_from_ = 0;
        best_rate_ = rate;
        if (rate < 1.05 * fallen) {
            best_rate_ = fallen;
            change_to(from, now, fmt::format("{} pairs made {:.0f} files/s, no more than {} made: back to {}",
                                             target_, rate, from, from));
            return target_ != before;
        }
        restart(now);
        return false;
    }
    if (best_rate_ == 0) {
        best_rate_ = rate;
        low_ = 0;
        restart(now);
        return false;
    }
    if (rate < 0.75 * best_rate_ && target_ > 1 && ++low_ >= 2) {
        const unsigned next = target_ - std::max(1u, target_ / 4);
        const double reference = best_rate_;
        probe_from_ = target_;
        probe_rate_ = rate;
        low_ = 0;
        change_to(next, now, fmt::format("files/s fell from {:.0f} to {:.0f} with {} pairs: trying {}", reference,
                                         rate, target_, next));
        return true;
    }
    if (rate >= 0.75 * best_rate_) low_ = 0;
    best_rate_ = 0.7 * best_rate_ + 0.3 * rate;
    restart(now);
    return false;
}

} // namespace rsexec
