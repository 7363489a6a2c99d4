#pragma once
// A read-write login of rsexecd and how a PASS is checked against it: --user gives the password
// itself, --users-file a crypt(3) hash (users_file.hpp).
#include <string>
#include <string_view>
#include <vector>

namespace rsexec::server {

struct Account {
    std::string name;
    std::string password; // --user NAME:PASSWORD; empty when `hash` is set
    std::string hash;     // --users-file: "$6$salt$...", "$5$...", "$y$..."
};

// Whether `password` logs in as `name`. Comparisons run in constant time (CRYPTO_memcmp), and a
// name no account has costs one crypt(3) all the same, so the time taken tells neither how much
// of a password matched nor which names exist. crypt(3) takes milliseconds (yescrypt: ~100 ms):
// call it off the I/O thread.
bool check_login(const std::vector<Account>& accounts, std::string_view name, std::string_view password);

// crypt(3) of `password` with the method and salt of `hash` equals `hash` (constant time).
bool matches_crypt_hash(std::string_view password, const std::string& hash);

// Whether this libcrypt can check hashes made with `hash`'s method (crypt_checksalt(3)).
bool crypt_method_available(const std::string& hash);

} // namespace rsexec::server
