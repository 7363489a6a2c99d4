#pragma once
// What the command handlers (commands*.cpp) share: case folding, quoting, and the small checks
// several command families make. Private to lib/server.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <sys/stat.h>

#include "ftp/error.hpp"
#include "server/account.hpp"

namespace rsexec::server::command_helpers {

inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string upper(std::string_view text);

bool equals_nocase(std::string_view a, std::string_view b);

// RFC 959 Appendix II: a quote inside a quoted path name is doubled.
std::string quoted_path(std::string_view path);

// Runs on the login pool: a crypt(3) hash takes milliseconds (account.hpp).
asio::awaitable<bool> check_password(const std::vector<Account>& accounts, std::string name, std::string password);

bool is_anonymous_name(std::string_view name);

std::chrono::sys_seconds now_seconds();

// LIST and NLST arguments may start with ls options ("-la"), which are ignored.
std::string_view without_ls_options(std::string_view argument);

// Files are opened O_NONBLOCK so that a FIFO or device in the root cannot block the server;
// once fstat(2) showed a regular file, the flag goes (it means nothing there anyway).
bool regular_file(int fd, struct ::stat& st);

Error errno_error(const std::string& what);

} // namespace rsexec::server::command_helpers
