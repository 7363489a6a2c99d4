#pragma once
// Passwords out of what a server wrote: some servers quote the login back in a refusal
// ("530 Login incorrect for user:secret") or a URL with its userinfo ("ftp://user:secret@host/").
// Whatever rsexec records or shows of a server's words (errors, events, journals, failed-item
// lists) goes through here first (docs/SECURITY.md, "passwords echoed by a server").
#include <string>
#include <string_view>
#include <vector>

namespace rsexec {

inline constexpr std::string_view redacted_password = "***";

// `text` with every occurrence of each non-empty known password, and the password of every URL's
// userinfo ("scheme://user:PASSWORD@"), replaced by redacted_password.
std::string redact_passwords(std::string text, const std::vector<std::string>& passwords);

} // namespace rsexec
