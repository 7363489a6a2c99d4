#include <doctest/doctest.h>

#include <string_view>

#include "ftp/address_refusal.hpp"
#include "ftp/reply_parser.hpp"

using namespace rsexec;

namespace {
Reply parse(std::string_view wire) {
    ReplyParser parser;
    parser.feed(wire);
    REQUIRE(parser.ready());
    return parser.take();
}
} // namespace

TEST_CASE("the servers' own refusals of the other server's address are address refusals") {
    // As the servers send them (docs/INTEROP.md, "Who allows what"; their sources for the rest).
    const std::string_view refusals[] = {
        "425 Security: Bad IP connecting.\r\n",                                    // vsftpd 3.0.3
        "500 Illegal PORT command.\r\n",                                           // vsftpd
        "500 Illegal EPRT command.\r\n",                                           // vsftpd
        "500 Illegal PORT command\r\n",                                            // proftpd 1.3.8
        "425 Unable to build data connection: Operation not permitted\r\n",        // proftpd
        "500 I won't open a connection to 127.0.6.13 (only to 127.0.0.1)\r\n",     // pure-ftpd 1.0.50
        "425 Rejected data connection from foreign address 127.0.6.13:40001.\r\n", // pyftpdlib 1.5.7
        "501 Rejected data connection to foreign address 127.0.6.13:40001.\r\n",   // pyftpdlib
        "504 EPRT refused: that host is not the client and not in --fxp-peers\r\n",  // rsexecd
        "550 Remote addresses do not match\r\n",
        "425 Data connection refused: foreign address 10.0.0.2\r\n",
        "550-Refused PORT 127,0,6,13,97,159 (address mismatch)\r\n550 Sorry\r\n",
    };
    for (const auto wire : refusals) {
        CAPTURE(wire);
        CHECK(refuses_peer_address(parse(wire)));
    }
}

TEST_CASE("other refusals, and positive replies that name a foreign address, are not") {
    const std::string_view others[] = {
        "425 Can't open data connection.\r\n",
        "425 Cannot open data connection: Connection refused\r\n",
        "426 Failure writing network stream.\r\n",
        "550 No such file or directory\r\n",
        "550 x.bin: Operation not permitted\r\n",  // a file's EPERM
        "553 Could not create file.\r\n",
        "530 Please login with USER and PASS.\r\n",
        "500 Unknown command.\r\n",
        // pure-ftpd -w: FXP allowed, and it says so.
        "200-FXP transfer: from 127.0.0.1 to 127.0.6.13\r\n200 PORT command successful\r\n",
        "150 Established data connection with foreign address 127.0.6.13:40001.\r\n",
        "226 Transfer complete.\r\n",
    };
    for (const auto wire : others) {
        CAPTURE(wire);
        CHECK_FALSE(refuses_peer_address(parse(wire)));
    }
}
