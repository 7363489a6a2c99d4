#pragma once
// The stall timeout: while both servers move data, neither control connection says anything
// until the end, so silence there proves nothing and the total time of a big file has no bound
// worth setting. What does prove progress is the destination's copy growing. The watch asks the
// destination for the copy's SIZE, on a second control connection with the same login (the
// first is busy with STOR), once a second whatever the timeout (each answer is also the
// transfer's progress, which a person or a script wants that often), and gives up when the size
// has not grown for `timeout`:
//   - the destination answers and the size stays put: the source stopped sending (or the data
//     connection between them hangs): the stall is named "src";
//   - the destination does not answer the spare connection at all: it is named "dst".
// Why SIZE on a spare connection rather than STAT on the busy ones: RFC 959 allows STAT during a
// transfer, and rsexecd answers it with the bytes so far, but many servers queue it until the
// transfer ends, and their late 213 would then be read as the answer to the next command. SIZE
// of a file being written works on every server that has SIZE. A server that refuses the spare
// login (too many connections) or SIZE turns the watch off, with a notice: the transfer then
// waits as long as the data moves, as it did before the watch existed.
// The watch costs nothing for short transfers: the spare connection opens at the first poll.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>

#include "client/control_session.hpp"

namespace rsexec {

// Who counts connections (a batch's --max-per-host) may deny the spare connection its slot.
struct SpareSlot {
    std::function<bool()> take;     // false: no slot free, the watch goes without
    std::function<void()> give_back;
};

class StallWatch {
public:
    StallWatch(ControlSession& destination, std::string path, Clock::duration limit,
               std::function<void(const std::string&)> notice,
               std::function<void(std::uint64_t)> progress = {}, SpareSlot slot = {});
    ~StallWatch();
    StallWatch(const StallWatch&) = delete;
    StallWatch& operator=(const StallWatch&) = delete;

    // Polls until the copy has not grown for the limit and returns that stall's error
    // (Errc::timeout, with the side). Meant to be raced against the legs' replies: cancelled
    // when one comes, and called again while the data still moves. The clock starts at the
    // first call. When progress cannot be measured it waits until cancelled.
    asio::awaitable<Error> watch();

    // QUIT on the spare connection, when one was opened.
    asio::awaitable<void> close();

private:
    enum class Poll { grew, same, unanswered, unmeasurable };
    asio::awaitable<Poll> poll();
    static constexpr Clock::duration interval = std::chrono::seconds(1);

    ControlSession& destination_;
    std::string path_;
    Clock::duration limit_;
    std::function<void(const std::string&)> notice_;
    std::function<void(std::uint64_t)> progress_;
    SpareSlot slot_;
    bool holding_slot_ = false;
    std::unique_ptr<ControlSession> spare_;
    bool spare_busy_ = false;  // a command was in flight when the last watch() was cancelled
    bool measurable_ = true;
    std::optional<Clock::time_point> last_progress_;
    Clock::time_point next_poll_{};
    std::uint64_t last_size_ = 0;
};

} // namespace rsexec
