#pragma once
// How `rsexec ls` prints one entry: its name (or path), the long form, or a JSON object.
#include <cstdint>
#include <string>

#include "client/directory_tree.hpp"

namespace rsexec::cli {

struct ListingStyle {
    bool long_form = false;    // -l
    bool human_sizes = false;  // -h
    bool json = false;         // --json
    bool paths = false;        // -R: the path relative to the root, not the name alone
};

// 1536 -> "1.5 KiB", 1023 -> "1023 B", 3 MiB -> "3.0 MiB", 20 GiB -> "20 GiB" (IEC 80000-13).
std::string iec_size(std::uint64_t bytes);

std::string format_listed_entry(const ListedEntry& listed, const ListingStyle& style);

} // namespace rsexec::cli
