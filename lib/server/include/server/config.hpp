#pragma once
// What one rsexecd serves and to whom; app/rsexecd fills it from the command line.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <asio/ip/address.hpp>

#include "server/account.hpp"
#include "server/log.hpp"
#include "server/policy.hpp"
#include "server/tls.hpp"

namespace rsexec::server {

// Anonymous FTP (RFC 1635): USER anonymous or ftp, any password.
enum class AnonymousAccess { off, read_only, read_write };

struct ServerConfig {
    std::filesystem::path root;
    asio::ip::address bind_address = asio::ip::make_address("127.0.0.1");
    std::uint16_t port = 2121; // 0: an ephemeral port
    std::vector<Account> accounts; // read-write logins: --user, --users-file
    AnonymousAccess anonymous = AnonymousAccess::off;
    PeerPolicy data_peers;         // --fxp-peers
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
    std::chrono::milliseconds data_timeout{std::chrono::seconds(30)};
    std::chrono::milliseconds login_delay{std::chrono::seconds(1)}; // after each failed PASS
    unsigned max_login_failures = 3;  // then 421 and close
    std::size_t max_line = 4096;      // longer command lines get 500 and are dropped
    std::size_t max_per_ip = 50;      // concurrent control connections per client address
    std::size_t max_sessions = 256;   // concurrent control connections in all (421 beyond)
    std::uint64_t max_hash_size = std::uint64_t{8} << 30; // bytes one HASH may read (450 beyond)
    std::chrono::milliseconds login_timeout{std::chrono::seconds(30)}; // from connect to 230, or 421
    std::chrono::milliseconds line_timeout{std::chrono::seconds(10)};  // from a line's first byte to its LF
    LogLevel log_level = LogLevel::info;
    TlsSettings tls; // --tls-cert, --tls-key, --tls, --implicit-tls (RFC 4217)
};

} // namespace rsexec::server
