#include "ftp/time_val.hpp"

#include <cctype>

namespace rsexec {
namespace {

using namespace std::chrono;

Error bad_time(std::string_view text, const std::string& why) {
    return Error(Errc::malformed_reply, "not a time-val (YYYYMMDDHHMMSS[.sss], UTC): '" +
                                            std::string(text.substr(0, 40)) + "': " + why);
}

bool all_digits(std::string_view text) {
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return !text.empty();
}

// `text` holds only digits (checked by the caller).
int number(std::string_view text) {
    int value = 0;
    for (char c : text) value = value * 10 + (c - '0');
    return value;
}

void append_digits(std::string& out, int value, int width) {
    std::string digits(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0 && value > 0; --i, value /= 10)
        digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    out += digits;
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    return text;
}

} // namespace

Expected<TimeVal> parse_time_val(std::string_view text) {
    const auto dot = text.find('.');
    const auto whole = text.substr(0, dot);
    if (whole.size() != 14 || !all_digits(whole)) return bad_time(text, "it must start with 14 digits");
    const int y = number(whole.substr(0, 4));
    const int mo = number(whole.substr(4, 2));
    const int d = number(whole.substr(6, 2));
    const int h = number(whole.substr(8, 2));
    const int mi = number(whole.substr(10, 2));
    int s = number(whole.substr(12, 2));
    if (y < 1000) return bad_time(text, "the year must be 1000 to 9999");
    if (mo < 1 || mo > 12) return bad_time(text, "the month must be 01 to 12");
    const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) return bad_time(text, "that month has no day " + std::string(whole.substr(6, 2)));
    if (h > 23) return bad_time(text, "the hour must be 00 to 23");
    if (mi > 59) return bad_time(text, "the minute must be 00 to 59");
    TimeVal time;
    if (s == 60) {
        // RFC 3659 2.3: 60 "only at a leap second", which is inserted as the last second of a
        // month (ITU-R TF.460: preferably June or December), after 23:59:59.
        const year_month_day last{year_month_day_last{year{y}, month_day_last{month{static_cast<unsigned>(mo)}}}};
        if (h != 23 || mi != 59 || date != last)
            return bad_time(text, "second 60 is a leap second, only at 23:59 on the last day of a month");
        time.leap_second = true;
        s = 59;
    } else if (s > 60) {
        return bad_time(text, "the second must be 00 to 59 (60 at a leap second)");
    }
    if (dot != std::string_view::npos) {
        const auto fraction = text.substr(dot + 1);
        if (!all_digits(fraction)) return bad_time(text, "a '.' must be followed by digits only");
        // Nanoseconds: the first nine digits, padded; finer ones are below what a file keeps.
        std::uint32_t nanoseconds = 0;
        for (std::size_t i = 0; i < 9; ++i)
            nanoseconds = nanoseconds * 10 + (i < fraction.size() ? static_cast<std::uint32_t>(fraction[i] - '0') : 0);
        time.nanoseconds = nanoseconds;
    }
    time.seconds = sys_days{date} + hours{h} + minutes{mi} + seconds{s};
    return time;
}

std::optional<std::string> format_time_val(sys_seconds time) {
    const auto day_start = floor<days>(time);
    const year_month_day date{day_start};
    const int y = static_cast<int>(date.year());
    if (y < 1000 || y > 9999) return std::nullopt;
    const hh_mm_ss clock{time - day_start};
    std::string out;
    out.reserve(14);
    append_digits(out, y, 4);
    append_digits(out, static_cast<int>(static_cast<unsigned>(date.month())), 2);
    append_digits(out, static_cast<int>(static_cast<unsigned>(date.day())), 2);
    append_digits(out, static_cast<int>(clock.hours().count()), 2);
    append_digits(out, static_cast<int>(clock.minutes().count()), 2);
    append_digits(out, static_cast<int>(clock.seconds().count()), 2);
    return out;
}

Expected<TimeVal> time_from_mdtm_reply(const Reply& reply) {
    if (reply.code != 213)
        return Error(Errc::unexpected_reply, "MDTM answered " + std::to_string(reply.code) + ", not 213", Side::none,
                     reply.code);
    return parse_time_val(trimmed(reply.message()));
}

Expected<MfmtArgument> parse_mfmt_argument(std::string_view argument) {
    const auto space = argument.find(' ');
    if (space == std::string_view::npos || space + 1 >= argument.size())
        return Error(Errc::bad_command, "MFMT needs a time-val and a path: MFMT YYYYMMDDHHMMSS path");
    auto time = parse_time_val(argument.substr(0, space));
    if (!time) return time.error();
    return MfmtArgument{*time, argument.substr(space + 1)};
}

std::optional<std::string> format_mfmt_argument(const TimeVal& time, std::string_view path) {
    auto text = format_time_val(time.seconds);
    if (!text) return std::nullopt;
    return *text + " " + std::string(path);
}

Expected<TimeVal> time_from_mfmt_reply(const Reply& reply) {
    if (reply.code != 213)
        return Error(Errc::unexpected_reply, "MFMT answered " + std::to_string(reply.code) + ", not 213", Side::none,
                     reply.code);
    const std::string message = reply.message();
    std::string_view text = trimmed(message);
    constexpr std::string_view fact = "modify=";
    if (text.size() < fact.size()) return bad_time(text, "MFMT's reply holds no Modify= fact");
    for (std::size_t i = 0; i < fact.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != fact[i])
            return bad_time(text, "MFMT's reply holds no Modify= fact");
    text.remove_prefix(fact.size());
    return parse_time_val(text.substr(0, text.find(';')));
}

} // namespace rsexec
