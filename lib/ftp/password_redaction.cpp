#include "ftp/password_redaction.hpp"

#include <algorithm>

namespace rsexec {
namespace {

void replace_all(std::string& text, std::string_view secret) {
    if (secret.empty()) return;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + redacted_password.size()))
        text.replace(at, secret.size(), redacted_password);
}

// RFC 3986 3.2: the authority ends at '/', '?', '#'; text around a quoted URL ends it too.
bool ends_authority(char c) {
    return c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '>' ||
        c == ')' || c == ']' || c == ',' || c == ';' || c == '\r' || c == '\n';
}

void redact_userinfo(std::string& text) {
    for (auto scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
        const auto start = scheme + 3;
        auto end = start;
        while (end < text.size() && !ends_authority(text[end])) ++end;
        if (end == start) continue;
        // The last '@' ends the userinfo: a password may hold '@' unescaped in careless text.
        const auto at = text.rfind('@', end - 1);
        if (at == std::string::npos || at < start) continue;
        const auto colon = text.find(':', start);
        if (colon == std::string::npos || colon > at) continue;
        const std::string_view password(text.data() + colon + 1, at - colon - 1);
        if (password == redacted_password) continue;
        text.replace(colon + 1, at - colon - 1, redacted_password);
    }
}

} // namespace

std::string redact_passwords(std::string text, const std::vector<std::string>& passwords) {
    // Longer first: a password that holds a shorter one is taken out whole.
    std::vector<std::string> known = passwords;
    std::sort(known.begin(), known.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& password : known) replace_all(text, password);
    redact_userinfo(text);
    return text;
}

} // namespace rsexec
