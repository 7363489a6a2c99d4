#include "ftp/overwrite.hpp"

#include "ftp/time_val.hpp"

namespace rsexec {
namespace {

OverwriteDecision skip(SkipReason reason) { return {OverwriteDecision::Action::skip, reason}; }
constexpr OverwriteDecision copy{};

bool sizes_equal(const OverwriteFacts& facts) {
    return facts.source.size && facts.destination.size && *facts.source.size == *facts.destination.size;
}

} // namespace

const char* overwrite_name(Overwrite policy) noexcept {
    switch (policy) {
    case Overwrite::always: return "always";
    case Overwrite::never: return "never";
    case Overwrite::if_different: return "if-different";
    case Overwrite::newer: return "newer";
    case Overwrite::different_or_newer: return "if-different-or-newer";
    }
    return "?";
}

std::optional<Overwrite> parse_overwrite(std::string_view name) {
    for (auto policy : {Overwrite::always, Overwrite::never, Overwrite::if_different, Overwrite::newer,
                        Overwrite::different_or_newer})
        if (name == overwrite_name(policy)) return policy;
    return std::nullopt;
}

const char* skip_reason_name(SkipReason reason) noexcept {
    switch (reason) {
    case SkipReason::exists: return "exists";
    case SkipReason::same_size: return "same-size";
    case SkipReason::same_checksum: return "same-checksum";
    case SkipReason::not_newer: return "not-newer";
    case SkipReason::up_to_date: return "up-to-date";
    }
    return "?";
}

const char* skip_explanation(SkipReason reason) noexcept {
    switch (reason) {
    case SkipReason::exists: return "the destination exists";
    case SkipReason::same_size: return "the destination has the same size";
    case SkipReason::same_checksum: return "the destination has the same size and checksum";
    case SkipReason::not_newer: return "the destination is not older than the source";
    case SkipReason::up_to_date: return "the destination has the same size and is not older";
    }
    return "?";
}

std::optional<bool> later_than(std::string_view a, std::string_view b) {
    const auto left = parse_time_val(a), right = parse_time_val(b);
    if (!left || !right) return std::nullopt;
    return left->seconds > right->seconds;
}

OverwriteDecision decide_overwrite(Overwrite policy, const OverwriteFacts& facts) {
    if (!facts.destination_exists) return copy;
    const auto source_newer = [&]() -> std::optional<bool> {
        if (!facts.source.modify || !facts.destination.modify) return std::nullopt;
        return later_than(*facts.source.modify, *facts.destination.modify);
    };
    switch (policy) {
    case Overwrite::always: return copy;
    case Overwrite::never: return skip(SkipReason::exists);
    case Overwrite::if_different:
        if (!sizes_equal(facts)) return copy;
        if (!facts.compare_digests) return skip(SkipReason::same_size);
        if (facts.source.digest && facts.destination.digest)
            return *facts.source.digest == *facts.destination.digest ? skip(SkipReason::same_checksum) : copy;
        if (!facts.digests_asked) return {OverwriteDecision::Action::ask_digests, std::nullopt};
        return copy;
    case Overwrite::newer: {
        const auto newer = source_newer();
        return newer.value_or(true) ? copy : skip(SkipReason::not_newer);
    }
    case Overwrite::different_or_newer:
        // Times that cannot be told leave the sizes to decide, as mirror always has.
        if (!sizes_equal(facts) || source_newer().value_or(false)) return copy;
        return skip(SkipReason::up_to_date);
    }
    return copy;
}

} // namespace rsexec
