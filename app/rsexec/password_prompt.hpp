#pragma once
// The password for a URL that names a user when neither the URL nor .netrc gives one: asked on
// the terminal (/dev/tty) without echo, once per user@host:port for the run. Never when stdin is
// not a terminal (a script, a pipe, cron): then the URL is refused with the login exit code and
// the ways to give the password, instead of a login that can only fail.
#include <map>
#include <string>

#include "ftp/expected.hpp"
#include "ftp/netrc.hpp"
#include "ftp/url.hpp"

namespace rsexec::cli {

class PasswordPrompt {
public:
    explicit PasswordPrompt(const Netrc* netrc) : netrc_(netrc) {}
    // Gives `url` the password it needs (asking for it the first time its user@host:port comes);
    // does nothing when it needs none.
    Status complete(FtpUrl& url);

private:
    const Netrc* netrc_;
    std::map<std::string, std::string> asked_;  // by user@host:port
};

} // namespace rsexec::cli
