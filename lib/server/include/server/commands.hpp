#pragma once
// The command table: each FTP verb, its handler, and the rules that apply before the handler
// runs (RFC 959 4.1 and 5.4): whether it needs an argument, whether it is allowed before login,
// and whether it is answered at once while a transfer runs (RFC 959 4.1.3: ABOR, STAT, NOOP).
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

namespace rsexec::server {

class Session;

enum class Argument { none, optional, required };

struct CommandSpec {
    std::string_view verb;
    asio::awaitable<void> (Session::*handler)(std::string argument);
    Argument argument;
    bool before_login;
    bool during_transfer;
};

// Case-insensitive (RFC 959 5.3); nullptr for a verb rsexecd does not implement (502).
const CommandSpec* find_command(std::string_view verb);

// The FEAT reply's feature lines (RFC 2389 3.2), without the leading space; `tls` adds the
// RFC 4217 ones and SSCN, CPSV.
const std::vector<std::string>& feature_lines(bool tls);

// PASV, EPSV, PORT, EPRT, LSTN, SOCK, CPSV: the verbs that set up a data connection (upper case).
bool sets_up_data_connection(std::string_view verb);

// With --tls required, the verbs answered on a clear control connection (before AUTH TLS).
bool allowed_in_clear(std::string_view verb);

} // namespace rsexec::server
