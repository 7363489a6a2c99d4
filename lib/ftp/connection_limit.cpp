#include "ftp/connection_limit.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace rsexec {

bool refuses_for_connection_limit(int reply_code, std::string_view text) {
    if (reply_code == 421) return true;
    if (reply_code != 530) return false;
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (std::string_view says : {"too many", "maximum number", "connection limit", "max connections"})
        if (lower.find(says) != std::string::npos) return true;
    return false;
}

} // namespace rsexec
