#pragma once
// ~/.netrc (as ftp(1), curl and lftp read it): "machine HOST login USER password PASS",
// "default" for any other host, "macdef" bodies skipped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftp/credentials.hpp"
#include "ftp/expected.hpp"
#include "ftp/url.hpp"

namespace rsexec {

struct NetrcEntry {
    std::string machine;  // empty for "default"
    std::string login;
    std::string password;
    std::string account;
};

class Netrc {
public:
    static Expected<Netrc> parse(std::string_view text);
    // Reads the file; refuses it (as ftp(1) does) when it holds passwords others can read.
    static Expected<Netrc> load(const std::string& path);

    // The entry for `host`, else the default entry.
    std::optional<NetrcEntry> find(std::string_view host) const;

private:
    std::vector<NetrcEntry> entries_;
};

// The login for a URL: its own user and password first, then the netrc entry for its host, then
// anonymous (RFC 1738 3.2.1).
Credentials credentials_for(const FtpUrl& url, const Netrc* netrc);

// Whether logging in to `url` needs a password that neither it nor `netrc` gives (a user other
// than anonymous/ftp, RFC 1738 3.2.1).
bool needs_password(const FtpUrl& url, const Netrc* netrc);

} // namespace rsexec
