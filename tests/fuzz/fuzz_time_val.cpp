// libFuzzer target: the time-val parser (RFC 3659 2.3) and MFMT's argument, as rsexecd reads them
// from any client, and the MDTM and MFMT replies rsexec reads from any server. What it accepts is
// a valid date and time that writes back to the same second; what it refuses quotes at most 40
// bytes of it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "require.hpp"

#include "ftp/reply.hpp"
#include "ftp/time_val.hpp"

namespace {

void check_time(const rsexec::TimeVal& time) {
    require(time.nanoseconds < 1'000'000'000u);
    const auto text = rsexec::format_time_val(time.seconds);
    require(text.has_value() && text->size() == 14);
    auto again = rsexec::parse_time_val(*text);
    require(again.has_value() && again->seconds == time.seconds && again->nanoseconds == 0 && !again->leap_second);
    if (time.leap_second) require(text->substr(8) == "235959");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto time = rsexec::parse_time_val(text);
    if (time) {
        require(text.size() >= 14);
        check_time(*time);
    } else {
        require(time.error().message.size() <= 200);
    }
    if (auto argument = rsexec::parse_mfmt_argument(text)) {
        require(!argument->path.empty());
        // The path is the argument's tail, after the time-val and one space.
        require(argument->path.data() > text.data() &&
                argument->path.data() + argument->path.size() == text.data() + text.size());
        check_time(argument->time);
        auto written = rsexec::format_mfmt_argument(argument->time, argument->path);
        require(written.has_value());
        auto reread = rsexec::parse_mfmt_argument(*written);
        require(reread.has_value() && reread->time.seconds == argument->time.seconds && reread->path == argument->path);
    }
    for (const char* prefix : {"", "Modify="}) {
        rsexec::Reply reply{213, {"213 " + std::string(prefix) + std::string(text)}};
        auto from_reply = *prefix ? rsexec::time_from_mfmt_reply(reply) : rsexec::time_from_mdtm_reply(reply);
        if (from_reply) check_time(*from_reply);
    }
    return 0;
}
