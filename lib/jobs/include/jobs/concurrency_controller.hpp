#pragma once
// How many session pairs a batch keeps at work under -j auto. Pure logic, fed events with their
// times: files finished, pairs logged in, logins a server refused for its connection limit.
//
// Between servers without block mode every file costs a round trip on its pair, so files/s grows
// with the pairs until the servers' CPU or connection limits bind. The controller starts with a
// few pairs and doubles them while files/s grows by at least half as much as the pairs did; a
// smaller gain adds a quarter more; no gain (or a loss) settles on the best count measured. A
// login refused for the server's connection limit caps the pairs at those logged in then. Once
// settled, files/s falling by a quarter (twice in a row, against a moving average) tries a
// quarter fewer pairs, kept only if they do better than the fallen rate.
//
// A pair costs two logins before its first file: on a server that forks and checks a password
// hash per session (vsftpd with PAM: about 40 ms of CPU a login on a 2-core machine, as much as
// ~150 small files), pairs added for the last few files cost more than they gain. So the pairs
// never grow beyond one per `files_per_pair` files left to do.
#include <cstddef>
#include <optional>
#include <string>

#include "ftp/deadline.hpp"  // Clock

namespace rsexec {

struct ConcurrencySettings {
    unsigned initial = 4;   // pairs to start with
    unsigned most = 32;     // never more (--max-per-host, or this default)
    // A measurement starts once every pair asked for is logged in (or `warmup_limit` after the
    // change, when some never are), and lasts at least `shortest` and `samples` files; one that
    // reaches `longest` with fewer files decides nothing (files too large to count).
    Clock::duration shortest = std::chrono::milliseconds(250);
    Clock::duration longest = std::chrono::seconds(5);
    Clock::duration warmup_limit = std::chrono::seconds(1);
    std::size_t samples = 8;
    // Growing, at most one pair per this many files left (items_left): each pair's logins are
    // paid back over its files.
    std::size_t files_per_pair = 32;
};

class ConcurrencyController {
public:
    enum class Phase { growing, settled };

    ConcurrencyController(ConcurrencySettings settings, Clock::time_point now);

    unsigned target() const noexcept { return target_; }
    Phase phase() const noexcept { return phase_; }
    unsigned ceiling() const noexcept { return most_; }
    unsigned refusals() const noexcept { return refusals_; }
    // Files/s of the last measurement (0 before the first).
    double last_rate() const noexcept { return last_rate_; }
    // Why the target last changed, in words (-v prints it).
    const std::string& reason() const noexcept { return reason_; }

    // Items finished (done, kept, failed for good): the throughput counted.
    void completed(std::size_t items = 1) noexcept { count_ += items; }
    // How many pairs are logged in now.
    void pairs_open(unsigned pairs, Clock::time_point now);
    // How many items are still to be done (not yet started or running): bounds the growth.
    void items_left(std::size_t items) noexcept { left_ = items; }
    // A server refused a login for its connection limit while `open_pairs` pairs held a session
    // to it: never more pairs than that from now on.
    // Returns whether target() changed.
    bool refused(unsigned open_pairs, Clock::time_point now);
    // Called on a timer: ends the measurement when it is due. Returns whether target() changed.
    bool tick(Clock::time_point now);

private:
    void change_to(unsigned target, Clock::time_point now, std::string reason);
    void restart(Clock::time_point now);
    // The most pairs the files left pay the logins of (never fewer than the target now).
    unsigned affordable() const noexcept;

    ConcurrencySettings settings_;
    unsigned target_;
    unsigned most_;
    Phase phase_ = Phase::growing;
    bool additive_ = false;  // growth slowed to a quarter at a time
    // The best measurement so far (growing), or the settled count's (settled).
    unsigned best_target_ = 0;
    double best_rate_ = 0;
    unsigned open_ = 0;
    std::optional<std::size_t> left_;  // items still to do, when told
    unsigned low_ = 0;  // settled: measurements in a row a quarter below the reference
    // Settled, trying fewer pairs after files/s fell: the count and the rate it fell to.
    unsigned probe_from_ = 0;
    double probe_rate_ = 0;
    Clock::time_point changed_;  // when the target last changed
    std::optional<Clock::time_point> measuring_since_;
    std::size_t count_ = 0;     // items finished since the measurement started
    unsigned refusals_ = 0;
    double last_rate_ = 0;
    std::string reason_;
};

} // namespace rsexec
