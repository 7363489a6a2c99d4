#pragma once
// How often a terminal's status line is redrawn: at most 10 times a second however many events
// come (a batch of small files finishes hundreds a second), and at least once a second, which
// the caller's ticker asks for even when nothing happened (the rate and time left move anyway).
#include <optional>

#include "ftp/deadline.hpp"

namespace rsexec {

class ProgressPace {
public:
    static constexpr Clock::duration shortest = std::chrono::milliseconds(100);
    static constexpr Clock::duration longest = std::chrono::seconds(1);
    // The ticker's period: within `longest`, and leaving room for a late wake-up.
    static constexpr Clock::duration tick = std::chrono::milliseconds(250);

    // Whether a redraw at `now` keeps within 10 a second; when it does, it counts as drawn.
    bool draw_now(Clock::time_point now) {
        if (last_ && now - *last_ < shortest) return false;
        last_ = now;
        return true;
    }
    // Whether the line must be redrawn now (or was never drawn): a ticker that asks every `tick`
    // then redraws it within `longest` of the last time.
    bool overdue(Clock::time_point now) const { return !last_ || now - *last_ >= longest - tick; }

private:
    std::optional<Clock::time_point> last_;
};

} // namespace rsexec
