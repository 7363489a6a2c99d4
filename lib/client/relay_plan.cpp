#include "client/relay_plan.hpp"

namespace rsexec {

const char* relay_mode_name(RelayMode mode) noexcept {
    switch (mode) {
    case RelayMode::automatic: return "auto";
    case RelayMode::never: return "never";
    case RelayMode::always: return "always";
    }
    return "?";
}

std::optional<RelayMode> parse_relay_mode(std::string_view name) {
    for (auto mode : {RelayMode::automatic, RelayMode::never, RelayMode::always})
        if (name == relay_mode_name(mode)) return mode;
    return std::nullopt;
}

PumpKind choose_pump(const PumpInputs& inputs) noexcept {
    // TLS records must be decrypted and encrypted again, and a digest must see every byte.
    if (inputs.source_tls || inputs.destination_tls || inputs.digest || !inputs.splice_available)
        return PumpKind::buffered;
    return PumpKind::splice;
}

} // namespace rsexec
