#pragma once
// rsexecd --users-file: the read-write logins, one "NAME:HASH" per line, HASH a crypt(3) hash as
// `openssl passwd -6` (SHA-512) or `-5` (SHA-256) writes it, or yescrypt ("$y$", mkpasswd).
// Lines starting with '#' and blank lines are skipped. A password in plain text, an unknown or
// weak hash method, a malformed line or a name given twice makes the whole file an error: a
// server that half-reads its logins is worse than one that refuses to start.
//
// parse_users_file() is pure (text in, entries and errors out); read_users_file() does the I/O.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "server/account.hpp"

namespace rsexec::server {

struct UsersFileEntry {
    std::size_t line = 0; // 1-based
    std::string name;
    std::string hash;
};

struct UsersFileError {
    std::size_t line = 0; // 1-based
    std::string message;  // never quotes the line: it may hold a password
};

struct UsersFileContents {
    std::vector<UsersFileEntry> entries;
    std::vector<UsersFileError> errors;
};

UsersFileContents parse_users_file(std::string_view text);

// The accounts of `path`, or every reason not to start ("FILE:3: ..."); `warnings` gets what is
// worth saying but no reason to stop (a file that group or others may read).
struct UsersFileResult {
    std::vector<Account> accounts;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};
UsersFileResult read_users_file(const std::filesystem::path& path);

} // namespace rsexec::server
