#pragma once
// Times as FTP writes them. RFC 3659 2.3: time-val = 14DIGIT [ "." 1*DIGIT ], in UTC and the
// Gregorian calendar: YYYYMMDDHHMMSS with years 1000 to 9999, months 01-12, days 01-31 (as the
// month has them), hours 00-23, minutes 00-59 and seconds 00-60, 60 only at a leap second.
// MDTM answers one ("213 20240102030405", RFC 3659 3), MLSD's modify fact holds one, and MFMT
// (draft-somers-ftp-mfxx-04 3) sets a file's modification time from one:
//     MFMT 20240102030405 dir/name    ->    213 Modify=20240102030405; dir/name
// the reply naming the time the server did set (it may drop a fraction), 501 for a time-val it
// cannot read and 550 for a file it cannot change.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ftp/expected.hpp"
#include "ftp/reply.hpp"

namespace rsexec {

struct TimeVal {
    // POSIX time has no leap second: 23:59:60 is held as 23:59:59, the last second it can name
    // on that day (leap_second says it was given).
    std::chrono::sys_seconds seconds{};
    std::uint32_t nanoseconds = 0;  // the fraction, to the nanosecond (finer digits are dropped)
    bool leap_second = false;
};

// Exactly a time-val: no sign, space or other byte around it; a bad field is an error naming it.
Expected<TimeVal> parse_time_val(std::string_view text);

// "YYYYMMDDHHMMSS" (whole seconds, UTC); nullopt for a time outside the years 1000 to 9999,
// which a time-val cannot write.
std::optional<std::string> format_time_val(std::chrono::sys_seconds time);

// MDTM's 213 reply (RFC 3659 3.2): the file's modification time.
Expected<TimeVal> time_from_mdtm_reply(const Reply& reply);

// MFMT's argument (draft-somers-ftp-mfxx-04 3.1): "time-val SP pathname"; the pathname may hold
// spaces and must not be empty.
struct MfmtArgument {
    TimeVal time;
    std::string_view path;
};
Expected<MfmtArgument> parse_mfmt_argument(std::string_view argument);
// "YYYYMMDDHHMMSS path": whole seconds, as MDTM and MLSD show a time back (a server may refuse a
// fraction, and one it would keep could make the copy look newer than its source); nullopt for
// a time format_time_val cannot write.
std::optional<std::string> format_mfmt_argument(const TimeVal& time, std::string_view path);

// MFMT's 213 reply: "Modify=time-val; pathname", the time the server set (draft 3.2).
Expected<TimeVal> time_from_mfmt_reply(const Reply& reply);

} // namespace rsexec
