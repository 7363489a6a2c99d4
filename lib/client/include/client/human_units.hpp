#pragma once
// Sizes, rates and durations as a person reads them on a progress line: IEC binary units
// (KiB = 1024 bytes, IEC 80000-13), one decimal; durations as 42s, 2m05s, 1h02m.
#include <cstdint>
#include <string>

namespace rsexec {

// "512 B", "1.0 KiB", "12.3 MiB", "1.5 GiB" ... "EiB"; never "1024.0 KiB".
std::string iec_bytes(std::uint64_t bytes);

// "12.3 MiB/s"; a negative or not-a-number rate reads as "0 B/s".
std::string iec_rate(double bytes_per_second);

// "0s", "42s", "2m05s", "1h02m", "27h46m"; negative or not finite: "--".
std::string short_duration(double seconds);

} // namespace rsexec
