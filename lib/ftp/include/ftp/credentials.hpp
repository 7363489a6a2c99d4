#pragma once
// Who logs in: USER, PASS and, when a server asks for it (RFC 959 5.4 reply 332), ACCT.
#include <string>

namespace rsexec {

struct Credentials {
    std::string user = "anonymous";
    std::string password = "rsexec@";
    std::string account;
};

} // namespace rsexec
