// Errors as a run records and announces them: without the passwords a server may have quoted back
// (docs/SECURITY.md, "passwords echoed by a server").
#include "batch_state.hpp"

#include "ftp/password_redaction.hpp"

namespace rsexec {

std::string BatchRun::State::without_passwords(const JobItem& item, std::string text) const {
    std::vector<std::string> passwords;
    for (const FtpUrl* url : {&item.source, &item.destination}) {
        if (url->password) passwords.push_back(*url->password);
        if (url->user) passwords.push_back(credentials_for(*url, options.netrc).password);
    }
    return redact_passwords(std::move(text), passwords);
}

} // namespace rsexec
