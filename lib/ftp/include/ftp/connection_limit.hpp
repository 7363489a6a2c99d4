#pragma once
// Whether a reply to a connection or login says the server is at its connection limit (for this
// client address or in all), rather than that the login is wrong: such a login is worth trying
// again once fewer connections are open.
#include <string_view>

namespace rsexec {

// RFC 959 4.2: 421 is "service not available, closing control connection", the reply servers
// give at the greeting when full (vsftpd, pure-ftpd, rsexecd). Some answer the login with 530
// instead, saying why in its text (ProFTPD: "Sorry, the maximum number of clients ...").
bool refuses_for_connection_limit(int reply_code, std::string_view text);

} // namespace rsexec
