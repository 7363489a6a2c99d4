#pragma once
// A server's refusal of the other server's address: its data connection must come from (or go to)
// the client's own address, so server-to-server transfer is off on it. Whether that refusal comes
// at PORT/EPRT or only as the reply to RETR/STOR once the foreign data connection arrived, it is
// the pairing that failed, not the file: another pairing (the roles swapped) may work, and when
// none does the copy ends as a pairing refusal (exit 7), never as the source's or destination's
// error (exit 5/6) nor as a failed transfer (exit 8).
#include "ftp/reply.hpp"

namespace rsexec {

// Whether `reply` is a negative reply (4yz/5yz) that refuses a data connection because of the
// peer's address. The wording of the servers met in the field:
//   vsftpd     "425 Security: Bad IP connecting."  "500 Illegal PORT command."
//   proftpd    "500 Illegal PORT command"  "425 Unable to build data connection: Operation not permitted"
//              after its "SECURITY VIOLATION: Passive connection from foreign IP address"
//   pure-ftpd  "500 I won't open a connection to 127.0.6.13 (only to 127.0.0.1)"
//   pyftpdlib  "425 Rejected data connection from foreign address 127.0.6.13:40001."
//              "501 Rejected data connection to foreign address 127.0.6.13:40001."
//   rsexecd    "504 EPRT refused: that host is not the client and not in --fxp-peers"
//   others     "550 Remote addresses do not match"
bool refuses_peer_address(const Reply& reply);

} // namespace rsexec
