#include "ftp/command.hpp"

#include <algorithm>
#include <cctype>

namespace rsexec {

Expected<std::string> format_command(std::string_view verb, std::string_view argument) {
    // Letters, then letters or digits: XSHA256 and XMD5 are verbs too.
    const bool verb_ok = !verb.empty() && verb.size() <= 8 && std::isalpha(static_cast<unsigned char>(verb[0])) &&
        std::all_of(verb.begin(), verb.end(), [](unsigned char c) { return std::isalnum(c); });
    if (!verb_ok) return Error(Errc::bad_command, "not an FTP verb: '" + std::string(verb.substr(0, 16)) + "'");
    if (argument.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        return Error(Errc::bad_command, std::string(verb) + " argument holds CR, LF or NUL");
    std::string line(verb);
    if (!argument.empty()) {
        line += ' ';
        line += argument;
    }
    line += "\r\n";
    return line;
}

std::string loggable_command(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const auto verb = line.substr(0, line.find(' '));
    std::string upper(verb);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // PASS carries the password, ACCT often a second secret.
    if (upper == "PASS" || upper == "ACCT") return std::string(verb) + " ****";
    return std::string(line);
}

} // namespace rsexec
