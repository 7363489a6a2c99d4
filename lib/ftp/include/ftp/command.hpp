#pragma once
// Formatting commands for the control connection (RFC 959 4.1): "VERB arg\r\n".
#include <string>
#include <string_view>

#include "ftp/expected.hpp"

namespace rsexec {

// A verb is 1-8 ASCII letters and digits, starting with a letter; an argument may hold any byte but CR, LF and NUL, which would
// let a file name smuggle in a second command. Refused input is never sent.
Expected<std::string> format_command(std::string_view verb, std::string_view argument = {});

// The form of a command line that may be shown or logged: "PASS ****" for passwords.
std::string loggable_command(std::string_view line);

} // namespace rsexec
